"""GIVEN the emulator enforcing the synthesized stack's IAM policies WHEN each role makes its calls
THEN AWS's answers come back: allowed where the policy allows, AccessDenied in the service's own
error shape where it does not, and the real report generator's run is complete under the
synthesized policy and incomplete with the Describe actions scoped back to the rule ARNs."""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
import uuid
from pathlib import Path

import boto3
import botocore
import pytest
from botocore.config import Config

from tests.iam.conftest import describe_actions_on_rule_arns
from tools.local_aws import estate
from tools.local_aws.deployment import in_layers, layer_folders
from tools.local_aws.iam.enforce import role_access_key
from tools.local_aws.iam.template import StackTemplate

ACCOUNT, REGION = "123456789012", "us-east-1"
REPORTS = f"compliance-reports-dev-{ACCOUNT}"
CONFIG_BUCKET = f"compliance-config-dev-{ACCOUNT}"
RULES = ["s3-bucket-sse-enabled-dev", "rds-storage-encrypted-dev", "ec2-imdsv2-check-dev"]
GENERATOR, SCHEDULER, RECORDER = (
    "compliance-report-generator-dev",
    "compliance-daily-evaluation-dev",
    "compliance-config-recorder-dev",
)
GENERATOR_SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/{GENERATOR}/{GENERATOR}"
RUNTIME = Path(__file__).resolve().parents[2] / "lib" / "report_generator" / "runtime"


@pytest.fixture(scope="module")
def synthesized():
    from tests.unit.synth import synthesize

    return synthesize()


@pytest.fixture
def enforced(aws, synthesized):
    """The emulator enforcing today's synthesized policies; enforcement off again afterwards."""
    roles = load(aws, synthesized.template_path)["roles"]
    try:
        yield roles
    finally:
        aws.clear_iam()


def load(aws, template, **options):
    return aws.load_iam(template, **options)


def client(aws, service, key):
    return boto3.client(
        service,
        endpoint_url=aws.endpoint_url,
        region_name=REGION,
        aws_access_key_id=key,
        aws_secret_access_key="secret",  # the emulator checks no signature
        config=Config(retries={"mode": "standard", "max_attempts": 1}),
    )


def as_role(aws, service, role):
    return client(aws, service, role_access_key(role))


def deploy_world(clients):
    """What the stack's deployment would have created, under its physical names (admin key)."""
    estate.create_bucket(clients.s3, REPORTS)
    clients.s3.put_bucket_versioning(Bucket=REPORTS, VersioningConfiguration={"Status": "Enabled"})
    estate.create_bucket(clients.s3, CONFIG_BUCKET)
    topic = clients.sns.create_topic(Name="compliance-alerts-dev")["TopicArn"]
    estate.put_managed_rules(clients.config, *RULES)
    estate.start_recording(clients.config, CONFIG_BUCKET)
    return topic


def error(excinfo):
    return excinfo.value.response["Error"]["Code"], excinfo.value.response["Error"]["Message"]


# -- off by default ----------------------------------------------------------------------------------


def test_enforcement_is_off_unless_a_template_is_loaded(aws, clients):
    assert aws.iam() == {"enabled": False}
    anyone = client(aws, "s3", "AKIAANYKEYATALL00000")
    anyone.create_bucket(Bucket="free-for-all")
    anyone.put_object(Bucket="free-for-all", Key="x", Body=b"1")


def test_the_control_api_names_bad_input(aws, synthesized):
    with pytest.raises(RuntimeError, match="template: .*cannot read"):
        load(aws, "/nonexistent/template.json")
    with pytest.raises(RuntimeError, match="secureTransport: must be true or false"):
        load(aws, synthesized.template_path, secureTransport="no")
    with pytest.raises(RuntimeError, match="accessKeys.AKIAX: 'nobody' is not a role"):
        load(aws, synthesized.template_path, accessKeys={"AKIAX": "nobody"})
    assert aws.iam() == {"enabled": False}


# -- the report generator's role -------------------------------------------------------------------


def test_the_describe_actions_are_allowed_on_star(aws, clients, enforced):
    deploy_world(clients)
    config = as_role(aws, "config", GENERATOR)

    compliance = config.describe_compliance_by_config_rule(ConfigRuleNames=RULES)
    assert len(compliance["ComplianceByConfigRules"]) == 3
    config.describe_config_rule_evaluation_status(ConfigRuleNames=RULES)
    config.get_compliance_details_by_config_rule(ConfigRuleName=RULES[0])  # scoped to the rule
    config.describe_configuration_recorder_status()  # on "*"
    assert aws.iam()["denied"] == 0


