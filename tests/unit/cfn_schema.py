"""Facts about CloudFormation resource types, read from cfn-lint's bundled provider schemas (us-east-1)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import cfnlint

_SCHEMAS = Path(cfnlint.__file__).parent / "data" / "schemas"


@cache
def _index() -> dict[str, str]:
    return json.loads((_SCHEMAS / "providers" / "us-east-1.json").read_text())


@cache
def schema(resource_type: str) -> dict:
    return json.loads((_SCHEMAS / "resources" / f"{_index()[resource_type]}.json").read_text())


def taggable(resource_type: str) -> bool:
    return "Tags" in schema(resource_type).get("properties", {})
