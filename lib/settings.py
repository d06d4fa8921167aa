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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

from lib.exceptions.register import Register
from lib.organization import layout

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


DEPLOYMENTS = ("single", "organization")
SINGLE, ORGANIZATION = DEPLOYMENTS
# Identifier formats, AWS Organizations API Reference (Organization.Id, OrganizationalUnit.Id, Root.Id):
# "o-" + 10-32 lowercase letters or digits; "ou-" + 4-32 (the root id) + "-" + 8-32; "r-" + 4-32.
_ORG_ID_RE = re.compile(r"^o-[a-z0-9]{10,32}$")
_OU_RE = re.compile(r"^(ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32})$")
_ACCOUNT_RE = re.compile(r"^[0-9]{12}$")
# The report schema's region pattern (schema/compliance-report.v1.schema.json, "region").
_REGION_RE = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-[0-9]$")
# CreateStackSet's CallAs: SELF from the management account, DELEGATED_ADMIN from an account registered
# as a delegated administrator for StackSets (AWS CloudFormation API Reference, CreateStackSet).
STACKSET_CALLERS = ("DELEGATED_ADMIN", "SELF")
# Athena projects one partition per account x region x day a query names; the accounts are an enum
# projection, which Athena advises keeping to "a few dozen or less" while the table's metadata stays
# under AWS Glue's limit of about 1 MB gzip-compressed ("Supported types for partition projection",
# Athena User Guide). 5,000 twelve-digit ids are 65 KB before compression, well inside it.
MAX_ORGANIZATION_ACCOUNTS = 5000
# StackSets deploy to at most the regions a StackInstancesGroup names; 20 is more than any landing zone
# this platform is sized for (README, Organization) and keeps the region enum of Athena short.
MAX_DEPLOYMENT_REGIONS = 20


@dataclass(frozen=True)
class OrganizationSettings:
    """The organization shape's settings (``-c deployment=organization``): where the evidence lives,
    which organization may write it, and where the member part goes."""

    evidence_account: str
    organization_id: str
    target_organizational_units: tuple[str, ...]
    deployment_regions: tuple[str, ...]
    accounts: tuple[str, ...]
    stack_set_call_as: str = "DELEGATED_ADMIN"


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
    deployment: str = SINGLE
    organization: Optional[OrganizationSettings] = None
    # The validated exceptions register (lib/exceptions): not context, a reviewed file, which app.py
    # reads from the repository root once the context is known to be good.
    exceptions: Register = field(default_factory=Register.empty)

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

        deployment = _text(values, "deployment", SINGLE).lower()
        if deployment not in DEPLOYMENTS:
            raise StackSettingsError(
                f"deployment={deployment!r}: must be one of {', '.join(DEPLOYMENTS)}"
            )
        organization = _organization(values) if deployment == ORGANIZATION else None
        if organization is None:
            stray = next((k for k in _ORGANIZATION_KEYS if values.get(k) is not None), None)
            if stray is not None:
                raise StackSettingsError(
                    f"{stray}={values[stray]!r}: only for the organization shape; add "
                    "-c deployment=organization"
                )
        # Control Tower and other landing zones already run the one recorder Config allows per
        # account and region, so the organization shape uses it unless told otherwise.
        existing = (
            _flag(values, "useExistingConfigRecorder")
            if values.get("useExistingConfigRecorder") is not None
            else organization is not None
        )
        if organization is not None and not existing and len(organization.deployment_regions) > 1:
            raise StackSettingsError(
                f"useExistingConfigRecorder=false with {len(organization.deployment_regions)} "
                "deploymentRegions: a member's Config delivery bucket is named "
                f"compliance-config-{suffix}-<account>, one per account (S3 names are global), so a "
                "second region could not create it; use the accounts' recorders (the default) or one "
                "region"
            )

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
            deployment=deployment,
            organization=organization,
        )