def test_the_describe_actions_scoped_to_rule_arns_are_denied(aws, clients, synthesized):
    load(aws, describe_actions_on_rule_arns(copy.deepcopy(synthesized.template)))
    try:
        deploy_world(clients)
        config = as_role(aws, "config", GENERATOR)
        config.get_compliance_details_by_config_rule(ConfigRuleName=RULES[0])  # still fine
        for call in (
            config.describe_compliance_by_config_rule,
            config.describe_config_rule_evaluation_status,
        ):
            with pytest.raises(botocore.exceptions.ClientError) as denied:
                call(ConfigRuleNames=RULES)
            code, message = error(denied)
            action = "config:" + denied.value.operation_name
            assert code == "AccessDeniedException"
            assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
            assert message == (
                f"User: {GENERATOR_SESSION} is not authorized to perform: {action} "
                f"because no identity-based policy allows the {action} action"
            )
    finally:
        aws.clear_iam()


def test_s3_writes_outside_the_report_prefixes_are_denied(aws, clients, enforced):
    deploy_world(clients)
    s3 = as_role(aws, "s3", GENERATOR)

    s3.put_object(Bucket=REPORTS, Key="reports/2026/07/01.json", Body=b"{}", IfNoneMatch="*")
    s3.head_object(Bucket=REPORTS, Key="reports/2026/07/01.json")
    s3.list_objects_v2(Bucket=REPORTS, Prefix="reports/")
    with pytest.raises(botocore.exceptions.ClientError) as outside:
        s3.put_object(Bucket=REPORTS, Key="elsewhere/x.json", Body=b"{}")
    assert error(outside) == (
        "AccessDenied",
        f"User: {GENERATOR_SESSION} is not authorized to perform: s3:PutObject on resource: "
        f'"arn:aws:s3:::{REPORTS}/elsewhere/x.json" because no identity-based policy allows the '
        "s3:PutObject action",
    )
    assert outside.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    s3.list_object_versions(Bucket=REPORTS, Prefix="reports/")  # the trail, every version
    with pytest.raises(botocore.exceptions.ClientError) as versions:
        s3.list_object_versions(Bucket=REPORTS)  # s3:ListBucketVersions only under reports/
    assert "s3:ListBucketVersions" in error(versions)[1]
    with pytest.raises(botocore.exceptions.ClientError):
        s3.delete_object(Bucket=REPORTS, Key="reports/2026/07/01.json")


def test_reports_are_write_once_for_the_generator(aws, clients, enforced):
    """A report PUT must carry If-None-Match (the s3:if-none-match condition key), which S3 refuses
    on a key holding an object: the function's role cannot overwrite a report."""
    deploy_world(clients)
    s3 = as_role(aws, "s3", GENERATOR)
    s3.put_object(Bucket=REPORTS, Key="reports/2026/07/02.json", Body=b"{}", IfNoneMatch="*")

    with pytest.raises(botocore.exceptions.ClientError) as blind:
        s3.put_object(Bucket=REPORTS, Key="reports/2026/07/02.json", Body=b"{forged}")
    with pytest.raises(botocore.exceptions.ClientError) as again:
        s3.put_object(Bucket=REPORTS, Key="reports/2026/07/02.json", Body=b"{x}", IfNoneMatch="*")

    assert error(blind)[0] == "AccessDenied" and "s3:PutObject" in error(blind)[1]
    assert error(again)[0] == "PreconditionFailed"
    assert (
        clients.s3.get_object(Bucket=REPORTS, Key="reports/2026/07/02.json")["Body"].read() == b"{}"
    )
    # The chain's bookkeeping is written by compare-and-swap or plainly (trigger records).
    s3.put_object(Bucket=REPORTS, Key="chain/triggers/x.json", Body=b"{}")


def test_the_generator_reads_and_writes_its_witness_parameter_and_no_other(aws, clients, enforced):
    clients.ssm.put_parameter(
        Name="compliance-chain-head-dev", Value="# no report yet", Type="String"
    )
    clients.ssm.put_parameter(Name="someone-elses", Value="x", Type="String")
    ssm = as_role(aws, "ssm", GENERATOR)

    ssm.put_parameter(
        Name="compliance-chain-head-dev",
        Value="witness: 0 k " + "a" * 64,
        Type="String",
        Overwrite=True,
    )
    assert ssm.get_parameter(Name="compliance-chain-head-dev")["Parameter"]["Version"] == 2
    for call in (
        lambda: ssm.get_parameter(Name="someone-elses"),
        lambda: ssm.put_parameter(Name="someone-elses", Value="y", Type="String", Overwrite=True),
        lambda: ssm.delete_parameter(Name="compliance-chain-head-dev"),
    ):
        with pytest.raises(botocore.exceptions.ClientError) as denied:
            call()
        assert error(denied)[0] == "AccessDeniedException", error(denied)


