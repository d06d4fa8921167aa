"""Typed settings read once from the environment variables the stack sets on the function."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from . import environment as var
from .errors import SettingsError

_SUFFIX = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
_RULE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
_MANAGED_ID = re.compile(r"^[A-Z0-9_]+$")
_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-[0-9]$")
# Limits the stack's settings already enforce (lib/settings.py); checked again because a wrong value
# here would silently change who gets how many e-mails.
MAX_DIGEST_THRESHOLD = 100
MAX_WINDOW_SECONDS = 300  # MaximumBatchingWindowInSeconds, Lambda CreateEventSourceMapping


@dataclass(frozen=True)
class MonitoredRule:
    name: str
    managed_identifier: str


@dataclass(frozen=True)
class Settings:
    topic_arn: str
    environment_suffix: str
    rules: tuple[MonitoredRule, ...]
    digest_threshold: int
    digest_window_seconds: int
    send_resolved: bool
    health_check_minutes: int
    region: str

    def rule(self, name: str) -> MonitoredRule | None:
        return next((r for r in self.rules if r.name == name), None)


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise SettingsError(f"environment variable {name} is required and must not be empty")
    return value


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
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


def _rules(raw: str) -> tuple[MonitoredRule, ...]:
    try:
        items = json.loads(raw)
    except ValueError as e:
        raise SettingsError(f"{var.MONITORED_RULES} must be a JSON list: {e}") from e
    if not isinstance(items, list) or not items:
        raise SettingsError(
            f"{var.MONITORED_RULES} must be a non-empty JSON list of {{name, managedIdentifier}}"
        )
    rules = []
    for index, item in enumerate(items):
        if not isinstance(item, dict) or set(item) != {"name", "managedIdentifier"}:
            raise SettingsError(
                f"{var.MONITORED_RULES}[{index}] must be an object with exactly 'name' and "
                "'managedIdentifier'"
            )
        name, managed = item["name"], item["managedIdentifier"]
        if not isinstance(name, str) or not _RULE_NAME.match(name):
            raise SettingsError(
                f"{var.MONITORED_RULES}[{index}].name {name!r} is not a Config rule name"
            )
        if not isinstance(managed, str) or not _MANAGED_ID.match(managed):
            raise SettingsError(
                f"{var.MONITORED_RULES}[{index}].managedIdentifier {managed!r} must match "
                "^[A-Z0-9_]+$"
            )
        rules.append(MonitoredRule(name, managed))
    return tuple(rules)


def load_settings(env: Mapping[str, str]) -> Settings:
    """Read and check every setting; raise SettingsError naming the first bad variable."""
    suffix = _required(env, var.ENVIRONMENT_SUFFIX)
    if len(suffix) > 16 or not _SUFFIX.match(suffix):
        raise SettingsError(
            f"{var.ENVIRONMENT_SUFFIX} {suffix!r} must be 1-16 lower-case letters, digits or inner "
            "hyphens"
        )
    region = _required(env, "AWS_REGION")
    if not _REGION.match(region):
        raise SettingsError(f"AWS_REGION {region!r} is not a region name")
    topic = _required(env, var.ALERT_TOPIC_ARN)
    if not topic.startswith("arn:") or topic.count(":") != 5:
        raise SettingsError(f"{var.ALERT_TOPIC_ARN} {topic!r} is not an SNS topic ARN")
    resolved = env.get(var.SEND_RESOLVED, "false").strip().lower() or "false"
    if resolved not in ("true", "false"):
        raise SettingsError(f"{var.SEND_RESOLVED} must be true or false, got {resolved!r}")
    return Settings(
        topic_arn=topic,
        environment_suffix=suffix,
        rules=_rules(_required(env, var.MONITORED_RULES)),
        digest_threshold=_int(
            env, var.DIGEST_THRESHOLD, var.DEFAULT_DIGEST_THRESHOLD, 1, MAX_DIGEST_THRESHOLD
        ),
        digest_window_seconds=_int(
            env,
            var.DIGEST_WINDOW_SECONDS,
            var.DEFAULT_DIGEST_WINDOW_SECONDS,
            1,
            MAX_WINDOW_SECONDS,
        ),
        send_resolved=resolved == "true",
        health_check_minutes=_int(
            env, var.HEALTH_CHECK_MINUTES, var.DEFAULT_HEALTH_CHECK_MINUTES, 1, 1440
        ),
        region=region,
    )
