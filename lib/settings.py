"""Typed, validated settings for the stack, read once from CDK context.

Constructs never read context: ``app.py`` calls :func:`StackSettings.from_context` and passes the result
down. Every rule here exists because a deploy would otherwise fail later, or a name would outgrow its
service's limit; the limits are quoted next to the check that depends on them. (The Lambda runtime reads
its own settings from environment variables; those are ``compliance_report.settings.Settings``.)
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional

REGION = "us-east-1"  # fixed by the customer's contract

DEFAULT_SUFFIX = "dev"
# The longest physical name built from the suffix is a Config rule name,
# "s3-bucket-sse-enabled-<suffix>" (Config allows 64 characters), and the report bucket,
# "compliance-reports-<suffix>-<12-digit account>" (S3 allows 63). 16 keeps every name well inside its
# limit and matches the report schema's environmentSuffix maxLength; tests check each name's length.
MAX_SUFFIX_LENGTH = 16
_SUFFIX_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
# A dead-letter queue is named after its queue with "-dlq" before the suffix: the requests queue of suffix
# "dlq-x" would be compliance-report-requests-dlq-x.fifo, the requests dead-letter queue of suffix "x".
# tests/unit/test_physical_names.py checks every physical name of every suffix against every other.
RESERVED_SUFFIX_PREFIXES = ("dlq-",)
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# Lambda runtime deprecation dates, from the AWS Lambda runtimes page.
PYTHON39_DEPRECATION = _dt.date(2025, 12, 15)
PYTHON39_BLOCK_CREATE = _dt.date(2027, 2, 1)
PYTHON39_BLOCK_UPDATE = _dt.date(2027, 3, 3)
DEFAULT_RUNTIME = "python3.9"  # the contract asks for it
SUPPORTED_RUNTIMES = ("python3.9", "python3.10", "python3.11", "python3.12", "python3.13")

OBJECT_LOCK_MODES = ("off", "governance", "compliance")


class StackSettingsError(ValueError):
    """A context value broke a rule. The message is one line naming the value and the rule."""


@dataclass(frozen=True)
class StackSettings:
    environment_suffix: str = DEFAULT_SUFFIX
    alert_email: Optional[str] = None
    lambda_runtime: str = DEFAULT_RUNTIME
    use_existing_config_recorder: bool = False
    report_object_lock: str = "off"

    @property
    def runtime_deprecated(self) -> bool:
        return self.lambda_runtime == "python3.9"

    def runtime_warning(self) -> Optional[str]:
        if not self.runtime_deprecated:
            return None
        return (
            f"lambdaRuntime=python3.9 is deprecated since {PYTHON39_DEPRECATION.isoformat()}; "
            f"AWS blocks creating python3.9 functions from {PYTHON39_BLOCK_CREATE.isoformat()} and updating "
            f"them from {PYTHON39_BLOCK_UPDATE.isoformat()}. Kept because the contract requires it; "
            "move with: -c lambdaRuntime=python3.13"
        )

    @classmethod
    def from_context(cls, get: Callable[[str], Any]) -> StackSettings:
        """Build from a context getter such as ``app.node.try_get_context``."""
        return cls.from_mapping({k: get(k) for k in _KEYS})

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> StackSettings:
        suffix = _text(values, "environmentSuffix", DEFAULT_SUFFIX)
        if len(suffix) > MAX_SUFFIX_LENGTH or not _SUFFIX_RE.match(suffix):
            raise StackSettingsError(
                f"environmentSuffix={suffix!r}: must be 1-{MAX_SUFFIX_LENGTH} lowercase letters, digits "
                "and hyphens, starting and ending with a letter or digit"
            )
        reserved = next((p for p in RESERVED_SUFFIX_PREFIXES if suffix.startswith(p)), None)
        if reserved is not None:
            raise StackSettingsError(
                f"environmentSuffix={suffix!r}: must not start with {reserved!r}, or this stack's queue "
                f"names would equal the dead-letter queue names of the stack with suffix "
                f"{suffix[len(reserved) :]!r}"
            )
        email = _text(values, "alertEmail", "") or None
        if email is not None and not _EMAIL_RE.match(email):
            raise StackSettingsError(
                f"alertEmail={email!r}: must be an e-mail address like team@example.com"
            )

        runtime = _text(values, "lambdaRuntime", DEFAULT_RUNTIME)
        if runtime not in SUPPORTED_RUNTIMES:
            raise StackSettingsError(
                f"lambdaRuntime={runtime!r}: must be one of {', '.join(SUPPORTED_RUNTIMES)}"
            )

        existing = _flag(values, "useExistingConfigRecorder")

        lock = _text(values, "reportObjectLock", "off").lower()
        if lock not in OBJECT_LOCK_MODES:
            raise StackSettingsError(
                f"reportObjectLock={lock!r}: must be one of {', '.join(OBJECT_LOCK_MODES)}"
            )

        return cls(
            environment_suffix=suffix,
            alert_email=email,
            lambda_runtime=runtime,
            use_existing_config_recorder=existing,
            report_object_lock=lock,
        )


_KEYS = (
    "environmentSuffix",
    "alertEmail",
    "lambdaRuntime",
    "useExistingConfigRecorder",
    "reportObjectLock",
)


def _text(values: Mapping[str, Any], key: str, default: str) -> str:
    value = values.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        raise StackSettingsError(f"{key}={value!r}: must be a string")
    return value.strip()


def _flag(values: Mapping[str, Any], key: str) -> bool:
    value = values.get(key)
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no", ""):
        return False
    raise StackSettingsError(f"{key}={value!r}: must be true or false")
