"""The stack's name and its CloudFormation outputs: what the operator scripts look up after a deploy.

Defined once, here, for the stack (``compliance_stack.py`` creates the outputs with these keys) and for
``scripts/`` (which read them with DescribeStacks). No CDK import, so a script that only needs a name
does not load the CDK; ``tests/unit/test_stack_outputs.py`` fails when the template and this file
disagree.

The outputs are not exported: nothing imports them, and an export that another stack imported would
make ``make destroy`` fail until that stack let go of it.
"""

from __future__ import annotations

from dataclasses import dataclass

STACK_NAME_PREFIX = "ComplianceAudit-"


def stack_name(suffix: str) -> str:
    """``ComplianceAudit-<suffix>``."""
    return f"{STACK_NAME_PREFIX}{suffix}"


@dataclass(frozen=True)
class StackOutput:
    key: str  # the CloudFormation OutputKey (the output's logical id)
    label: str  # how `make outputs` names it
    description: str


REPORT_BUCKET = StackOutput(
    "ReportBucketName",
    "report bucket",
    "The reports: auditor verify/timeline s3://<bucket>/reports/",
)
ALERT_TOPIC = StackOutput(
    "AlertTopicArn", "alert topic", "Alerts for people: subscribe the security team here"
)
REQUEST_QUEUE = StackOutput(
    "RequestQueueUrl", "request queue", "FIFO queue of report requests (make report-now)"
)
REPORT_GENERATOR = StackOutput(
    "ReportGeneratorName", "report generator", "The report generator Lambda function"
)

ALERT_FORMATTER = StackOutput(
    "AlertFormatterName", "alert formatter", "The Lambda that writes the real-time alerts"
)

OUTPUTS = (REPORT_BUCKET, ALERT_TOPIC, REQUEST_QUEUE, REPORT_GENERATOR, ALERT_FORMATTER)
