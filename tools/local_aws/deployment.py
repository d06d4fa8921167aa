"""The stack as the emulator hosts it: the template synthesized from the code under test, the
physical names in it, who is who, and the resources its deployment would create.

Tests, the demo and the end-to-end run seed the emulator with what CloudFormation would create (with
the admin key, as the deployment would) and run each part as its own role, so the emulator's IAM
enforcement evaluates the policies synthesized from the same code. One description serves them all:

    deployment = for_suffix("test")          # synthesized once per change of the code, then cached
    emulator.load_iam(deployment.template)    # enforce its policies
    deploy(estate.clients(url), deployment)   # buckets, topics, queues, rules, recorder (admin key)
    env = deployment.function_environment(endpoint_url=url)   # the function, signing as its role

Only the standard library is imported here, and the syntax is Python 3.9's, so the Lambda runtime's
tests on CPython 3.9 use it too: synthesis and reading the template (``aws_cdk``,
``iam/template.py``) happen in the development Python (``client.default_python()``) as
``python -m tools.local_aws deployment``, which prints or writes the description as JSON.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

REPO = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"  # moto's default account, the emulator's
REGION = "us-east-1"
MANIFEST = "deployment.json"
# Where Lambda extracts a function's layers ("Packaging your layer content", Lambda Developer Guide).
LAYER_MOUNT = "/opt/"
# What a synthesized template depends on; a change to any of these synthesizes again.
_SOURCES = ("app.py", "cdk.json", "exceptions.yaml", "lib")


class DeploymentError(RuntimeError):
    """The template could not be synthesized or does not describe the stack; one line."""


@dataclass(frozen=True)
class Deployment:
    """What the emulator needs to know about one synthesized stack. Names are physical names."""

    suffix: str
    template: str  # path of the synthesized template
    account: str
    region: str
    report_bucket: str
    config_bucket: str
    alert_topic_arn: str
    config_topic_arn: str
    request_queue: str  # the FIFO queue in front of the function
    request_queue_attributes: Dict[str, str]  # as CreateQueue takes them, RedrivePolicy included
    request_dlq: str
    request_dlq_attributes: Dict[str, str]
    rules: List[Dict[str, Any]]  # [{"name", "managedIdentifier", "scope"}]
    recorder: Dict[str, Any]  # PutConfigurationRecorder's ConfigurationRecorder
    delivery_channel: Dict[str, Any]  # PutDeliveryChannel's DeliveryChannel
    function_name: str
    function_variables: Dict[str, str]  # the function's environment as the template sets it
    daily_evaluation_input: Dict[str, Any]  # the schedule's StartConfigRulesEvaluation request
    roles: Dict[str, str]  # "reportGenerator" | "dailyEvaluation" | "configRecorder" |
    # "alertFormatter" -> role name
    access_keys: Dict[str, str] = field(default_factory=dict)  # role name -> key id it signs with
    # The alert formatter: its function and queues, and the EventBridge rules that feed them.
    formatter_name: str = ""
    formatter_variables: Dict[str, str] = field(default_factory=dict)
    formatter_queues: List[Dict[str, Any]] = field(default_factory=list)  # in creation order:
    # [{"name", "attributes"}], dead-letter queues first
    changes_queue: str = ""
    monitoring_queue: str = ""
    changes_batch: Dict[str, Any] = field(default_factory=dict)  # the changes event source mapping
    event_rules: List[Dict[str, Any]] = field(
        default_factory=list
    )  # [{"name", "pattern", "queue"}]
    status_check_rule_arn: str = ""
    # The SSM parameter the report generator publishes the trail's head to: {"name", "value"} (its
    # initial value); empty when the stack has none.
    witness_parameter: Dict[str, str] = field(default_factory=dict)
    # Each function's layers as the local folders Lambda would extract into /opt, in the function's
    # order (the synthesized assets beside the template): a variable naming a file under /opt is
    # given the folder's copy on this machine (``_environment``).
    function_layers: List[str] = field(default_factory=list)
    formatter_layers: List[str] = field(default_factory=list)

    # -- reading and writing ---------------------------------------------------------------------
    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> Deployment:
        return cls(**data)

    @classmethod
    def load(cls, path: Path) -> Deployment:
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))

    def to_json(self) -> Dict[str, Any]:
        return asdict(self)

    # -- who is who ---------------------------------------------------------------------------------
    @property
    def rule_names(self) -> List[str]:
        return [rule["name"] for rule in self.rules]

    def rule_for(self, managed_identifier: str) -> str:
        return next(r["name"] for r in self.rules if r["managedIdentifier"] == managed_identifier)

    def access_key(self, role: str) -> str:
        """The access key id the emulator gives ``role`` ("reportGenerator", "dailyEvaluation",
        "configRecorder", "alertFormatter"): requests signed with it are evaluated as that role."""
        return self.access_keys[self.roles[role]]

    def function_environment(
        self, endpoint_url: Optional[str] = None, **overrides: str
    ) -> Dict[str, str]:
        """The function's environment: the template's variables, the region Lambda sets, and with
        ``endpoint_url`` the emulator's endpoint and the function role's credentials (the key the
        emulator evaluates as the report generator's role)."""
        return self._environment(
            self.function_variables,
            "reportGenerator",
            endpoint_url,
            overrides,
            self.function_layers,
        )

    def formatter_environment(
        self, endpoint_url: Optional[str] = None, **overrides: str
    ) -> Dict[str, str]:
        """The alert formatter's environment, as ``function_environment`` is the report
        generator's: signing as the formatter's role with ``endpoint_url``."""
        return self._environment(
            self.formatter_variables,
            "alertFormatter",
            endpoint_url,
            overrides,
            self.formatter_layers,
        )

    def _environment(
        self,
        variables: Dict[str, str],
        role: str,
        endpoint_url: Optional[str],
        overrides: Dict[str, str],
        layers: List[str],
    ) -> Dict[str, str]:
        env = {name: in_layers(value, layers) for name, value in variables.items()}
        env.update({"AWS_REGION": self.region, "AWS_DEFAULT_REGION": self.region})
        if endpoint_url is not None:
            env.update(
                {
                    "AWS_ENDPOINT_URL": endpoint_url,
                    "AWS_ACCESS_KEY_ID": self.access_key(role),
                    "AWS_SECRET_ACCESS_KEY": "emulator",  # noqa: S105 (no signature is checked)
                    "AWS_EC2_METADATA_DISABLED": "true",
                }
            )
        env.update(overrides)
        return env


def layer_folders(resources: Dict[str, Any], function_id: str, template_path: Path) -> List[str]:
    """A function's layers as the local folders Lambda would extract into /opt: each layer's asset,
    synthesized beside the template as ``asset.<hash>`` (its S3 key is ``<hash>.zip``)."""
    folders = []
    base = Path(template_path).resolve().parent
    for ref in resources[function_id]["Properties"].get("Layers", []):
        layer = resources[ref["Ref"]]
        # The CDK CLI records where it staged the asset, relative to the template (a nested
        # assembly's assets sit in the outer one). Synthesized in process it records nothing: the
        # asset is then beside the template, or beside the nested assembly that holds it.
        staged = layer.get("Metadata", {}).get("aws:asset:path")
        if staged:
            folders.append(str((base / staged).resolve()))
            continue
        name = f"asset.{Path(layer['Properties']['Content']['S3Key']).stem}"
        found = next((d / name for d in (base, base.parent) if (d / name).is_dir()), base / name)
        folders.append(str(found))
    return folders


def in_layers(value: str, layers: List[str]) -> str:
    """``value`` as this machine sees it: a path under /opt becomes that file in the last layer folder
    holding it (Lambda extracts the layers into /opt in order, a later one over an earlier one)."""
    if not value.startswith(LAYER_MOUNT):
        return value
    relative = value[len(LAYER_MOUNT) :]
    for folder in reversed(layers):
        candidate = Path(folder) / relative
        if candidate.exists():
            return str(candidate)
    return value


# -- creating what the deployment creates ------------------------------------------------------------
def deploy(clients: Any, deployment: Deployment) -> None:
    """Create what CloudFormation would for ``deployment`` (``clients``: an ``estate.EstateClients``
    signed with an admin key): the report and Config buckets (versioned, SSE-S3), both topics, the
    request queue with its dead-letter queue, the alert formatter's queues with theirs, the
    EventBridge rules that route AWS Config's events to them (with their patterns, on the default
    bus), the three rules, the recorder (started), the delivery channel and the witness
    parameter. The functions,
    schedules, alarms and policies are not resources here: the emulator enforces the policies from
    the template itself."""
    from . import estate

    d = deployment
    for bucket in (d.report_bucket, d.config_bucket):
        estate.create_bucket(clients.s3, bucket, encrypted=True)
        clients.s3.put_bucket_versioning(
            Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}
        )
    for arn in (d.alert_topic_arn, d.config_topic_arn):
        clients.sns.create_topic(Name=arn.rsplit(":", 1)[1])
    clients.sqs.create_queue(QueueName=d.request_dlq, Attributes=d.request_dlq_attributes)
    clients.sqs.create_queue(QueueName=d.request_queue, Attributes=d.request_queue_attributes)
    for queue in d.formatter_queues:
        clients.sqs.create_queue(QueueName=queue["name"], Attributes=queue["attributes"])
    for route in d.event_rules:
        url = clients.sqs.get_queue_url(QueueName=route["queue"])["QueueUrl"]
        arn = clients.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        clients.events.put_rule(Name=route["name"], EventPattern=json.dumps(route["pattern"]))
        clients.events.put_targets(
            Rule=route["name"], Targets=[{"Id": "queue", "Arn": arn["Attributes"]["QueueArn"]}]
        )
    put_rules(clients.config, d.rules)
    clients.config.put_configuration_recorder(ConfigurationRecorder=d.recorder)
    clients.config.put_delivery_channel(DeliveryChannel=d.delivery_channel)
    clients.config.start_configuration_recorder(ConfigurationRecorderName=d.recorder["name"])
    if d.witness_parameter:
        clients.ssm.put_parameter(
            Name=d.witness_parameter["name"], Value=d.witness_parameter["value"], Type="String"
        )


