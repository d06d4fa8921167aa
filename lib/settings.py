"""Typed, validated settings for the stack, read once from CDK context.

Constructs never read context: ``app.py`` calls :func:`StackSettings.from_context` and passes the result
down. Every rule here exists because a deploy would otherwise fail later, or a name would outgrow its
service's limit; the limits are quoted next to the check that depends on them. (The Lambda runtime reads
its own settings from environment variables; those are ``compliance_report.settings.Settings``.)
"""

from __future__ import annotations

import datetime as _dt
import functools
import importlib.util
import json
import re
from dataclasses import dataclass
from pathlib import Path
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

OBJECT_LOCK_MODES = ("off", "governance", "compliance")
# alertEmail=none: no e-mail subscription, on purpose (alerts go to subscribers added outside the stack,
# or nowhere). It silences the synth warning; `make deploy` refuses an unset ALERT_EMAIL, not this.
NO_ALERT_EMAIL = "none"


class StackSettingsError(ValueError):
    """A context value broke a rule. The message is one line naming the value and the rule."""


DEFAULT_RUNTIME = "python3.9"  # the contract asks for it, and the oldest the runtime code supports
_LIFECYCLE_FILE = "LmbdRuntimeLifecycle.json"


@dataclass(frozen=True)
class RuntimeLifecycle:
    """A Lambda runtime's dates as cfn-lint carries them (``LmbdRuntimeLifecycle.json``, its copy of the
    Lambda runtimes page): deprecated, then creating and then updating functions blocked."""

    deprecated: _dt.date
    create_blocked: _dt.date
    update_blocked: _dt.date


def _cfn_lint_lifecycle() -> dict[str, RuntimeLifecycle]:
    """cfn-lint's lifecycle data of the python3.x runtimes (every one has all three dates; other
    languages' entries may lack the block dates), read from the pinned package's files without importing
    it (importing cfnlint takes over a second)."""
    spec = importlib.util.find_spec("cfnlint")
    if spec is None or not spec.submodule_search_locations:
        raise StackSettingsError(
            "cfn-lint is not installed: synth reads the Lambda runtime dates from it (make bootstrap)"
        )
    path = Path(spec.submodule_search_locations[0], "data", "AdditionalSpecs", _LIFECYCLE_FILE)
    return {
        runtime: RuntimeLifecycle(
            _dt.date.fromisoformat(dates["deprecated"]),
            _dt.date.fromisoformat(dates["create-block"]),
            _dt.date.fromisoformat(dates["update-block"]),
        )
        for runtime, dates in json.loads(path.read_text()).items()
        if re.fullmatch(r"python3\.\d+", runtime)
    }


def _python_minor(runtime: str) -> int:
    return int(runtime.removeprefix("python3."))


def _cdk_python_runtimes() -> set[str]:
    """The python3.x runtimes the pinned aws-cdk-lib can name (``Runtime.PYTHON_3_*``), read from its
    Python bindings' source rather than by importing them: importing aws_cdk starts a Node.js process,
    which the operator scripts that read these settings (make preflight, status, ...) must not pay
    for or print Node's end-of-life banner from. tests/unit/test_settings.py checks the result against
    ``dir(aws_lambda.Runtime)``."""
    spec = importlib.util.find_spec("aws_cdk")
    if spec is None or not spec.submodule_search_locations:
        raise StackSettingsError("aws-cdk-lib is not installed (make bootstrap)")
    source = Path(spec.submodule_search_locations[0], "aws_lambda", "__init__.py").read_text()
    return {
        f"python3.{minor}"
        for minor in re.findall(r"def PYTHON_3_(\d+)\(cls\) -> \"Runtime\"", source)
    }


def _accepted_runtimes(lifecycle: Mapping[str, RuntimeLifecycle]) -> tuple[str, ...]:
    """python3.9 and every newer python3.x that both the pinned CDK (a ``Runtime.PYTHON_3_*`` to name it)
    and the pinned cfn-lint (dates to warn with) know, oldest first."""
    known = _cdk_python_runtimes() & set(lifecycle)
    return tuple(
        sorted(
            (r for r in known if _python_minor(r) >= _python_minor(DEFAULT_RUNTIME)),
            key=_python_minor,
        )
    )


@functools.cache
def runtime_lifecycle() -> dict[str, RuntimeLifecycle]:
    """The python3.x runtimes' dates; read on first use, so code that only needs REGION or the suffix
    rules (the operator scripts, and the CPython 3.9 tests that call them) never needs cfn-lint."""
    return _cfn_lint_lifecycle()


@functools.cache
def supported_runtimes() -> tuple[str, ...]:
    return _accepted_runtimes(runtime_lifecycle())


def __getattr__(name: str) -> Any:
    """RUNTIME_LIFECYCLE, SUPPORTED_RUNTIMES and NEWEST_RUNTIME, computed on first use (PEP 562)."""
    if name == "RUNTIME_LIFECYCLE":
        return runtime_lifecycle()
    if name == "SUPPORTED_RUNTIMES":
        return supported_runtimes()
    if name == "NEWEST_RUNTIME":
        return supported_runtimes()[-1]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# Real-time alerts (lib/alert_formatter): more than alertDigestThreshold compliance changes gathered
