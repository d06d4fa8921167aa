"""The organization shape as the emulator hosts it: the templates of a synthesized cloud assembly, the
physical names in them, and what one member account and region deploys, resolved for that account
and region as CloudFormation would resolve the StackSet's template there.

    org = describe_organization(Path("cdk.out"), suffix="demo")
    trail = org.member("210987654321", "eu-west-1")   # the member part in that account and region
    emulator.load_iam(**org.iam_request(accounts))      # every account's policies, enforced
    env = trail.function_environment(endpoint_url)      # the report generator, signing as its role

The evidence stack's template (the central bucket's policy) is the primary one of the IAM load; each
regional evidence stack (the organization's topic of its region) and each member account and region
is loaded as a member of it (``iam/README.md``, "Across accounts"). Reading the templates needs the
development Python (``iam/template.py``), like ``deployment.describe``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

EVIDENCE_PREFIX = "ComplianceAuditEvidence-"
MEMBER_PREFIX = "ComplianceAuditMember-"


class OrganizationError(RuntimeError):
    """The assembly does not hold the organization shape, or a template cannot be read; one line."""


@dataclass(frozen=True)
class MemberTrail:
    """The member part deployed in one account and region: its report generator and what it uses."""

    account: str
    region: str
    function_name: str
    role: str  # the report generator's role name (it ends with the region)
    access_key: str  # the key the emulator evaluates as that role of that account
    variables: Dict[str, str]  # the function's environment, resolved for the account and region
    rules: List[Dict[str, Any]]  # [{"name", "managedIdentifier", "scope"}]
    witness_parameter: Dict[str, str]  # {"name", "value"}: the parameter and its initial value
    layers: List[str] = field(default_factory=list)  # the function's layers as local folders

    @property
    def report_prefix(self) -> str:
        return self.variables["REPORT_PREFIX"]

    @property
    def chain_prefix(self) -> str:
        return self.variables["CHAIN_PREFIX"]

    def function_environment(self, endpoint_url: str) -> Dict[str, str]:
        """The environment Lambda gives the function in this account and region, pointed at the
        emulator and signing as the function's role."""
        from .deployment import in_layers

        env = {name: in_layers(value, self.layers) for name, value in self.variables.items()}
        env.update(
            {
                "AWS_REGION": self.region,
                "AWS_DEFAULT_REGION": self.region,
                "AWS_ENDPOINT_URL": endpoint_url,
                "AWS_ACCESS_KEY_ID": self.access_key,
                "AWS_SECRET_ACCESS_KEY": "emulator",  # noqa: S105 (no signature is checked)
                "AWS_EC2_METADATA_DISABLED": "true",
            }
        )
        return env


