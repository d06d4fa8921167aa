"""The schema's size limits, as the writer applies them to what AWS hands it.

docs/report-format.md, "Size limits", and schema/compliance-report.v1.schema.json bound every string and
array of a report, and readers refuse a report beyond them. Most values come from AWS, whose own limits
are lower (a resource id of at most 768 characters, an annotation of 256). A few do not have one that
the writer can rely on: AWS Config's ``lastErrorMessage`` and ``lastErrorCode`` (recorder, delivery
channel, rule evaluation status) are plain strings in the API model, and an exception's text is
whatever botocore made of the answer. Everything that passes through is therefore cut to the schema's
limit here, counted in characters (code points, as JSON Schema counts them), so a report the writer
stores never fails its own schema. ``tests/runtime/test_limits.py`` reads the numbers below back from
the schema, so the two cannot drift apart.
"""

from __future__ import annotations

from typing import Optional, TypeVar

T = TypeVar("T")

NAME = 256  # recorder and channel names, managedIdentifier, resourceType, errors/problems subject
RULE_NAME = 128  # AWS Config's ConfigRuleName
RESOURCE_ID = 768  # EvaluationResultQualifier.ResourceId
ANNOTATION = 256  # EvaluationResult.Annotation
CODE = 256  # lastErrorCode, errors[].code
MESSAGE = 4096  # lastErrorMessage, problems[].message, errors[].message
# Arrays.
FINDINGS_PER_RULE = 250_000
ERRORS = 2_000
PROBLEMS = 4_000
RECORDERS = 100
CHANNELS = 100


def text(value: str, limit: int) -> str:
    """``value`` cut to ``limit`` characters."""
    return value if len(value) <= limit else value[:limit]


def optional_text(value: Optional[str], limit: int) -> Optional[str]:
    """``text`` of a value that may be absent (AWS leaves many of these members out)."""
    return None if value is None else text(str(value), limit)


def items(values: list[T], limit: int) -> list[T]:
    """The first ``limit`` values."""
    return values if len(values) <= limit else values[:limit]
