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
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# Lambda runtime deprecation dates, from the AWS Lambda runtimes page.
PYTHON39_DEPRECATION = _dt.date(2025, 12, 15)
PYTHON39_BLOCK_CREATE = _dt.date(2027, 2, 1)
PYTHON39_BLOCK_UPDATE = _dt.date(2027, 3, 3)
DEFAULT_RUNTIME = "python3.9"  # the contract asks for it
SUPPORTED_RUNTIMES = ("python3.9", "python3.10", "python3.11", "python3.12", "python3.13")

OBJECT_LOCK_MODES = ("off", "governance", "compliance")
# alertEmail=none: no e-mail subscription, on purpose (alerts go to subscribers added outside the stack,
# or nowhere). It silences the synth warning; `make deploy` refuses an unset ALERT_EMAIL, not this.
NO_ALERT_EMAIL = "none"


class StackSettingsError(ValueError):
    """A context value broke a rule. The message is one line naming the value and the rule."""


@dataclass(frozen=True)
class StackSettings:
    environment_suffix: str = DEFAULT_SUFFIX
    alert_email: Optional[str] = None
    alert_email_declined: bool = False  # alertEmail=none: no e-mail on purpose
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

    def alert_email_warning(self) -> Optional[str]:
        """Why a synth without an alert address must be noticed, unless ``alertEmail=none`` said so."""
        if self.alert_email is not None or self.alert_email_declined:
            return None
        return (
            f"no alertEmail: nobody is subscribed to compliance-alerts-{self.environment_suffix}, so "
            "non-compliance alerts, daily report summaries and alarms reach no one. Pass "
            "ALERT_EMAIL=team@example.com (-c alertEmail=...), or ALERT_EMAIL=none "
            f"(-c alertEmail={NO_ALERT_EMAIL}) for no e-mail on purpose"
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
        email = _text(values, "alertEmail", "") or None
        declined = email is not None and email.lower() == NO_ALERT_EMAIL
        if declined:
            email = None
        if email is not None and not _EMAIL_RE.match(email):
            raise StackSettingsError(
                f"alertEmail={email!r}: must be an e-mail address like team@example.com, or "
                f"{NO_ALERT_EMAIL!r} for no e-mail on purpose"
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
            alert_email_declined=declined,
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