# within alertDigestWindowMinutes reach the team as one digest. The window is the changes queue's
# batching window, MaximumBatchingWindowInSeconds, which Lambda allows from 0 to 300 seconds
# (CreateEventSourceMapping, Lambda API Reference); with a batch size above 10 it must be at least 1
# second, so 1-5 minutes. The threshold is the most e-mails a burst may become; above 100 a burst is
# better read as a digest, and 100 single publishes stay well inside the function's timeout.
DEFAULT_DIGEST_THRESHOLD = 10
MAX_DIGEST_THRESHOLD = 100
DEFAULT_DIGEST_WINDOW_MINUTES = 5
MAX_DIGEST_WINDOW_MINUTES = 5


@dataclass(frozen=True)
class StackSettings:
    environment_suffix: str = DEFAULT_SUFFIX
    alert_email: Optional[str] = None
    alert_email_declined: bool = False  # alertEmail=none: no e-mail on purpose
    lambda_runtime: str = DEFAULT_RUNTIME
    use_existing_config_recorder: bool = False
    report_object_lock: str = "off"
    alert_digest_threshold: int = DEFAULT_DIGEST_THRESHOLD
    alert_digest_window_minutes: int = DEFAULT_DIGEST_WINDOW_MINUTES
    alert_resolved: bool = False

    def runtime_warning(self, today: Optional[_dt.date] = None) -> Optional[str]:
        """One line when the runtime is deprecated on ``today`` (default: the date of synth), with the
        dates cfn-lint's data gives; None otherwise."""
        runtime = self.lambda_runtime
        dates = runtime_lifecycle()[runtime]
        if dates.deprecated > (today or _dt.date.today()):
            return None
        move = (
            " Kept because the contract requires it; move"
            if runtime == DEFAULT_RUNTIME
            else " Move"
        )
        return (
            f"lambdaRuntime={runtime} is deprecated since {dates.deprecated.isoformat()}; AWS blocks "
            f"creating {runtime} functions from {dates.create_blocked.isoformat()} and updating them "
            f"from {dates.update_blocked.isoformat()}.{move} with: "
            f"-c lambdaRuntime={supported_runtimes()[-1]}"
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
        reserved = next((p for p in RESERVED_SUFFIX_PREFIXES if suffix.startswith(p)), None)
        if reserved is not None:
            raise StackSettingsError(
                f"environmentSuffix={suffix!r}: must not start with {reserved!r}, or this stack's queue "
                f"names would equal the dead-letter queue names of the stack with suffix "
                f"{suffix[len(reserved) :]!r}"
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
        if runtime not in supported_runtimes():
            raise StackSettingsError(
                f"lambdaRuntime={runtime!r}: must be one of {', '.join(supported_runtimes())}"
            )

        existing = _flag(values, "useExistingConfigRecorder")

        lock = _text(values, "reportObjectLock", "off").lower()
        if lock not in OBJECT_LOCK_MODES:
            raise StackSettingsError(
                f"reportObjectLock={lock!r}: must be one of {', '.join(OBJECT_LOCK_MODES)}"
            )

        threshold = _integer(values, "alertDigestThreshold", DEFAULT_DIGEST_THRESHOLD)
        if not 1 <= threshold <= MAX_DIGEST_THRESHOLD:
            raise StackSettingsError(
                f"alertDigestThreshold={threshold}: must be 1-{MAX_DIGEST_THRESHOLD} (more changes "
                "than this within the window become one digest)"
            )
        window = _integer(values, "alertDigestWindowMinutes", DEFAULT_DIGEST_WINDOW_MINUTES)
        if not 1 <= window <= MAX_DIGEST_WINDOW_MINUTES:
            raise StackSettingsError(
                f"alertDigestWindowMinutes={window}: must be 1-{MAX_DIGEST_WINDOW_MINUTES} (Lambda "
                "gathers a queue's records for at most 300 seconds)"
            )

        return cls(
            environment_suffix=suffix,
            alert_email=email,
            alert_email_declined=declined,
            lambda_runtime=runtime,
            use_existing_config_recorder=existing,
            report_object_lock=lock,
            alert_digest_threshold=threshold,
            alert_digest_window_minutes=window,
            alert_resolved=_flag(values, "alertResolved"),
        )


_KEYS = (
    "environmentSuffix",
    "alertEmail",
    "lambdaRuntime",
    "useExistingConfigRecorder",
    "reportObjectLock",
    "alertDigestThreshold",
    "alertDigestWindowMinutes",
    "alertResolved",
)


def _text(values: Mapping[str, Any], key: str, default: str) -> str:
    value = values.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        raise StackSettingsError(f"{key}={value!r}: must be a string")
    return value.strip()


def _integer(values: Mapping[str, Any], key: str, default: int) -> int:
    value = values.get(key)
    if value is None:
        return default
    if isinstance(value, bool):
        raise StackSettingsError(f"{key}={value!r}: must be a whole number")
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if not re.fullmatch(r"-?[0-9]+", text):
        raise StackSettingsError(f"{key}={value!r}: must be a whole number")
    return int(text)


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