def test_the_tls_only_bucket_policy_denies_plain_http(aws, clients, synthesized):
    load(aws, synthesized.template_path, secureTransport=False)
    try:
        deploy_world(clients)
        with pytest.raises(botocore.exceptions.ClientError) as denied:
            as_role(aws, "s3", GENERATOR).get_object(Bucket=REPORTS, Key="reports/x.json")
        assert error(denied)[1].endswith("with an explicit deny in a resource-based policy")
    finally:
        aws.clear_iam()


def test_publishing_to_another_topic_is_an_sns_authorization_error(aws, clients, enforced):
    topic = deploy_world(clients)
    other = clients.sns.create_topic(Name="someone-elses")["TopicArn"]
    sns = as_role(aws, "sns", GENERATOR)

    sns.publish(TopicArn=topic, Message="report stored")
    with pytest.raises(botocore.exceptions.ClientError) as denied:
        sns.publish(TopicArn=other, Message="x")
    code, message = error(denied)
    assert code == "AuthorizationError"
    assert message.endswith(
        f"SNS:Publish on resource: {other} because no identity-based policy allows the SNS:Publish action"
    )


# -- the scheduler's and the Config recorder's roles ------------------------------------------------


def test_the_schedule_starts_evaluation_of_its_rules_by_their_config_rule_arns(
    aws, clients, enforced
):
    deploy_world(clients)
    estate.put_managed_rules(clients.config, "unrelated-s3", "unrelated-rds", "unrelated-ec2")
    config = as_role(aws, "config", SCHEDULER)

    config.start_config_rules_evaluation(ConfigRuleNames=RULES)
    with pytest.raises(botocore.exceptions.ClientError) as denied:
        config.start_config_rules_evaluation(ConfigRuleNames=["unrelated-s3"])
    arn = clients.config.describe_config_rules(ConfigRuleNames=["unrelated-s3"])["ConfigRules"][0][
        "ConfigRuleArn"
    ]
    assert arn.split("/")[-1].startswith("config-rule-")
    assert f"on resource: {arn} because" in error(denied)[1]


def test_a_policy_scoped_by_rule_name_would_deny_the_schedule(aws, clients, synthesized):
    # The rule ARN ends in config-rule-<id>, not the rule's name: a policy written with names fails.
    template = copy.deepcopy(synthesized.template)
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::IAM::ManagedPolicy" and "daily-evaluation" in json.dumps(
            resource
        ):
            statement = resource["Properties"]["PolicyDocument"]["Statement"][0]
            statement["Resource"] = [
                f"arn:aws:config:{REGION}:{ACCOUNT}:config-rule/{name}" for name in RULES
            ]
    load(aws, template)
    try:
        deploy_world(clients)
        with pytest.raises(botocore.exceptions.ClientError):
            as_role(aws, "config", SCHEDULER).start_config_rules_evaluation(ConfigRuleNames=RULES)
    finally:
        aws.clear_iam()


def test_the_config_role_delivers_only_under_its_prefix_with_the_owner_acl(aws, clients, enforced):
    deploy_world(clients)
    s3 = as_role(aws, "s3", RECORDER)
    key = f"AWSLogs/{ACCOUNT}/Config/{REGION}/snapshot.json.gz"

    s3.get_bucket_acl(Bucket=CONFIG_BUCKET)
    s3.put_object(Bucket=CONFIG_BUCKET, Key=key, Body=b"x", ACL="bucket-owner-full-control")
    with pytest.raises(botocore.exceptions.ClientError):
        s3.put_object(
            Bucket=CONFIG_BUCKET, Key=key, Body=b"x"
        )  # the condition wants the ACL header
    # AWS_ConfigRole (the AWS managed policy) lets it read resource configuration.
    as_role(aws, "config", RECORDER).describe_config_rules()


# -- principals ---------------------------------------------------------------------------------------


def test_requests_without_credentials_or_with_unknown_keys_are_refused(aws, clients, enforced):
    deploy_world(clients)
    unsigned = boto3.client(
        "s3",
        endpoint_url=aws.endpoint_url,
        region_name=REGION,
        config=Config(signature_version=botocore.UNSIGNED),
    )
    with pytest.raises(botocore.exceptions.ClientError) as anonymous:
        unsigned.get_object(Bucket=REPORTS, Key="reports/x.json")
    assert error(anonymous) == ("AccessDenied", "Access Denied")

    with pytest.raises(botocore.exceptions.ClientError) as unknown:
        client(aws, "config", "AKIAUNKNOWN000000000").describe_config_rules()
    assert error(unknown)[0] == "UnrecognizedClientException"
    with pytest.raises(botocore.exceptions.ClientError) as unknown_s3:
        client(aws, "s3", "AKIAUNKNOWN000000000").list_buckets()
    assert error(unknown_s3)[0] == "InvalidAccessKeyId"


