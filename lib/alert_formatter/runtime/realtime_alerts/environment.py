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
# The exceptions register: its key in the reports bucket and the file in the stack's layer holding its
# bytes (/opt/exceptions/register.json). The same names as the report generator's environment.py.
EXCEPTIONS_REGISTER_KEY = "EXCEPTIONS_REGISTER_KEY"
EXCEPTIONS_REGISTER_PATH = "EXCEPTIONS_REGISTER_PATH"

DEFAULT_DIGEST_THRESHOLD = 10
DEFAULT_DIGEST_WINDOW_SECONDS = 300
DEFAULT_HEALTH_CHECK_MINUTES = 15


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
        ALERT_TOPIC_ARN: topic_arn,
        ENVIRONMENT_SUFFIX: suffix,
        MONITORED_RULES: monitored_rules_json,
        DIGEST_THRESHOLD: str(digest_threshold),
        DIGEST_WINDOW_SECONDS: str(digest_window_seconds),
        SEND_RESOLVED: "true" if send_resolved else "false",
        HEALTH_CHECK_MINUTES: str(health_check_minutes),
        **register,
    }
