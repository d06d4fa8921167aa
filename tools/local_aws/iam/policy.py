"""Policy documents and the allow / explicit deny / implicit deny decision for one request.

Evaluation follows the IAM User Guide, *Policy evaluation logic* and *Policy evaluation for
requests within a single account*, for the policy types this project deploys (identity-based
policies of roles and resource-based policies of buckets, topics and queues; no SCPs, permissions
boundaries or session policies):

1. A request is denied unless some statement allows it (implicit deny).
2. A Deny statement that applies, in any identity or resource policy, wins (explicit deny).
3. Within one account, an Allow in either the principal's identity policies or the resource's
   policy is enough ("If either the identity-based policy or the resource-based policy within the
   same account allows the request and the other doesn't, the request is still allowed").
4. Across accounts, both must allow: "the identity-based policy in the requesting account must allow
   the request, and the resource-based policy in the account that owns the resource must allow the
   request" (*Cross-account policy evaluation logic*). A resource policy naming the requester's
   account (``123456789012`` or its ``:root`` ARN) grants it to that account, whose identity policies
   then decide.

Policy variables (``${aws:PrincipalAccount}``) in Resource and condition values are replaced from
the request context when the statement is evaluated (``variables.py``).

A statement applies when its action, resource, principal (resource policies) and condition all
match. The request's resource for an action that has no resource type in the Service
Authorization Reference is ``*``, so only a ``Resource`` of ``*`` (or a ``NotResource``) names it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from . import variables
from .conditions import Clause, PolicyError, parse_condition
from .globs import Pattern, action_pattern, resource_pattern

IDENTITY, RESOURCE, TRUST = "identity", "resource", "trust"
_STATEMENT_KEYS = {
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
}
# IAM User Guide, IAM JSON policy elements: Action - "service:action", wildcards allowed, or "*".
_ACTION = re.compile(r"^(\*|[a-z0-9-]+:[A-Za-z0-9*?-]+)$", re.IGNORECASE)
_SID = re.compile(r"^[A-Za-z0-9]*$")
VERSIONS = ("2012-10-17", "2008-10-17")  # IAM User Guide, IAM JSON policy elements: Version


@dataclass(frozen=True)
class Principal:
    """Who makes a request: an assumed role session, a service, or nobody (anonymous)."""

    kind: str  # "role", "service" or "anonymous"
    arn: str = ""  # the role ARN, e.g. arn:aws:iam::123456789012:role/name
    session_arn: str = ""  # arn:aws:sts::123456789012:assumed-role/name/session
    account: str = ""
    service: str = ""  # e.g. config.amazonaws.com

    @property
    def display(self) -> str:
        return self.session_arn or self.arn or self.service or "anonymous"


def _strings(value: object, where: str) -> tuple[str, ...]:
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, str) and v for v in values):
        raise PolicyError(f"{where}: must be a non-empty string or list of non-empty strings")
    return tuple(values)


def _principals(value: object, where: str) -> dict[str, tuple[str, ...]] | str:
    if value == "*":
        return "*"
    if not isinstance(value, dict) or not value:
        raise PolicyError(f'{where}: must be "*" or an object such as {{"AWS": [...]}}')
    out = {}
    for kind, ids in value.items():
        if kind not in ("AWS", "Service", "Federated", "CanonicalUser"):
            raise PolicyError(f"{where}: unknown principal type {kind!r}")
        out[kind] = _strings(ids, f"{where}.{kind}")
    return out


@dataclass(frozen=True)
class Statement:
    where: str  # "<policy name> Statement[i]" (+ Sid), for messages
    sid: str | None
    effect: str
    actions: tuple[Pattern, ...] = ()
    not_actions: tuple[Pattern, ...] = ()
    resources: tuple[Pattern, ...] = ()
    not_resources: tuple[Pattern, ...] = ()
    principal: dict[str, tuple[str, ...]] | str | None = None
    not_principal: dict[str, tuple[str, ...]] | str | None = None
    condition: tuple[Clause, ...] = ()
    raw: Mapping[str, object] = field(default_factory=dict, compare=False)

    @cached_property
    def _action_regex(self) -> re.Pattern[str]:
        # One alternation: a managed policy statement can list more than a thousand actions.
        patterns = self.actions or self.not_actions
        return re.compile("|".join(f"(?:{p.regex.pattern})" for p in patterns), re.IGNORECASE)

    def names_action(self, action: str) -> bool:
        hit = self._action_regex.fullmatch(action) is not None
        return hit if self.actions else not hit

    def names_resource(self, resource: str, context: Mapping[str, Sequence[str]] = {}) -> bool:  # noqa: B006
        if not self.resources and not self.not_resources:
            return True  # trust policies have no Resource element
        hit = any(_names(p, resource, context) for p in self.resources or self.not_resources)
        return hit if self.resources else not hit

    def names_principal(
        self, principal: Principal, granting: bool, cross_account: bool = False
    ) -> bool:
        if self.principal is None and self.not_principal is None:
            return True  # identity policies: the principal is the one the policy is attached to
        if self.principal is not None:
            return _principal_matches(self.principal, principal, granting, cross_account)
        return not _principal_matches(self.not_principal, principal, granting, cross_account)  # type: ignore[arg-type]

    def applies(
        self,
        action: str,
        resource: str,
        principal: Principal,
        context: Mapping[str, Sequence[str]],
        cross_account: bool = False,
    ) -> bool:
        return (
            self.names_action(action)
            and self.names_resource(resource, context)
            and self.names_principal(principal, self.effect == "Allow", cross_account)
            and all(clause.holds(context) for clause in self.condition)
        )


def _names(pattern: Pattern, resource: str, context: Mapping[str, Sequence[str]]) -> bool:
    """A Resource entry against the request's resource; a variable is replaced from the context, and
    an entry whose variable has no value names nothing."""
    if not variables.has_variables(pattern.text):
        return pattern.matches(resource)
    resolved = variables.substitute(pattern.text, context)
    return resolved is not None and resource_pattern(*resolved).matches(resource)


def _principal_matches(
    spec: dict[str, tuple[str, ...]] | str,
    principal: Principal,
    granting: bool,
    cross_account: bool = False,
) -> bool:
    """Does a Principal element name this principal?

    ``"*"`` and ``{"AWS": "*"}`` name everyone, anonymous included. An account (``123456789012`` or
    its ``:root`` ARN) in an Allow delegates to the account's identity policies rather than granting
    (IAM User Guide, *AWS JSON policy elements: Principal*, "AWS account principals"): within the
    account it grants nothing by itself; across accounts it is the resource policy's half of the
    grant (the identity policies must allow too); in a Deny it names every principal of the account.
    """
    if spec == "*":
        return True
    assert isinstance(spec, dict)
    for kind, ids in spec.items():
        for ident in ids:
            if kind == "AWS":
                if ident == "*":
                    return True
                if principal.kind != "role":
                    continue
                if ident in (principal.arn, principal.session_arn):
                    return True
                is_account = ident == principal.account or ident == _root_arn(principal)
                if is_account and (cross_account or not granting):
                    return True
            elif kind == "Service" and principal.kind == "service" and ident == principal.service:
                return True
    return False


def _root_arn(principal: Principal) -> str:
    partition = principal.arn.split(":", 2)[1] if principal.arn else "aws"
    return f"arn:{partition}:iam::{principal.account}:root"


@dataclass(frozen=True)
class Policy:
    name: str
    kind: str  # IDENTITY, RESOURCE or TRUST
    statements: tuple[Statement, ...]


def parse_policy(document: object, name: str, kind: str) -> Policy:
    """Check a policy document as IAM would and compile it; ``PolicyError`` names what is wrong."""
    if not isinstance(document, dict):
        raise PolicyError(f"{name}: a policy document must be a JSON object")
    extra = sorted(set(document) - {"Version", "Id", "Statement"})
    if extra:
        raise PolicyError(f"{name}: unknown top-level element {extra[0]!r}")
    if document.get("Version") not in VERSIONS:
        raise PolicyError(f"{name}: Version must be one of {', '.join(VERSIONS)}")
    raw = document.get("Statement")
    statements = raw if isinstance(raw, list) else [raw]
    if raw is None or not statements:
        raise PolicyError(f"{name}: Statement is required")
    parsed = tuple(
        parse_statement(s, f"{name} Statement[{i}]", kind) for i, s in enumerate(statements)
    )
    sids = [s.sid for s in parsed if s.sid and kind == IDENTITY]
    duplicates = sorted({sid for sid in sids if sids.count(sid) > 1})
    if duplicates:
        raise PolicyError(f"{name}: Sid {duplicates[0]!r} is used by more than one statement")
    return Policy(name, kind, parsed)


def parse_statement(raw: object, where: str, kind: str) -> Statement:
    if not isinstance(raw, dict):
        raise PolicyError(f"{where}: a statement must be a JSON object")
    extra = sorted(set(raw) - _STATEMENT_KEYS)
    if extra:
        raise PolicyError(f"{where}: unknown element {extra[0]!r}")
    sid = raw.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise PolicyError(f"{where}: Sid must be a string")
    # IAM accepts only letters and digits in an identity policy's Sid (IAM JSON policy elements:
    # Sid); services with resource policies (S3, SNS, SQS) accept more.
    if kind == IDENTITY and sid is not None and not _SID.match(sid):
        raise PolicyError(f"{where}: Sid must be letters and digits only")
    if sid:
        where = f"{where} ({sid})"
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyError(f"{where}: Effect must be Allow or Deny")
    if ("Action" in raw) == ("NotAction" in raw):
        raise PolicyError(f"{where}: exactly one of Action and NotAction is required")
    has_resource = "Resource" in raw or "NotResource" in raw
    if "Resource" in raw and "NotResource" in raw:
        raise PolicyError(f"{where}: Resource and NotResource cannot be used together")
    has_principal = "Principal" in raw or "NotPrincipal" in raw
    if "Principal" in raw and "NotPrincipal" in raw:
        raise PolicyError(f"{where}: Principal and NotPrincipal cannot be used together")
    if kind == IDENTITY and has_principal:
        raise PolicyError(f"{where}: an identity-based policy cannot name a Principal")
    if kind != IDENTITY and not has_principal:
        raise PolicyError(f"{where}: a {kind} policy statement needs a Principal")
    if kind != TRUST and not has_resource:
        raise PolicyError(f"{where}: exactly one of Resource and NotResource is required")
    if kind == TRUST and has_resource:
        raise PolicyError(f"{where}: a trust policy has no Resource")

    def actions(key: str) -> tuple[Pattern, ...]:
        if key not in raw:
            return ()
        texts = _strings(raw[key], f"{where}.{key}")
        for text in texts:
            if not _ACTION.match(text):
                raise PolicyError(f"{where}.{key}: {text!r} is not service:Action or *")
        return tuple(action_pattern(t) for t in texts)

    def resources(key: str) -> tuple[Pattern, ...]:
        if key not in raw:
            return ()
        texts = _strings(raw[key], f"{where}.{key}")
        for text in texts:
            if text != "*" and not text.startswith("arn:"):
                raise PolicyError(f"{where}.{key}: {text!r} is neither * nor an ARN")
            variables.check(text, f"{where}.{key}")
        # A variable's entry keeps its text (evaluated per request) and, for the linter, the tokens
        # of what it can name: each variable as "*".
        return tuple(
            Pattern(t, resource_pattern(variables.wildcarded(t)).tokens)
            if variables.has_variables(t)
            else resource_pattern(t)
            for t in texts
        )

    return Statement(
        where=where,
        sid=sid or None,
        effect=effect,
        actions=actions("Action"),
        not_actions=actions("NotAction"),
        resources=resources("Resource"),
        not_resources=resources("NotResource"),
        principal=_principals(raw["Principal"], f"{where}.Principal")
        if "Principal" in raw
        else None,
        not_principal=(
            _principals(raw["NotPrincipal"], f"{where}.NotPrincipal")
            if "NotPrincipal" in raw
            else None
        ),
        condition=parse_condition(raw.get("Condition"), where),
        raw=raw,
    )


ALLOW = "allow"
EXPLICIT_DENY_IDENTITY = "explicit deny in an identity-based policy"
EXPLICIT_DENY_RESOURCE = "explicit deny in a resource-based policy"
IMPLICIT_DENY = "implicit deny"
# Across accounts: the identity policy allowed, the resource policy did not.
IMPLICIT_DENY_RESOURCE = "implicit deny in the resource-based policy"


@dataclass(frozen=True)
class Decision:
    outcome: str  # ALLOW, EXPLICIT_DENY_IDENTITY, EXPLICIT_DENY_RESOURCE or IMPLICIT_DENY
    action: str
    resource: str
    statement: str | None = None  # the statement that allowed or denied

    @property
    def allowed(self) -> bool:
        return self.outcome == ALLOW


def decide(
    action: str,
    resource: str,
    principal: Principal,
    context: Mapping[str, Sequence[str]],
    identity: Sequence[Policy],
    resource_policies: Sequence[Policy] = (),
    cross_account: bool = False,
) -> Decision:
    """Decide one (action, resource) request; ``context`` keys are lower-case. ``cross_account``: the
    principal's account does not own the resource, so both kinds of policy must allow."""
    allowed: dict[str, str] = {}
    for policies, kind, deny_outcome in (
        (identity, IDENTITY, EXPLICIT_DENY_IDENTITY),
        (resource_policies, RESOURCE, EXPLICIT_DENY_RESOURCE),
    ):
        for policy in policies:
            for statement in policy.statements:
                if not statement.applies(action, resource, principal, context, cross_account):
                    continue
                if statement.effect == "Deny":
                    return Decision(deny_outcome, action, resource, statement.where)
                allowed.setdefault(kind, statement.where)
    if cross_account:
        if IDENTITY not in allowed:
            return Decision(IMPLICIT_DENY, action, resource)
        if RESOURCE not in allowed:
            return Decision(IMPLICIT_DENY_RESOURCE, action, resource)
        return Decision(ALLOW, action, resource, allowed[RESOURCE])
    if allowed:
        return Decision(ALLOW, action, resource, allowed.get(IDENTITY) or allowed[RESOURCE])
    return Decision(IMPLICIT_DENY, action, resource)
