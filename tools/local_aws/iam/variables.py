"""Policy variables: ``${aws:PrincipalAccount}`` and the like in a Resource or a condition value.

IAM User Guide, *IAM policy elements: Variables and tags*: a variable is ``${key}`` (optionally
``${key, 'default'}``) and is replaced, when the policy is evaluated, by the request context's value
of that key; it may stand in the Resource element and in string and ARN condition values, in
identity and resource policies alike. "You can use any available single-valued condition key as a
policy variable. You cannot use a multivalued condition key" (*Single-valued vs. multivalued
condition keys*). "If AWS cannot resolve a variable this might cause the entire statement to be
invalid": here a statement whose variable has no value (and no default) names nothing. ``${*}``,
``${?}`` and ``${$}`` stand for the literal characters ``*``, ``?`` and ``$``.

A substituted value is literal text: a ``*`` in a principal's tag value is not a wildcard.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from .conditions import PolicyError

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_DEFAULT = re.compile(r"^\s*([^,\s]+)\s*,\s*'([^']*)'\s*$")
_SPECIAL = {"*", "?", "$"}
# Keys that carry several values in one request (IAM User Guide, AWS global condition context keys).
MULTIVALUED = {
    "aws:tagkeys",
    "aws:calledvia",
    "aws:principalorgpaths",
    "aws:principalservicenameslist",
}


def has_variables(text: str) -> bool:
    return "${" in text


def check(text: str, where: str) -> None:
    """A PolicyError for a variable IAM would not accept."""
    if text.count("${") != len(_VARIABLE.findall(text)):
        raise PolicyError(f"{where}: {text!r} has an unclosed ${{")
    for body in _VARIABLE.findall(text):
        if body in _SPECIAL:
            continue
        key = _key(body)
        if not key or ":" not in key:
            raise PolicyError(f"{where}: {text!r}: ${{{body}}} names no condition key")
        if key.lower() in MULTIVALUED:
            raise PolicyError(f"{where}: {text!r}: {key} is multivalued and cannot be a variable")


def _key(body: str) -> str:
    found = _DEFAULT.match(body)
    return found.group(1) if found else body.strip()


def substitute(
    text: str, context: Mapping[str, Sequence[str]]
) -> tuple[str, frozenset[int]] | None:
    """``text`` with every variable replaced, and the positions of the replaced (literal) characters;
    None when a variable has no value in the request and no default."""
    out: list[str] = []
    literal: set[int] = set()
    position = 0
    for found in _VARIABLE.finditer(text):
        out.append(text[position : found.start()])
        body = found.group(1)
        if body in _SPECIAL:
            value = body
        else:
            default = _DEFAULT.match(body)
            values = list(context.get(_key(body).lower(), ()))
            if len(values) == 1:
                value = values[0]
            elif default is not None:
                value = default.group(2)
            else:
                return None
        start = sum(len(part) for part in out)
        literal.update(range(start, start + len(value)))
        out.append(value)
        position = found.end()
    out.append(text[position:])
    return "".join(out), frozenset(literal)


def wildcarded(text: str) -> str:
    """Every variable as ``*``: what the statement can name for some request (for the linter)."""
    return _VARIABLE.sub(lambda m: m.group(1) if m.group(1) in _SPECIAL else "*", text)