@dataclass(frozen=True)
class OrganizationDeployment:
    suffix: str
    evidence_account: str
    organization_id: str
    evidence_template: str
    regional_templates: Dict[str, str]  # region -> template path
    member_template: str
    central_bucket: str
    regions: Tuple[str, ...]
    topic_names: Dict[str, str] = field(default_factory=dict)  # region -> organization topic name

    def topic_arn(self, region: str) -> str:
        return f"arn:aws:sns:{region}:{self.evidence_account}:{self.topic_names[region]}"

    def member(self, account: str, region: str) -> MemberTrail:
        """The member template resolved for ``account`` and ``region``."""
        from .deployment import layer_folders
        from .iam.enforce import role_access_key
        from .iam.template import StackTemplate, TemplateError

        try:
            stack = StackTemplate.from_file(self.member_template, account=account, region=region)
            lid, function = _report_generator(stack)
            props = stack.resolve(function["Properties"], lid)
            variables = {k: str(v) for k, v in props["Environment"]["Variables"].items()}
            rules = []
            witness: Dict[str, str] = {}
            for rid, resource in stack.resources.items():
                kind = resource.get("Type")
                if kind == "AWS::Config::ConfigRule":
                    rule = stack.resolve(resource["Properties"], rid)
                    rules.append(
                        {
                            "name": rule["ConfigRuleName"],
                            "managedIdentifier": rule["Source"]["SourceIdentifier"],
                            "scope": rule.get("Scope", {}),
                        }
                    )
                elif kind == "AWS::SSM::Parameter":
                    parameter = stack.resolve(resource["Properties"], rid)
                    if parameter["Name"] == variables.get("WITNESS_PARAMETER"):
                        witness = {"name": parameter["Name"], "value": parameter["Value"]}
        except (TemplateError, KeyError) as e:
            raise OrganizationError(f"{self.member_template}: {e}") from None
        role = props["Role"].rsplit("/", 1)[1]
        return MemberTrail(
            account=account,
            region=region,
            function_name=props["FunctionName"],
            role=role,
            access_key=role_access_key(role, account),
            variables=variables,
            rules=rules,
            witness_parameter=witness,
            layers=layer_folders(stack.resources, lid, Path(self.member_template)),
        )

    def iam_request(self, accounts: List[str]) -> Dict[str, Any]:
        """The body of ``POST /_local_aws/iam`` (``LocalAwsClient.load_iam(**...)``): the evidence
        stack in the evidence account, its regional stacks, and the member part in each of
        ``accounts`` and every region; the organization holds the evidence account and them."""
        members: List[Dict[str, str]] = [
            {"template": path, "account": self.evidence_account, "region": region}
            for region, path in sorted(self.regional_templates.items())
        ]
        members += [
            {"template": self.member_template, "account": account, "region": region}
            for account in accounts
            for region in self.regions
        ]
        return {
            "template": self.evidence_template,
            "account": self.evidence_account,
            "region": "us-east-1",
            "members": members,
            "organization": {
                "id": self.organization_id,
                "accounts": sorted({self.evidence_account, *accounts}),
            },
        }


def _report_generator(stack: Any) -> Tuple[str, Dict[str, Any]]:
    found = [
        (lid, r)
        for lid, r in stack.resources.items()
        if r.get("Type") == "AWS::Lambda::Function"
        and "REPORT_BUCKET" in r["Properties"].get("Environment", {}).get("Variables", {})
    ]
    if len(found) != 1:
        raise KeyError(f"expected one function with REPORT_BUCKET, found {len(found)}")
    return found[0]