def put_rules(config: Any, rules: List[Dict[str, Any]]) -> None:
    """The stack's AWS managed rules (``[{"name", "managedIdentifier", "scope"}]``), as
    CloudFormation creates them."""
    for rule in rules:
        definition: Dict[str, Any] = {
            "ConfigRuleName": rule["name"],
            "Source": {"Owner": "AWS", "SourceIdentifier": rule["managedIdentifier"]},
        }
        if rule.get("scope"):
            definition["Scope"] = rule["scope"]
        config.put_config_rule(ConfigRule=definition)


# -- synthesizing -------------------------------------------------------------------------------------
def for_suffix(suffix: str, python: Optional[str] = None, timeout_s: float = 900) -> Deployment:
    """The deployment of the code in this checkout for ``suffix``, synthesized by ``app.py`` as
    ``cdk synth`` would run it. Cached under the system temp folder by a digest of the sources
    (``app.py``, ``cdk.json``, ``exceptions.yaml``, ``lib/``), so each change of the code is
    synthesized once, and parallel test workers wait for one synthesis instead of each running their
    own."""
    import fcntl  # POSIX; the emulator and its tests run on Linux

    folder = Path(tempfile.gettempdir()) / "local_aws-deployments" / f"{suffix}-{source_digest()}"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        manifest = folder / MANIFEST
        if not manifest.exists():
            from .client import default_python

            command = [python or default_python(), "-m", "tools.local_aws", "deployment"]
            command += ["--suffix", suffix, "--out", str(folder)]
            proc = subprocess.run(
                command,
                cwd=str(REPO),
                capture_output=True,
                text=True,
                timeout=timeout_s,
                env=_quiet_jsii(os.environ),
            )
            if proc.returncode != 0 or not manifest.exists():
                tail = " | ".join(proc.stderr.strip().splitlines()[-3:])
                raise DeploymentError(
                    f"synthesizing the stack for suffix {suffix!r} failed: {tail}"
                )
        return Deployment.load(manifest)


