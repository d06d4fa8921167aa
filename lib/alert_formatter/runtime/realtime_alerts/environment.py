"""The function's environment: each variable's name and default, defined once.

The stack builds the function's environment with ``function_environment`` (imported by
``lib/alert_formatter/infrastructure.py``), ``settings.py`` reads the same names, and the local harness
(``lib/alert_formatter/local_harness.py``) builds its environment with the same function, so a variable
added here reaches all three; ``tests/unit/test_alert_formatter.py`` fails when the synthesized
function's variables and the harness's disagree. No imports: the CDK app loads this file without the
Lambda's dependencies.
"""

from __future__ import annotations

ALERT_TOPIC_ARN = "ALERT_TOPIC_ARN"
ENVIRONMENT_SUFFIX = "ENVIRONMENT_SUFFIX"
MONITORED_RULES = "MONITORED_RULES"  # JSON list of {"name", "managedIdentifier"}
DIGEST_THRESHOLD = "DIGEST_THRESHOLD"  # more changes than this in one batch: one digest
DIGEST_WINDOW_SECONDS = "DIGEST_WINDOW_SECONDS"  # the queue's batching window, for the words
SEND_RESOLVED = "SEND_RESOLVED"  # "true": a change out of NON_COMPLIANT is alerted too
HEALTH_CHECK_MINUTES = "HEALTH_CHECK_MINUTES"  # how often the status check runs
# The exceptions register (register.py): the file the stack's layer puts on the function and the
# key of the object it was deployed as, exceptions/<sha256 of the bytes>.json. Both or neither.
EXCEPTIONS_REGISTER_PATH = "EXCEPTIONS_REGISTER_PATH"
EXCEPTIONS_REGISTER_KEY = "EXCEPTIONS_REGISTER_KEY"

DEFAULT_DIGEST_THRESHOLD = 10
DEFAULT_DIGEST_WINDOW_SECONDS = 300
DEFAULT_HEALTH_CHECK_MINUTES = 15
# Where the register layer's file is: Lambda extracts a function's layers into /opt ("Packaging your
# layer content", Lambda Developer Guide), and the layer holds exceptions/register.json.
REGISTER_LAYER_PATH = "/opt/exceptions/register.json"


def function_environment(
    *,
    topic_arn: str,
    suffix: str,
    monitored_rules_json: str,
    digest_threshold: int = DEFAULT_DIGEST_THRESHOLD,
    digest_window_seconds: int = DEFAULT_DIGEST_WINDOW_SECONDS,
    send_resolved: bool = False,
    health_check_minutes: int = DEFAULT_HEALTH_CHECK_MINUTES,
    exceptions_register_key: str | None = None,
    exceptions_register_path: str = REGISTER_LAYER_PATH,
) -> dict[str, str]:
    """The variables the stack sets on the function (values may be CloudFormation tokens); the
    register's two only with ``exceptions_register_key``."""
    register = (
        {}
        if exceptions_register_key is None
        else {
            EXCEPTIONS_REGISTER_PATH: exceptions_register_path,
            EXCEPTIONS_REGISTER_KEY: exceptions_register_key,
        }
    )
    return {
        ALERT_TOPIC_ARN: topic_arn,
        ENVIRONMENT_SUFFIX: suffix,
        MONITORED_RULES: monitored_rules_json,
        DIGEST_THRESHOLD: str(digest_threshold),
        DIGEST_WINDOW_SECONDS: str(digest_window_seconds),
        SEND_RESOLVED: "true" if send_resolved else "false",
        HEALTH_CHECK_MINUTES: str(health_check_minutes),
        **register,
    }
