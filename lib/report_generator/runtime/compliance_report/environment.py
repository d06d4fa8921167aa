"""The function's environment: each variable's name and default, defined once.

The stack builds the function's environment with ``function_environment`` (imported by
``lib/report_generator/infrastructure.py`` from this file), ``settings.py`` reads the same names, and
the local harness (``lib/report_generator/local_harness.py``) builds its environment with the same
function, so a variable added here reaches all three; ``tests/unit/test_function_environment.py``
fails when the synthesized function's variables and the harness's disagree.
No imports: the CDK app loads this file without the Lambda's dependencies.
"""

from __future__ import annotations

REPORT_BUCKET = "REPORT_BUCKET"
REPORT_PREFIX = "REPORT_PREFIX"
CHAIN_PREFIX = "CHAIN_PREFIX"
ALERT_TOPIC_ARN = "ALERT_TOPIC_ARN"
MONITORED_RULES = "MONITORED_RULES"  # JSON list of {"name", "managedIdentifier"}
ENVIRONMENT_SUFFIX = "ENVIRONMENT_SUFFIX"
METRICS_NAMESPACE = "METRICS_NAMESPACE"
ALERT_MAX_RESOURCES = "ALERT_MAX_RESOURCES"
# The SSM parameter the newest head is published to (witness.py). Unset: no witness beside the alert.
WITNESS_PARAMETER = "WITNESS_PARAMETER"
# The parameter's value before the first report (the stack creates it so): a comment line, which
# ``auditor verify --witness`` skips, so an exported parameter history is a valid witness file.
WITNESS_NO_REPORT_YET = "# no report yet"
# The deployed exceptions register (docs/report-format.md, "Exceptions (schema 1.1)"): its key in the
# reports bucket, ``exceptions/<sha256>.json``, and the file holding its bytes, which the stack's layer
# puts at /opt/exceptions/register.json. Both or neither: unset, reports carry exceptionRegister null.
# The alert formatter reads the same two names (its environment.py imports nothing, so it repeats them;
# tests/unit/test_exceptions_layer.py fails when the two functions' variables differ).
EXCEPTIONS_REGISTER_KEY = "EXCEPTIONS_REGISTER_KEY"
EXCEPTIONS_REGISTER_PATH = "EXCEPTIONS_REGISTER_PATH"
# Not set by the stack: an override of the time kept back for storing the report (tests use it).
STORE_RESERVE_MS = "STORE_RESERVE_MS"
# Not set by the stack: the AWS SDKs' own variable, with the SDKs' meaning (attempts per call, the first
# included; https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html). Lets an operator,
# or a test of permanent failures, shorten the retries.
MAX_ATTEMPTS = "AWS_MAX_ATTEMPTS"

# Report keys of schema v1 live under reports/ (the schema's previousKey pattern fixes it).
DEFAULT_REPORT_PREFIX = "reports/"
DEFAULT_CHAIN_PREFIX = "chain/"
DEFAULT_METRICS_NAMESPACE = "ComplianceAudit"
DEFAULT_ALERT_MAX_RESOURCES = 10
DEFAULT_MAX_ATTEMPTS = 10
MAX_ATTEMPTS_LIMIT = 20


def function_environment(
    *,
    bucket: str,
    topic_arn: str,
    monitored_rules_json: str,
    suffix: str,
    witness_parameter: str,
    report_prefix: str = DEFAULT_REPORT_PREFIX,
    metrics_namespace: str = DEFAULT_METRICS_NAMESPACE,
    alert_max_resources: int = DEFAULT_ALERT_MAX_RESOURCES,
    exceptions_register_key: str | None = None,
    exceptions_register_path: str | None = None,
) -> dict[str, str]:
    """The variables the stack sets on the function (values may be CloudFormation tokens)."""
    register = (
        {
            EXCEPTIONS_REGISTER_KEY: exceptions_register_key,
            EXCEPTIONS_REGISTER_PATH: exceptions_register_path,
        }
        if exceptions_register_key is not None and exceptions_register_path is not None
        else {}
    )
    return {
        REPORT_BUCKET: bucket,
        REPORT_PREFIX: report_prefix,
        ALERT_TOPIC_ARN: topic_arn,
        MONITORED_RULES: monitored_rules_json,
        ENVIRONMENT_SUFFIX: suffix,
        METRICS_NAMESPACE: metrics_namespace,
        ALERT_MAX_RESOURCES: str(alert_max_resources),
        WITNESS_PARAMETER: witness_parameter,
        **register,
    }
