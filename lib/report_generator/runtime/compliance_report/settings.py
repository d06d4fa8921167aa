"""Typed settings read once from the environment variables the stack sets on the function."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from . import environment as var
from .errors import SettingsError
from .exceptions import KEY as REGISTER_KEY

# Report keys of schema v1 live under reports/ (the schema's previousKey pattern fixes it), so the prefix
# is checked rather than trusted: reports/ for a single account's trail, reports/<account>/<region>/ for
# an organization member's trail in the central bucket (docs/report-format.md, Where reports live).
REPORT_PREFIX_V1 = var.DEFAULT_REPORT_PREFIX
_TRAIL = r"(?P<trail>[0-9]{12}/[a-z]{2}(-gov)?-[a-z]+-[0-9]/)"
_REPORT_PREFIX = re.compile(rf"^reports/{_TRAIL}?$")
DEFAULT_CHAIN_PREFIX = var.DEFAULT_CHAIN_PREFIX
_SUFFIX = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
_RULE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
_MANAGED_ID = re.compile(r"^[A-Z0-9_]+$")
_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-[0-9]$")
_PREFIX = re.compile(rf"^[A-Za-z0-9_.-]+/{_TRAIL}?$")
# SSM parameter names: letters, digits and ._-/ , at most 1011 characters for a name without its
# path's leading slash (AWS Systems Manager API Reference, PutParameter, Name); the stack's is short.
_PARAMETER = re.compile(r"^/?[A-Za-z0-9_.\-/]{1,1011}$")


@dataclass(frozen=True)
class MonitoredRule:
    name: str
    managed_identifier: str


@dataclass(frozen=True)
class Settings:
    bucket: str
    report_prefix: str
    chain_prefix: str
    topic_arn: str
    rules: tuple[MonitoredRule, ...]
    environment_suffix: str
    metrics_namespace: str
    alert_max_resources: int
    region: str
    store_reserve_ms: int | None
    max_attempts: int  # AWS calls per request, the first included
    witness_parameter: str | None = None  # SSM parameter of the newest head (witness.py)
    # The deployed exceptions register: its key in the bucket and the file holding its bytes
    # (exceptions.py); both None when the function has none configured.
    exceptions_register_key: str | None = None
    exceptions_register_path: str | None = None


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise SettingsError(f"environment variable {name} is required and must not be empty")
    return value


def _parse_rules(raw: str) -> tuple[MonitoredRule, ...]:
    try:
        items = json.loads(raw)
    except ValueError as e:
        raise SettingsError(f"MONITORED_RULES must be a JSON list: {e}") from e
    if not isinstance(items, list) or not items:
        raise SettingsError(
            "MONITORED_RULES must be a non-empty JSON list of {name, managedIdentifier}"
        )
    rules = []
    for index, item in enumerate(items):
        if not isinstance(item, dict) or set(item) != {"name", "managedIdentifier"}:
            raise SettingsError(
                f"MONITORED_RULES[{index}] must be an object with exactly 'name' and 'managedIdentifier'"
            )
        name, managed = item["name"], item["managedIdentifier"]
        if not isinstance(name, str) or not _RULE_NAME.match(name):
            raise SettingsError(f"MONITORED_RULES[{index}].name {name!r} is not a Config rule name")
        if not isinstance(managed, str) or not _MANAGED_ID.match(managed) or len(managed) > 256:
            raise SettingsError(
                f"MONITORED_RULES[{index}].managedIdentifier {managed!r} must match ^[A-Z0-9_]+$ "
                "and be at most 256 characters (AWS Config's SourceIdentifier)"
            )
        rules.append(MonitoredRule(name, managed))
    names = [r.name for r in rules]
    if len(set(names)) != len(names):
        raise SettingsError("MONITORED_RULES names must be unique")
    return tuple(rules)


def _int_in_range(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as e:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from e
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, got {value}")
    return value


def load_settings(env: Mapping[str, str]) -> Settings:
    """Read and check every setting; raise SettingsError naming the first bad variable."""
    prefix = env.get(var.REPORT_PREFIX, "").strip() or REPORT_PREFIX_V1
    report_match = _REPORT_PREFIX.match(prefix)
    if report_match is None:
        raise SettingsError(
            f"REPORT_PREFIX {prefix[:80]!r} must be {REPORT_PREFIX_V1!r} or "
            "'reports/<12-digit account>/<region>/': report format v1 fixes report keys under them"
        )
    chain_prefix = env.get(var.CHAIN_PREFIX, "").strip() or DEFAULT_CHAIN_PREFIX
    chain_match = _PREFIX.match(chain_prefix)
    if chain_match is None or chain_prefix.startswith(REPORT_PREFIX_V1):
        raise SettingsError(
            f"CHAIN_PREFIX {chain_prefix[:80]!r} must be one path segment ending in '/' (and, for "
            f"an organization's trail, <account>/<region>/) outside {REPORT_PREFIX_V1!r}"
        )
    if chain_match.group("trail") != report_match.group("trail"):
        raise SettingsError(
            f"CHAIN_PREFIX {chain_prefix!r} and REPORT_PREFIX {prefix!r} must name the same trail "
            "(both without an account, or both with the same <account>/<region>/)"
        )
    suffix = _required(env, var.ENVIRONMENT_SUFFIX)
    if len(suffix) > 16 or not _SUFFIX.match(suffix):
        raise SettingsError(
            f"ENVIRONMENT_SUFFIX {suffix!r} must be 1-16 lower-case letters, digits or inner hyphens"
        )
    region = _required(env, "AWS_REGION")
    if not _REGION.match(region):
        raise SettingsError(f"AWS_REGION {region!r} is not a region name")
    topic = _required(env, var.ALERT_TOPIC_ARN)
    if not topic.startswith("arn:") or topic.count(":") != 5:
        raise SettingsError(f"ALERT_TOPIC_ARN {topic!r} is not an SNS topic ARN")
    witness = env.get(var.WITNESS_PARAMETER, "").strip() or None
    if witness is not None and not _PARAMETER.match(witness):
        raise SettingsError(
            f"WITNESS_PARAMETER {witness[:80]!r} is not an SSM parameter name (letters, digits, "
            "._-/, at most 1011 characters)"
        )
    register_key = env.get(var.EXCEPTIONS_REGISTER_KEY, "").strip() or None
    register_path = env.get(var.EXCEPTIONS_REGISTER_PATH, "").strip() or None
    if (register_key is None) != (register_path is None):
        raise SettingsError(
            f"{var.EXCEPTIONS_REGISTER_KEY} and {var.EXCEPTIONS_REGISTER_PATH} are set together or "
            "not at all"
        )
    if register_key is not None and not REGISTER_KEY.match(register_key):
        raise SettingsError(
            f"{var.EXCEPTIONS_REGISTER_KEY} {register_key[:80]!r} must be exceptions/<sha256>.json "
            "(64 lower-case hex digits)"
        )
    reserve_raw = env.get(var.STORE_RESERVE_MS, "").strip()
    store_reserve = (
        _int_in_range(env, var.STORE_RESERVE_MS, 0, 100, 600_000) if reserve_raw else None
    )
    return Settings(
        bucket=_required(env, var.REPORT_BUCKET),
        report_prefix=prefix,
        chain_prefix=chain_prefix,
        topic_arn=topic,
        rules=_parse_rules(_required(env, var.MONITORED_RULES)),
        environment_suffix=suffix,
        metrics_namespace=env.get(var.METRICS_NAMESPACE, "").strip()
        or var.DEFAULT_METRICS_NAMESPACE,
        alert_max_resources=_int_in_range(
            env, var.ALERT_MAX_RESOURCES, var.DEFAULT_ALERT_MAX_RESOURCES, 0, 1000
        ),
        region=region,
        store_reserve_ms=store_reserve,
        max_attempts=_int_in_range(
            env, var.MAX_ATTEMPTS, var.DEFAULT_MAX_ATTEMPTS, 1, var.MAX_ATTEMPTS_LIMIT
        ),
        witness_parameter=witness,
        exceptions_register_key=register_key,
        exceptions_register_path=register_path,
    )