def _stacks(assembly: Path) -> Dict[str, Path]:
    """Stack name -> template path, nested assemblies (the member stage) included."""
    try:
        manifest = json.loads((assembly / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise OrganizationError(f"{assembly}: not a cloud assembly ({e})") from None
    found: Dict[str, Path] = {}
    for artifact in manifest.get("artifacts", {}).values():
        props = artifact.get("properties", {})
        if artifact.get("type") == "aws:cloudformation:stack":
            name = str(artifact.get("displayName", props.get("stackName", ""))).split("/")[-1]
            found[name] = assembly / props["templateFile"]
        elif artifact.get("type") == "cdk:cloud-assembly":
            found.update(_stacks(assembly / props["directoryName"]))
    return found


def describe_organization(
    assembly: Path, suffix: str, organization_id: Optional[str] = None
) -> OrganizationDeployment:
    """Read the organization shape synthesized for ``suffix`` into ``assembly`` (``cdk.out``)."""
    from .iam.template import StackTemplate, TemplateError

    stacks = _stacks(Path(assembly))
    evidence_name = f"{EVIDENCE_PREFIX}{suffix}"
    member_name = f"{MEMBER_PREFIX}{suffix}"
    if evidence_name not in stacks or member_name not in stacks:
        raise OrganizationError(
            f"{assembly}: no {evidence_name} and {member_name}; synthesize the organization shape "
            f"(make synth SHAPE=organization ENV_SUFFIX={suffix})"
        )
    regional = {
        name[len(evidence_name) + 1 :]: str(path)
        for name, path in stacks.items()
        if name.startswith(f"{evidence_name}-")
    }
    try:
        account = _evidence_account(stacks[evidence_name])
        evidence = StackTemplate.from_file(stacks[evidence_name], account=account)
        outputs = evidence.template.get("Outputs", {})
        bucket = evidence.resolve(outputs["ReportBucketName"]["Value"], "ReportBucketName")
        org_id = organization_id or _organization_id(evidence)
        topics = {}
        for region, path in regional.items():
            template = StackTemplate.from_file(path, account=account, region=region)
            arn = template.resolve(
                template.template["Outputs"]["OrganizationAlertTopicArn"]["Value"], "Outputs"
            )
            topics[region] = str(arn).rsplit(":", 1)[1]
    except (TemplateError, KeyError) as e:
        raise OrganizationError(f"{stacks[evidence_name]}: {e}") from None
    return OrganizationDeployment(
        suffix=suffix,
        evidence_account=account,
        organization_id=org_id,
        evidence_template=str(stacks[evidence_name].resolve()),
        regional_templates={r: str(Path(p).resolve()) for r, p in regional.items()},
        member_template=str(stacks[member_name].resolve()),
        central_bucket=str(bucket),
        regions=tuple(sorted(regional)),
        topic_names=topics,
    )


def _evidence_account(template: Path) -> str:
    """The evidence account, from the stack's environment in the assembly's manifest."""
    manifest = json.loads((template.parent / "manifest.json").read_text(encoding="utf-8"))
    for artifact in manifest.get("artifacts", {}).values():
        if artifact.get("properties", {}).get("templateFile") == template.name:
            environment = str(artifact.get("environment", ""))  # aws://<account>/<region>
            return environment.split("/")[2]
    raise KeyError(f"no environment for {template.name}")


def _organization_id(evidence: Any) -> str:
    """The organization the central bucket's policy admits (its aws:PrincipalOrgID)."""
    text = json.dumps(evidence.template)
    marker = '"aws:PrincipalOrgID": "'
    at = text.find(marker)
    if at < 0:
        raise KeyError("no aws:PrincipalOrgID in the evidence template")
    return text[at + len(marker) :].split('"', 1)[0]


def synthesize_organization(
    suffix: str, context: Dict[str, str], python: Optional[str] = None, timeout_s: float = 900
) -> Path:
    """The organization shape of the code in this checkout, synthesized by ``app.py`` as ``cdk
    synth`` runs it with cdk.json's context, ``context`` (``deployment=organization`` and its
    settings) and the suffix; returns the cloud assembly's folder. Cached under the system temp
    folder by the digest of the sources and the context, like ``deployment.for_suffix``."""
    import fcntl
    import hashlib
    import os
    import subprocess
    import tempfile

    from .client import default_python
    from .deployment import REPO, DeploymentError, _quiet_jsii, source_digest

    settings = {**context, "environmentSuffix": suffix}
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:8]
    folder = (
        Path(tempfile.gettempdir())
        / "local_aws-organizations"
        / (f"{suffix}-{source_digest()}-{digest}")
    )
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = folder / ".synthesized"
        if not done.exists():
            cdk_context = json.loads((REPO / "cdk.json").read_text(encoding="utf-8"))["context"]
            cdk_context.update(settings)
            env = _quiet_jsii(os.environ)
            env.update({"CDK_OUTDIR": str(folder), "CDK_CONTEXT_JSON": json.dumps(cdk_context)})
            proc = subprocess.run(
                [python or default_python(), "app.py"],
                cwd=str(REPO),
                capture_output=True,
                text=True,
                env=env,
                timeout=timeout_s,
            )
            if proc.returncode != 0:
                tail = " | ".join(proc.stderr.strip().splitlines()[-3:])
                raise DeploymentError(f"app.py (organization shape, {suffix}) failed: {tail}")
            done.write_text("ok\n")
    return folder


def is_current(assembly: Path, suffix: str) -> bool:
    """Whether ``assembly`` holds the organization shape for ``suffix``, written after the last change
    of the code it is synthesized from (``make synth SHAPE=organization`` the code has not moved
    past)."""
    from .deployment import is_current as template_is_current

    try:
        stacks = _stacks(Path(assembly))
    except OrganizationError:
        return False
    names = (f"{EVIDENCE_PREFIX}{suffix}", f"{MEMBER_PREFIX}{suffix}")
    return all(n in stacks and template_is_current(stacks[n]) for n in names)