def _organization(values: Mapping[str, Any]) -> OrganizationSettings:
    def required(key: str, what: str) -> Any:
        if values.get(key) in (None, "", []):
            raise StackSettingsError(f"{key}: required with deployment=organization ({what})")
        return values[key]

    account = _text(values, "evidenceAccount", "") or required(
        "evidenceAccount", "the audit or log-archive account that holds the central bucket"
    )
    if not _ACCOUNT_RE.match(account):
        raise StackSettingsError(f"evidenceAccount={account!r}: must be a 12-digit account id")
    org = _text(values, "organizationId", "") or required(
        "organizationId", "o-..., the organization whose accounts may write the central bucket"
    )
    if not _ORG_ID_RE.match(org):
        raise StackSettingsError(
            f"organizationId={org!r}: must be o- followed by 10-32 lowercase letters or digits"
        )
    required("targetOrganizationalUnits", "the OUs, or the root r-..., the StackSet deploys to")
    units = _list(values, "targetOrganizationalUnits")
    bad = next((u for u in units if not _OU_RE.match(u)), None)
    if bad is not None:
        raise StackSettingsError(
            f"targetOrganizationalUnits: {bad!r} is neither an OU id (ou-xxxx-yyyyyyyy) nor a root "
            "id (r-xxxx)"
        )
    regions = _list(values, "deploymentRegions") or [REGION]
    bad = next((r for r in regions if not _REGION_RE.match(r)), None)
    if bad is not None:
        raise StackSettingsError(f"deploymentRegions: {bad!r} is not a region name like us-east-1")
    suffix = _text(values, "environmentSuffix", DEFAULT_SUFFIX)
    long_name = next(
        (
            name
            for name in (layout.asset_bucket_name(suffix, account, r) for r in regions)
            if len(name) > layout.MAX_BUCKET_NAME
        ),
        None,
    )
    if long_name is not None:
        raise StackSettingsError(
            f"deploymentRegions: the asset bucket {long_name} would be longer than S3's "
            f"{layout.MAX_BUCKET_NAME} characters; use a shorter environmentSuffix"
        )
    if len(regions) > MAX_DEPLOYMENT_REGIONS:
        raise StackSettingsError(
            f"deploymentRegions: {len(regions)} regions; at most {MAX_DEPLOYMENT_REGIONS}"
        )
    required("organizationAccounts", "the accounts Athena's table reads, 12 digits each")
    accounts = _list(values, "organizationAccounts")
    bad = next((a for a in accounts if not _ACCOUNT_RE.match(a)), None)
    if bad is not None:
        raise StackSettingsError(f"organizationAccounts: {bad!r} is not a 12-digit account id")
    if len(accounts) > MAX_ORGANIZATION_ACCOUNTS:
        raise StackSettingsError(
            f"organizationAccounts: {len(accounts)} accounts; at most "
            f"{MAX_ORGANIZATION_ACCOUNTS} (Athena's enum projection lives in the table's metadata)"
        )
    call_as = _text(values, "stackSetCallAs", STACKSET_CALLERS[0]).upper()
    if call_as not in STACKSET_CALLERS:
        raise StackSettingsError(
            f"stackSetCallAs={call_as!r}: must be one of {', '.join(STACKSET_CALLERS)}"
        )
    for key, items in (
        ("targetOrganizationalUnits", units),
        ("deploymentRegions", regions),
        ("organizationAccounts", accounts),
    ):
        twice = next((i for i in items if items.count(i) > 1), None)
        if twice is not None:
            raise StackSettingsError(f"{key}: {twice!r} is listed twice")
    return OrganizationSettings(
        evidence_account=account,
        organization_id=org,
        target_organizational_units=tuple(units),
        deployment_regions=tuple(regions),
        accounts=tuple(accounts),
        stack_set_call_as=call_as,
    )


_ORGANIZATION_KEYS = (
    "evidenceAccount",
    "organizationId",
    "targetOrganizationalUnits",
    "deploymentRegions",
    "organizationAccounts",
    "stackSetCallAs",
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
    "deployment",
    *_ORGANIZATION_KEYS,
)


def _list(values: Mapping[str, Any], key: str) -> list[str]:
    """A list setting: a JSON list in cdk.json, or comma-separated text from ``-c key=a,b``."""
    value = values.get(key)
    if value is None:
        return []
    items = value if isinstance(value, list) else str(value).split(",")
    if not all(isinstance(i, (str, int)) and not isinstance(i, bool) for i in items):
        raise StackSettingsError(f"{key}={value!r}: must be a list of text values")
    out = [str(i).strip() for i in items]
    if any(not i for i in out):
        raise StackSettingsError(f"{key}={value!r}: has an empty entry")
    return out


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