def test_extra_access_keys_and_the_report_of_denials(aws, clients, synthesized):
    status = load(aws, synthesized.template_path, accessKeys={"AKIAREPORTS000000000": GENERATOR})
    try:
        assert "AKIAREPORTS000000000" in status["roles"][GENERATOR]["accessKeyIds"]
        deploy_world(clients)
        with pytest.raises(botocore.exceptions.ClientError):
            client(aws, "ec2", "AKIAREPORTS000000000").describe_instances()
        (denial,) = aws.iam()["recentDenials"]
        assert denial["call"] == "ec2.DescribeInstances" and "no IAM mapping" in denial["message"]
    finally:
        aws.clear_iam()


# -- the real report generator -------------------------------------------------------------------------


def run_report_generator(aws, template: dict, monkeypatch, template_path) -> dict:
    """Run the real handler as the function's role, with the function's environment from the template
    (a file in its layer, /opt/..., read from the layer's asset beside the template)."""
    loaded = StackTemplate(template)
    function = next(
        (logical_id, r)
        for logical_id, r in template["Resources"].items()
        if r["Type"] == "AWS::Lambda::Function"
        and "report-generator" in json.dumps(r["Properties"].get("FunctionName"))
    )
    environment = loaded.resolve(function[1]["Properties"]["Environment"]["Variables"], function[0])
    layers = layer_folders(template["Resources"], function[0], template_path)
    environment = {name: in_layers(value, layers) for name, value in environment.items()}
    for name, value in {
        **environment,
        "AWS_ENDPOINT_URL": aws.endpoint_url,
        "AWS_ACCESS_KEY_ID": role_access_key(GENERATOR),
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_MAX_ATTEMPTS": "1",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_LAMBDA_LOG_FORMAT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.syspath_prepend(str(RUNTIME))
    spec = importlib.util.spec_from_file_location(
        f"handler_{uuid.uuid4().hex}", RUNTIME / "handler.py"
    )
    handler = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(handler)  # a fresh module: its client cache holds this role's key

    class Context:
        aws_request_id = str(uuid.uuid4())
        invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{GENERATOR}"

        @staticmethod
        def get_remaining_time_in_millis():
            return 300_000

    event = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": "2026-07-01T06:00:00Z",
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/compliance-daily-report-dev"],
        "detail": {},
    }
    return handler.handler(event, Context())


@pytest.mark.parametrize("regressed", [False, True], ids=["synthesized", "describe-on-rule-arns"])
def test_the_report_generator_is_incomplete_when_the_describe_actions_are_scoped_to_rules(
    aws, clients, synthesized, monkeypatch, capsys, regressed
):
    template = copy.deepcopy(synthesized.template)
    if regressed:
        template = describe_actions_on_rule_arns(template)
    load(aws, template)
    try:
        deploy_world(clients)
        estate.create_bucket(clients.s3, "payments-ledger", encrypted=False)

        result = run_report_generator(aws, template, monkeypatch, synthesized.template_path)
    finally:
        aws.clear_iam()
    capsys.readouterr()

    assert result["outcome"] == "stored"
    report = json.loads(
        clients.s3.get_object(Bucket=REPORTS, Key=result["reportKey"])["Body"].read()
    )
    denied = sorted(e["subject"] for e in report["errors"] if e["code"] == "AccessDeniedException")
    if regressed:
        assert report["complete"] is False
        assert denied == ["DescribeComplianceByConfigRule", "DescribeConfigRuleEvaluationStatus"]
    else:
        assert report["complete"] is True and report["errors"] == []


# -- the serve command -------------------------------------------------------------------------------


def test_serve_enforces_the_template_given_on_the_command_line(synthesized, tmp_path):
    import subprocess
    import urllib.request

    root = Path(__file__).resolve().parents[2]
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "tools.local_aws",
            "serve",
            "--iam-template",
            str(tmp_path / "no.json"),
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2
    (line,) = bad.stderr.strip().splitlines()
    assert line.startswith("local_aws: --iam-template template: ") and "cannot read" in line

    port_file = tmp_path / "port"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tools.local_aws", "serve", "--port-file", str(port_file)]
        + ["--iam-template", str(synthesized.template_path)],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        proc.stdout.readline()
        url = f"http://127.0.0.1:{int(port_file.read_text())}/_local_aws/iam"
        with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 (loopback)
            status = json.loads(answer.read())
        assert status["enabled"] is True
        assert status["roles"][GENERATOR]["accessKeyIds"] == [role_access_key(GENERATOR)]
    finally:
        proc.terminate()
        assert proc.wait(timeout=20) == 0