def is_current(template: Path) -> bool:
    """Whether ``template`` exists and was written after the last change of any source it is
    synthesized from (``make synth`` output the code has not moved past)."""
    template = Path(template)
    if not template.is_file():
        return False
    written = template.stat().st_mtime
    return all(path.stat().st_mtime <= written for path in _source_files())


def _source_files() -> List[Path]:
    files: List[Path] = []
    for name in _SOURCES:
        root = REPO / name
        for path in sorted(root.rglob("*")) if root.is_dir() else [root]:
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                files.append(path)
    return files


def source_digest() -> str:
    """SHA-256 (16 hex digits) of every source file the template is synthesized from, and of this
    file (which decides what the cached description holds)."""
    digest = hashlib.sha256()
    for path in [*_source_files(), Path(__file__).resolve()]:
        digest.update(str(path.relative_to(REPO)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _quiet_jsii(environ: Any) -> Dict[str, str]:
    env = dict(environ)
    # The pinned node's end-of-life banner is noise here, as in the Makefile.
    env.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    env.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "18,20,22")
    env.setdefault("CDK_DISABLE_VERSION_CHECK", "1")
    return env


def synthesize(suffix: str, out: Path, python: Optional[str] = None) -> Path:
    """Run ``app.py`` as the CDK CLI does (cdk.json's context and the suffix in
    ``CDK_CONTEXT_JSON``, the output folder in ``CDK_OUTDIR``); returns the template's path."""
    context = json.loads((REPO / "cdk.json").read_text(encoding="utf-8"))["context"]
    context["environmentSuffix"] = suffix
    env = _quiet_jsii(os.environ)
    env.update({"CDK_OUTDIR": str(out), "CDK_CONTEXT_JSON": json.dumps(context)})
    proc = subprocess.run(
        [python or sys.executable, "app.py"],
        cwd=str(REPO),
        capture_output=True,
        text=True,
        env=env,
    )
    template = Path(out) / f"ComplianceAudit-{suffix}.template.json"
    if proc.returncode != 0 or not template.exists():
        tail = " | ".join(proc.stderr.strip().splitlines()[-3:])
        raise DeploymentError(f"app.py (environmentSuffix={suffix}) failed: {tail}")
    return template


# -- reading the template (development Python: iam/template.py) ----------------------------------------
def describe(template_path: Path, account: str = ACCOUNT, region: str = REGION) -> Deployment:
    """Read a synthesized template: the physical names, the roles and what each one runs."""
    from .iam.enforce import role_access_key
    from .iam.template import StackTemplate, TemplateError

    try:
        stack = StackTemplate.from_file(template_path, account=account, region=region)
    except TemplateError as e:
        raise DeploymentError(str(e)) from None

    def only(kind: str) -> tuple[str, Dict[str, Any]]:
        found = [(lid, r) for lid, r in stack.resources.items() if r.get("Type") == kind]
        if len(found) != 1:
            raise DeploymentError(f"{template_path}: expected one {kind}, found {len(found)}")
        return found[0]

    def props(logical_id: str) -> Dict[str, Any]:
        return stack.resolve(stack.resources[logical_id].get("Properties", {}), logical_id)

    def role_name(arn: str) -> str:
        return arn.rsplit("/", 1)[1]

    def logical_id_of(kind: str, attribute: str, value: str) -> str:
        for lid, resource in stack.resources.items():
            if resource.get("Type") == kind and stack.attribute(lid, attribute, lid) == value:
                return lid
        raise DeploymentError(f"{template_path}: no {kind} whose {attribute} is {value}")

    def function_with(variable: str) -> tuple[str, Dict[str, Any]]:
        """The function whose environment has ``variable`` (each function's own setting)."""
        found = [
            lid
            for lid, r in stack.resources.items()
            if r.get("Type") == "AWS::Lambda::Function"
            and variable in r["Properties"].get("Environment", {}).get("Variables", {})
        ]
        if len(found) != 1:
            raise DeploymentError(
                f"{template_path}: expected one function with {variable}, found {len(found)}"
            )
        return found[0], props(found[0])

    def mappings_of(function_id: str) -> List[Dict[str, Any]]:
        return [
            props(lid)
            for lid, r in stack.resources.items()
            if r.get("Type") == "AWS::Lambda::EventSourceMapping"
            and r["Properties"].get("FunctionName") == {"Ref": function_id}
        ]

    function_id, function = function_with("REPORT_BUCKET")
    variables = {k: str(v) for k, v in function["Environment"]["Variables"].items()}
    (mapping,) = mappings_of(function_id)
    queue_id = logical_id_of("AWS::SQS::Queue", "Arn", mapping["EventSourceArn"])
    queue = props(queue_id)
    dlq_id = logical_id_of("AWS::SQS::Queue", "Arn", queue["RedrivePolicy"]["deadLetterTargetArn"])
    recorder_id, _ = only("AWS::Config::ConfigurationRecorder")
    recorder = props(recorder_id)
    channel_id, _ = only("AWS::Config::DeliveryChannel")
    channel = props(channel_id)
    schedule = next(
        props(lid)
        for lid, r in stack.resources.items()
        if r.get("Type") == "AWS::Scheduler::Schedule"
        and ":config:startConfigRulesEvaluation" in json.dumps(r.get("Properties", {}))
    )
    rules = []
    for lid, resource in stack.resources.items():
        if resource.get("Type") == "AWS::Config::ConfigRule":
            rule = props(lid)
            rules.append(
                {
                    "name": rule["ConfigRuleName"],
                    "managedIdentifier": rule["Source"]["SourceIdentifier"],
                    "scope": rule.get("Scope", {}),
                }
            )
    formatter_id, formatter = function_with("DIGEST_THRESHOLD")
    formatter_queues: List[Dict[str, Any]] = []
    queue_of_mapping: Dict[str, Dict[str, Any]] = {}
    for found in mappings_of(formatter_id):
        source = props(logical_id_of("AWS::SQS::Queue", "Arn", found["EventSourceArn"]))
        dead = props(
            logical_id_of("AWS::SQS::Queue", "Arn", source["RedrivePolicy"]["deadLetterTargetArn"])
        )
        formatter_queues += [
            {"name": dead["QueueName"], "attributes": _queue_attributes(dead)},
            {"name": source["QueueName"], "attributes": _queue_attributes(source)},
        ]
        queue_of_mapping[source["QueueName"]] = found
    changes = next(n for n, m in queue_of_mapping.items() if "MaximumBatchingWindowInSeconds" in m)
    monitoring = next(n for n in queue_of_mapping if n != changes)
    event_rules = []
    status_check = ""
    for lid, resource in stack.resources.items():
        if resource.get("Type") != "AWS::Events::Rule":
            continue
        rule = props(lid)
        targets = [
            t["Arn"].rsplit(":", 1)[1] for t in rule.get("Targets", []) if ":sqs:" in t["Arn"]
        ]
        if "EventPattern" in rule and targets and targets[0] in queue_of_mapping:
            event_rules.append(
                {"name": rule["Name"], "pattern": rule["EventPattern"], "queue": targets[0]}
            )
        elif "ScheduleExpression" in rule and targets == [monitoring]:
            status_check = stack.attribute(lid, "Arn", lid)
    witness = {}
    for lid, resource in stack.resources.items():
        if resource.get("Type") == "AWS::SSM::Parameter":
            parameter = props(lid)
            if parameter["Name"] == variables.get("WITNESS_PARAMETER"):
                witness = {"name": parameter["Name"], "value": parameter["Value"]}

    roles = {
        "reportGenerator": role_name(function["Role"]),
        "dailyEvaluation": role_name(schedule["Target"]["RoleArn"]),
        "configRecorder": role_name(recorder["RoleARN"]),
        "alertFormatter": role_name(formatter["Role"]),
    }
    return Deployment(
        suffix=variables["ENVIRONMENT_SUFFIX"],
        template=str(Path(template_path).resolve()),
        account=account,
        region=region,
        report_bucket=variables["REPORT_BUCKET"],
        config_bucket=channel["S3BucketName"],
        alert_topic_arn=variables["ALERT_TOPIC_ARN"],
        config_topic_arn=channel["SnsTopicARN"],
        request_queue=queue["QueueName"],
        request_queue_attributes=_queue_attributes(queue),
        request_dlq=props(dlq_id)["QueueName"],
        request_dlq_attributes=_queue_attributes(props(dlq_id)),
        rules=rules,
        recorder=_recorder(recorder),
        delivery_channel=_channel(channel),
        function_name=function["FunctionName"],
        function_variables=variables,
        daily_evaluation_input=json.loads(schedule["Target"]["Input"]),
        roles=roles,
        access_keys={name: role_access_key(name) for name in roles.values()},
        formatter_name=formatter["FunctionName"],
        formatter_variables={k: str(v) for k, v in formatter["Environment"]["Variables"].items()},
        formatter_queues=formatter_queues,
        changes_queue=changes,
        monitoring_queue=monitoring,
        changes_batch={
            "BatchSize": queue_of_mapping[changes]["BatchSize"],
            "MaximumBatchingWindowInSeconds": queue_of_mapping[changes][
                "MaximumBatchingWindowInSeconds"
            ],
        },
        event_rules=event_rules,
        status_check_rule_arn=status_check,
        witness_parameter=witness,
        function_layers=layer_folders(stack.resources, function_id, template_path),
        formatter_layers=layer_folders(stack.resources, formatter_id, template_path),
    )


def _queue_attributes(queue: Dict[str, Any]) -> Dict[str, str]:
    """AWS::SQS::Queue properties as CreateQueue attributes (the subset the emulator keeps)."""
    attributes = {}
    for name in (
        "FifoQueue",
        "ContentBasedDeduplication",
        "VisibilityTimeout",
        "MessageRetentionPeriod",
        "DelaySeconds",
        "ReceiveMessageWaitTimeSeconds",
    ):
        if name in queue:
            value = queue[name]
            attributes[name] = str(value).lower() if isinstance(value, bool) else str(value)
    if "RedrivePolicy" in queue:
        attributes["RedrivePolicy"] = json.dumps(queue["RedrivePolicy"])
    return attributes


def _camel(node: Any) -> Any:
    """CloudFormation's PascalCase property names as the Config API's camelCase members."""
    if isinstance(node, list):
        return [_camel(item) for item in node]
    if isinstance(node, dict):
        return {k[:1].lower() + k[1:]: _camel(v) for k, v in node.items()}
    return node


def _recorder(recorder: Dict[str, Any]) -> Dict[str, Any]:
    out = {"name": recorder["Name"], "roleARN": recorder["RoleARN"]}
    if "RecordingGroup" in recorder:
        out["recordingGroup"] = _camel(recorder["RecordingGroup"])
    return out


def _channel(channel: Dict[str, Any]) -> Dict[str, Any]:
    out = {"name": channel["Name"], "s3BucketName": channel["S3BucketName"]}
    if channel.get("SnsTopicARN"):
        out["snsTopicARN"] = channel["SnsTopicARN"]
    if "ConfigSnapshotDeliveryProperties" in channel:
        out["configSnapshotDeliveryProperties"] = _camel(
            channel["ConfigSnapshotDeliveryProperties"]
        )
    return out


def main(suffix: Optional[str], template: Optional[str], out: Optional[str]) -> int:
    """``python -m tools.local_aws deployment``: synthesize (``--suffix``) or read (``--template``)
    and write ``deployment.json`` into ``--out`` or print it."""
    try:
        if template is None:
            if suffix is None:
                raise DeploymentError("give --suffix (synthesize) or --template (read)")
            folder = Path(out) if out else Path(tempfile.mkdtemp(prefix="cdk-out-"))
            folder.mkdir(parents=True, exist_ok=True)
            template = str(synthesize(suffix, folder))
        deployment = describe(Path(template))
    except DeploymentError as e:
        print(f"local_aws deployment: {e}", file=sys.stderr)
        return 2
    text = json.dumps(deployment.to_json(), indent=2, sort_keys=True) + "\n"
    if out:
        target = Path(out) / MANIFEST
        partial = target.with_suffix(".partial")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, target)
        print(target)
    else:
        sys.stdout.write(text)
    return 0
