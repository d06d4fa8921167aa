"""The policies of a synthesized CloudFormation template, resolved to concrete ARNs.

``StackTemplate(template, account=..., region=...)`` reads ``cdk.out/ComplianceAudit-<suffix>.
template.json`` and answers, for one account and region:

* ``roles()``: each ``AWS::IAM::Role`` with its effective identity policies: inline ``Policies``,
  ``ManagedPolicyArns`` (customer managed ones found in the template, AWS managed ones from moto's
  copy of the AWS managed policies, ``moto/iam/aws_managed_policies.py``, pinned with moto),
  ``AWS::IAM::ManagedPolicy`` and ``AWS::IAM::Policy`` resources that name the role in ``Roles``,
  and ``AWS::IAM::RolePolicy``; plus its trust policy;
* ``resource_policies()``: ``AWS::S3::BucketPolicy``, ``AWS::SNS::TopicPolicy`` and
  ``AWS::SQS::QueuePolicy``, each with the ARNs it governs;
* ``documents()``: every policy document with where it came from, for the linter.

Intrinsics: ``Ref``, ``Fn::GetAtt``, ``Fn::Join``, ``Fn::Sub``, ``Fn::Select``, ``Fn::Split`` and
the pseudo parameters ``AWS::AccountId``, ``AWS::Region``, ``AWS::Partition``, ``AWS::URLSuffix``,
``AWS::StackName``. ``Ref`` and ``GetAtt`` answer what CloudFormation documents as each resource
type's return values (*AWS resource and property types reference*, "Return values" of each type),
computed from the resource's physical name property. Attributes the service assigns at deploy time
(an AWS Config rule's ``Arn`` is ``config-rule/config-rule-<id>``, not its name) are asked of a
``deploy_time`` callback: the emulator answers from its own state, the linter with a stand-in.
Anything else is a ``TemplateError`` naming the logical id.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .policy import IDENTITY, RESOURCE, TRUST


class TemplateError(ValueError):
    """A template this loader cannot resolve; the message names the logical id."""


class Unresolved(LookupError):
    """A deploy-time attribute the deploy_time callback cannot answer now (e.g. no such rule yet)."""


@dataclass(frozen=True)
class DeployTimeAttribute:
    logical_id: str
    resource_type: str
    attribute: str
    physical_name: str  # e.g. the ConfigRuleName


DeployTime = Callable[[DeployTimeAttribute], str]


@dataclass(frozen=True)
class Document:
    """One policy document of the template, resolved."""

    name: str  # e.g. "ReportGeneratorRolePolicy9AC1B045 (compliance-report-generator-dev-policy)"
    kind: str  # IDENTITY, RESOURCE or TRUST
    document: dict[str, Any]
    logical_id: str  # the resource that holds it ("aws-managed" for AWS managed policies)


@dataclass(frozen=True)
class Role:
    logical_id: str
    name: str
    arn: str
    trust: Document
    identity: tuple[Document, ...]


@dataclass(frozen=True)
class ResourcePolicy:
    document: Document
    governs: tuple[str, ...]  # ARNs: a bucket ARN covers the bucket and its objects

    def covers(self, resource_arn: str) -> bool:
        for arn in self.governs:
            if resource_arn == arn:
                return True
            if (
                arn.startswith("arn:")
                and arn.split(":")[2] == "s3"
                and resource_arn.startswith(arn + "/")
            ):
                return True
        return False


def stand_in_ids(attribute: DeployTimeAttribute) -> str:
    """A deploy_time callback for offline use: a stand-in id derived from the logical id."""
    if (
        attribute.resource_type == "AWS::Config::ConfigRule"
        and attribute.attribute == "ConfigRuleId"
    ):
        return f"<{attribute.logical_id}.ConfigRuleId>"
    raise Unresolved(f"{attribute.logical_id}.{attribute.attribute}")


AWS_MANAGED_POLICY_PREFIX = ":iam::aws:policy/"


class StackTemplate:
    def __init__(
        self,
        template: dict[str, Any],
        *,
        account: str = "123456789012",
        region: str = "us-east-1",
        partition: str = "aws",
        stack_name: str = "",
        deploy_time: DeployTime = stand_in_ids,
    ) -> None:
        if not isinstance(template, dict) or not isinstance(template.get("Resources"), dict):
            raise TemplateError("template: no Resources object")
        self.template = template
        self.resources: dict[str, dict[str, Any]] = template["Resources"]
        self.account, self.region, self.partition = account, region, partition
        self.url_suffix = "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"
        self.stack_name = stack_name
        self.deploy_time = deploy_time

    @classmethod
    def from_file(cls, path: str | Path, **kwargs: Any) -> StackTemplate:
        path = Path(path)
        try:
            template = json.loads(path.read_text(encoding="utf-8"))
        except OSError as e:
            raise TemplateError(f"{path}: cannot read ({e.strerror or e})") from None
        except ValueError as e:
            raise TemplateError(f"{path}: not JSON ({e})") from None
        stack_name = path.name.removesuffix(".template.json")
        kwargs.setdefault("stack_name", stack_name)
        return cls(template, **kwargs)

    # -- intrinsics -------------------------------------------------------------------------------
    def resolve(self, node: Any, where: str) -> Any:
        """``node`` with every intrinsic replaced by its value; ``where`` names the holder."""
        if isinstance(node, list):
            return [self.resolve(item, where) for item in node]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref":
                return self._ref(arg, where)
            if key == "Fn::GetAtt":
                return self._get_att(arg, where)
            if key == "Fn::Join":
                return self._join(arg, where)
            if key == "Fn::Sub":
                return self._sub(arg, where)
            if key == "Fn::Select":
                return self._select(arg, where)
            if key == "Fn::Split":
                return self._split(arg, where)
            if key.startswith("Fn::") or key == "Condition":
                raise TemplateError(f"{where}: intrinsic {key} is not supported")
        return {k: self.resolve(v, where) for k, v in node.items()}

    def _pseudo(self, name: str, where: str) -> str:
        values = {
            "AWS::AccountId": self.account,
            "AWS::Region": self.region,
            "AWS::Partition": self.partition,
            "AWS::URLSuffix": self.url_suffix,
            "AWS::StackName": self.stack_name,
        }
        if name not in values or not values[name]:
            raise TemplateError(f"{where}: pseudo parameter {name} is not resolvable here")
        return values[name]

    def _ref(self, name: Any, where: str) -> str:
        if not isinstance(name, str):
            raise TemplateError(f"{where}: Ref takes a name")
        if name.startswith("AWS::"):
            return self._pseudo(name, where)
        parameters = self.template.get("Parameters", {})
        if name in parameters:
            if "Default" not in parameters[name]:
                raise TemplateError(f"{where}: Ref {name}: a parameter without a default")
            return str(parameters[name]["Default"])
        return self.attribute(name, "Ref", where)

    def _get_att(self, arg: Any, where: str) -> str:
        if isinstance(arg, str):
            arg = arg.split(".", 1)
        if not (isinstance(arg, list) and len(arg) == 2 and all(isinstance(a, str) for a in arg)):
            raise TemplateError(f"{where}: Fn::GetAtt takes [LogicalId, Attribute]")
        return self.attribute(arg[0], arg[1], where)

    def _join(self, arg: Any, where: str) -> str:
        if not (isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str)):
            raise TemplateError(f"{where}: Fn::Join takes [delimiter, [values]]")
        values = self.resolve(arg[1], where)
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise TemplateError(f"{where}: Fn::Join values must resolve to strings")
        return arg[0].join(values)

    def _sub(self, arg: Any, where: str) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
        if not isinstance(text, str) or not isinstance(variables, dict):
            raise TemplateError(f"{where}: Fn::Sub takes a string or [string, {{variables}}]")
        out, i = [], 0
        while i < len(text):
            start = text.find("${", i)
            if start < 0:
                out.append(text[i:])
                break
            out.append(text[i:start])
            end = text.find("}", start)
            if end < 0:
                raise TemplateError(f"{where}: Fn::Sub: unclosed ${{ in {text!r}")
            name = text[start + 2 : end]
            if name.startswith("!"):
                out.append("${" + name[1:] + "}")  # ${!Literal} is the literal ${Literal}
            elif name in variables:
                out.append(str(self.resolve(variables[name], where)))
            elif "." in name:
                out.append(self.attribute(*name.split(".", 1), where))
            else:
                out.append(self._ref(name, where))
            i = end + 1
        return "".join(out)

    def _select(self, arg: Any, where: str) -> Any:
        if not (isinstance(arg, list) and len(arg) == 2):
            raise TemplateError(f"{where}: Fn::Select takes [index, [values]]")
        values = self.resolve(arg[1], where)
        index = int(self.resolve(arg[0], where))
        if not isinstance(values, list) or not 0 <= index < len(values):
            raise TemplateError(f"{where}: Fn::Select index {index} is out of range")
        return values[index]

    def _split(self, arg: Any, where: str) -> list[str]:
        if not (isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str)):
            raise TemplateError(f"{where}: Fn::Split takes [delimiter, string]")
        source = self.resolve(arg[1], where)
        if not isinstance(source, str):
            raise TemplateError(f"{where}: Fn::Split source must resolve to a string")
        return source.split(arg[0])

    # -- return values of the resource types the stack uses -------------------------------------
    def _name(self, logical_id: str, prop: str, where: str) -> str:
        value = self.resolve(self.resources[logical_id].get("Properties", {}).get(prop), where)
        if not isinstance(value, str) or not value:
            raise TemplateError(
                f"{where}: {logical_id} has no {prop}; CloudFormation would generate a name, "
                "so its ARN is not known before deployment"
            )
        return value

    def attribute(self, logical_id: str, attribute: str, where: str) -> str:
        """``Ref`` (attribute "Ref") or ``Fn::GetAtt`` of a resource in the template."""
        resource = self.resources.get(logical_id)
        if resource is None:
            raise TemplateError(f"{where}: {logical_id} is not a resource of the template")
        kind = resource.get("Type", "")
        p, r, a = self.partition, self.region, self.account
        props = resource.get("Properties", {})

        def name(prop: str) -> str:
            return self._name(logical_id, prop, where)

        def path() -> str:
            value = self.resolve(props.get("Path", "/"), where)
            return value if isinstance(value, str) else "/"

        table: dict[str, dict[str, Callable[[], str]]] = {
            "AWS::S3::Bucket": {
                "Ref": lambda: name("BucketName"),
                "Arn": lambda: f"arn:{p}:s3:::{name('BucketName')}",
            },
            "AWS::SNS::Topic": {
                "Ref": lambda: f"arn:{p}:sns:{r}:{a}:{name('TopicName')}",
                "TopicArn": lambda: f"arn:{p}:sns:{r}:{a}:{name('TopicName')}",
                "TopicName": lambda: name("TopicName"),
            },
            "AWS::SQS::Queue": {
                "Ref": lambda: f"https://sqs.{r}.{self.url_suffix}/{a}/{name('QueueName')}",
                "QueueUrl": lambda: f"https://sqs.{r}.{self.url_suffix}/{a}/{name('QueueName')}",
                "Arn": lambda: f"arn:{p}:sqs:{r}:{a}:{name('QueueName')}",
                "QueueName": lambda: name("QueueName"),
            },
            "AWS::IAM::Role": {
                "Ref": lambda: name("RoleName"),
                "Arn": lambda: f"arn:{p}:iam::{a}:role{path()}{name('RoleName')}",
            },
            "AWS::IAM::ManagedPolicy": {
                "Ref": lambda: f"arn:{p}:iam::{a}:policy{path()}{name('ManagedPolicyName')}",
                "PolicyArn": lambda: f"arn:{p}:iam::{a}:policy{path()}{name('ManagedPolicyName')}",
            },
            "AWS::Config::ConfigRule": {
                "Ref": lambda: name("ConfigRuleName"),
                "ConfigRuleId": lambda: self._deployed(
                    logical_id, kind, "ConfigRuleId", name("ConfigRuleName")
                ),
                # AWS Config API Reference, ConfigRule.ConfigRuleArn; Service Authorization
                # Reference, AWS Config resource type ConfigRule: .../config-rule/${ConfigRuleId}.
                "Arn": lambda: (
                    f"arn:{p}:config:{r}:{a}:config-rule/"
                    + self._deployed(logical_id, kind, "ConfigRuleId", name("ConfigRuleName"))
                ),
            },
            "AWS::Logs::LogGroup": {
                "Ref": lambda: name("LogGroupName"),
                # The documented return value ends in ":*" (AWS::Logs::LogGroup, Return values).
                "Arn": lambda: f"arn:{p}:logs:{r}:{a}:log-group:{name('LogGroupName')}:*",
            },
            "AWS::Lambda::Function": {
                "Ref": lambda: name("FunctionName"),
                "Arn": lambda: f"arn:{p}:lambda:{r}:{a}:function:{name('FunctionName')}",
            },
            # AWS::Lambda::LayerVersion, Return values: Ref is the layer version's ARN, ending in
            # the version number Lambda assigns; the first version of a new layer is 1.
            "AWS::Lambda::LayerVersion": {
                "Ref": lambda: f"arn:{p}:lambda:{r}:{a}:layer:{name('LayerName')}:1",
            },
            "AWS::Events::Rule": {
                "Ref": lambda: name("Name"),
                "Arn": lambda: f"arn:{p}:events:{r}:{a}:rule/{name('Name')}",
            },
            "AWS::CloudWatch::Alarm": {
                "Ref": lambda: name("AlarmName"),
                "Arn": lambda: f"arn:{p}:cloudwatch:{r}:{a}:alarm:{name('AlarmName')}",
            },
            # AWS::SSM::Parameter, Return values: Ref is the name; the ARN ends in
            # parameter/<name without its leading slash>.
            "AWS::SSM::Parameter": {
                "Ref": lambda: name("Name"),
            },
            "AWS::Scheduler::ScheduleGroup": {
                "Ref": lambda: name("Name"),
                "Arn": lambda: f"arn:{p}:scheduler:{r}:{a}:schedule-group/{name('Name')}",
            },
            "AWS::Scheduler::Schedule": {
                "Ref": lambda: name("Name"),
                "Arn": lambda: (
                    f"arn:{p}:scheduler:{r}:{a}:schedule/"
                    f"{self.resolve(props.get('GroupName', 'default'), where)}/{name('Name')}"
                ),
            },
        }
        getter = table.get(kind, {}).get(attribute)
        if getter is None:
            what = "Ref" if attribute == "Ref" else f"Fn::GetAtt {attribute}"
            raise TemplateError(f"{where}: {what} of {logical_id} ({kind}) is not resolvable")
        return getter()

    def _deployed(self, logical_id: str, kind: str, attribute: str, physical: str) -> str:
        return self.deploy_time(DeployTimeAttribute(logical_id, kind, attribute, physical))

    # -- policies ---------------------------------------------------------------------------------
    def _of_type(self, *kinds: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for logical_id, resource in self.resources.items():
            if resource.get("Type") in kinds:
                yield logical_id, resource.get("Properties", {})

    def _document(self, logical_id: str, label: str, raw: Any, kind: str) -> Document:
        where = f"{logical_id} ({label})" if label else logical_id
        document = self.resolve(raw, where)
        return Document(where, kind, document, logical_id)

    def roles(self) -> dict[str, Role]:
        """Role name -> the role, its trust policy and its identity policies."""
        roles: dict[str, Role] = {}
        attached: dict[str, list[Document]] = {}
        by_arn: dict[str, Document] = {}
        for logical_id, props in self._of_type("AWS::IAM::ManagedPolicy"):
            doc = self._document(
                logical_id,
                str(props.get("ManagedPolicyName", "")),
                props.get("PolicyDocument"),
                IDENTITY,
            )
            by_arn[self.attribute(logical_id, "Ref", logical_id)] = doc
            for role in self.resolve(props.get("Roles", []), logical_id):
                attached.setdefault(role, []).append(doc)
        for logical_id, props in self._of_type("AWS::IAM::Policy"):
            doc = self._document(
                logical_id, str(props.get("PolicyName", "")), props.get("PolicyDocument"), IDENTITY
            )
            for role in self.resolve(props.get("Roles", []), logical_id):
                attached.setdefault(role, []).append(doc)
        for logical_id, props in self._of_type("AWS::IAM::RolePolicy"):
            doc = self._document(
                logical_id, str(props.get("PolicyName", "")), props.get("PolicyDocument"), IDENTITY
            )
            attached.setdefault(self.resolve(props.get("RoleName"), logical_id), []).append(doc)

        for logical_id, props in self._of_type("AWS::IAM::Role"):
            if "PermissionsBoundary" in props:
                raise TemplateError(f"{logical_id}: permissions boundaries are not evaluated")
            name = self.attribute(logical_id, "Ref", logical_id)
            identity: list[Document] = []
            for inline in props.get("Policies", []):
                identity.append(
                    self._document(
                        logical_id,
                        str(inline.get("PolicyName", "")),
                        inline.get("PolicyDocument"),
                        IDENTITY,
                    )
                )
            for arn in self.resolve(props.get("ManagedPolicyArns", []), logical_id):
                if arn in by_arn:
                    identity.append(by_arn[arn])
                elif AWS_MANAGED_POLICY_PREFIX in arn:
                    identity.append(aws_managed_policy(arn, logical_id))
                else:
                    raise TemplateError(
                        f"{logical_id}: managed policy {arn} is not in the template"
                    )
            identity.extend(attached.pop(name, []))
            trust = self._document(
                logical_id, "trust policy", props.get("AssumeRolePolicyDocument"), TRUST
            )
            roles[name] = Role(
                logical_id,
                name,
                self.attribute(logical_id, "Arn", logical_id),
                trust,
                tuple(identity),
            )
        if attached:
            role = sorted(attached)[0]
            raise TemplateError(
                f"{attached[role][0].logical_id}: attached to role {role!r}, which is not in the template"
            )
        return roles

    def resource_policies(self) -> list[ResourcePolicy]:
        out = []
        for logical_id, props in self._of_type("AWS::S3::BucketPolicy"):
            bucket = self.resolve(props.get("Bucket"), logical_id)
            doc = self._document(
                logical_id, f"bucket policy of {bucket}", props.get("PolicyDocument"), RESOURCE
            )
            out.append(ResourcePolicy(doc, (f"arn:{self.partition}:s3:::{bucket}",)))
        for logical_id, props in self._of_type("AWS::SNS::TopicPolicy"):
            topics = self.resolve(props.get("Topics", []), logical_id)
            doc = self._document(logical_id, "topic policy", props.get("PolicyDocument"), RESOURCE)
            out.append(ResourcePolicy(doc, tuple(topics)))
        for logical_id, props in self._of_type("AWS::SQS::QueuePolicy"):
            urls = self.resolve(props.get("Queues", []), logical_id)
            doc = self._document(logical_id, "queue policy", props.get("PolicyDocument"), RESOURCE)
            out.append(ResourcePolicy(doc, tuple(queue_arn(u, self.partition) for u in urls)))
        return out

    def documents(self) -> list[Document]:
        """Every policy document: identity (per role, deduplicated), trust and resource policies."""
        seen: dict[str, Document] = {}
        for role in self.roles().values():
            for doc in (*role.identity, role.trust):
                seen.setdefault(doc.name, doc)
        for policy in self.resource_policies():
            seen.setdefault(policy.document.name, policy.document)
        return list(seen.values())


def queue_arn(url: str, partition: str = "aws") -> str:
    """``https://sqs.<region>.amazonaws.com/<account>/<name>`` -> the queue's ARN."""
    host_and_path = url.split("://", 1)[-1]
    host, _, path = host_and_path.partition("/")
    account, _, name = path.partition("/")
    region = host.split(".")[1] if host.startswith("sqs.") else "us-east-1"
    return f"arn:{partition}:sqs:{region}:{account}:{name}"


def aws_managed_policy(arn: str, holder: str) -> Document:
    """An AWS managed policy's current version, from moto's pinned copy of AWS's managed policies."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    path_and_name = arn.split(AWS_MANAGED_POLICY_PREFIX, 1)[1]
    path, _, name = ("/" + path_and_name).rpartition("/")
    data = _managed_policies(aws_managed_policies_data).get(name)
    if data is None or data.get("Path", "/") != path + "/":
        raise TemplateError(f"{holder}: AWS managed policy {arn} is not in moto's copy")
    return Document(
        f"{arn} (AWS managed, {data.get('DefaultVersionId')})",
        IDENTITY,
        data["Document"],
        "aws-managed",
    )


_MANAGED_CACHE: dict[int, dict[str, Any]] = {}


def _managed_policies(raw: str) -> dict[str, Any]:
    key = id(raw)
    if key not in _MANAGED_CACHE:
        _MANAGED_CACHE[key] = json.loads(raw)
    return _MANAGED_CACHE[key]
