"""Reading ``exceptions.yaml``: the YAML file as plain data for ``register.validate``.

YAML 1.1 (PyYAML's dialect) would read ``expires: 2026-9-1`` as a date, and ``2026-09-01`` as a
``datetime.date``; the register's contract wants the text ``YYYY-MM-DD`` and a one-line refusal of
anything else, so this loader resolves no timestamps: every date arrives as the text the reviewer
wrote. A key given twice in one mapping (a second ``expires:`` pasted under the first) is refused
rather than silently keeping the last one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any, Optional

import yaml

from lib.exceptions.register import Register, RegisterError, validate

# The file at the repository root (docs/report-format.md, "Exceptions (schema 1.1)").
DEFAULT_FILE = "exceptions.yaml"


class _Loader(yaml.SafeLoader):
    """SafeLoader without the implicit timestamp type, refusing duplicate keys."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} given twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _mapping(loader: _Loader, node: yaml.Node) -> dict[Any, Any]:
    if not isinstance(node, yaml.MappingNode):
        raise yaml.constructor.ConstructorError(None, None, "expected a mapping", node.start_mark)
    return loader.construct_mapping(node)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def read_document(path: Path) -> Optional[Any]:
    """The file's data; None when there is no file. RegisterError (one line) when it is not YAML."""
    if not path.exists():
        return None
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 (SafeLoader)
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        where = getattr(e, "problem_mark", None)
        line = f" line {where.line + 1}" if where is not None else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise RegisterError([f"{path.name}{line}: not readable YAML ({problem})"]) from e


def load_register(path: Path, *, today: date, rules: Mapping[str, Sequence[str]]) -> Register:
    """The validated register of ``path`` (the empty register when the file does not exist)."""
    return validate(read_document(path), today=today, rules=rules, source=path.name)
