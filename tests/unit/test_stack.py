"""Contract rules across the whole template, for every settings variant."""

from __future__ import annotations

import json

from lib.alert_formatter.infrastructure import UNSCOPED_CONFIG_READS as FORMATTER_READS
from lib.report_generator.infrastructure import UNSCOPED_CONFIG_READS
from tests.unit.cfn_schema import taggable
from tests.unit.conftest import VARIANTS

# Physical-name property and the service's length limit, per resource type.
NAMED = {
    "AWS::S3::Bucket": ("BucketName", 63),
    "AWS::SQS::Queue": ("QueueName", 80),
    "AWS::SNS::Topic": ("TopicName", 256),
    "AWS::Lambda::Function": ("FunctionName", 64),
    # PublishLayerVersion, LayerName: "Length Constraints: Minimum length of 1. Maximum length of 140."
    "AWS::Lambda::LayerVersion": ("LayerName", 140),
    "AWS::Logs::LogGroup": ("LogGroupName", 512),
    "AWS::IAM::Role": ("RoleName", 64),
    "AWS::IAM::ManagedPolicy": ("ManagedPolicyName", 128),
    "AWS::IAM::Policy": ("PolicyName", 128),
    "AWS::CloudWatch::Alarm": ("AlarmName", 255),
    "AWS::Events::Rule": ("Name", 64),
    "AWS::Scheduler::Schedule": ("Name", 64),
    "AWS::Scheduler::ScheduleGroup": ("Name", 64),
    "AWS::Config::ConfigRule": ("ConfigRuleName", 64),
    "AWS::Config::ConfigurationRecorder": ("Name", 256),
    "AWS::Config::DeliveryChannel": ("Name", 256),
    # PutParameter, Name: "The maximum length for a parameter name, including the full length of the
    # parameter Amazon Resource Name (ARN), is 1011 characters" (AWS Systems Manager API Reference).
    "AWS::SSM::Parameter": ("Name", 1011),
}
# Types CloudFormation gives no name property: policies attached to a resource, mappings, configs.
UNNAMEABLE = {
    "AWS::S3::BucketPolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::SNS::TopicPolicy",
    "AWS::SNS::Subscription",
    "AWS::Lambda::EventSourceMapping",
    "AWS::Lambda::EventInvokeConfig",
    "AWS::Lambda::Permission",
}
REQUIRED_TAGS = {"Environment": "audit", "CostCenter": "compliance"}


def resolve(value) -> str:
    """Render a name as it will be at deploy time, with a 12-digit account id."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return sep.join(resolve(p) for p in parts)
    if value == {"Ref": "AWS::AccountId"}:
        return "123456789012"
    if value == {"Ref": "AWS::Region"}:
        return "us-east-1"
    if value == {"Ref": "AWS::Partition"}:
        return "aws"
    raise AssertionError(f"cannot resolve name {value!r}")


def resources(template):
    return template.to_json()["Resources"]


def suffix_of(name: str) -> str:
    return VARIANTS[name].get("environmentSuffix", "dev")


def test_every_resource_type_is_classified(any_template):
    _, template = any_template
    unknown = {r["Type"] for r in resources(template).values()} - set(NAMED) - UNNAMEABLE
    assert not unknown, f"decide whether these types take a physical name: {unknown}"


def test_every_nameable_resource_carries_the_suffix_within_its_limit(any_template):
    name, template = any_template
    suffix = suffix_of(name)
    for logical_id, resource in resources(template).items():
        if resource["Type"] not in NAMED:
            continue
        prop, limit = NAMED[resource["Type"]]
        assert prop in resource["Properties"], f"{logical_id} has no {prop}"
        physical = resolve(resource["Properties"][prop])
        assert suffix in physical, f"{logical_id}: {physical!r} lacks suffix {suffix!r}"
        assert len(physical) <= limit, f"{logical_id}: {physical!r} is over {limit} characters"


def test_longest_allowed_suffix_fits_every_name():
    from tests.unit.synth import synth_template

    template = synth_template({"environmentSuffix": "abcdefghij-12345"})  # 16, the maximum
    for logical_id, resource in resources(template).items():
        if resource["Type"] in NAMED:
            prop, limit = NAMED[resource["Type"]]
            physical = resolve(resource["Properties"][prop])
            assert len(physical) <= limit, f"{logical_id}: {physical!r} exceeds {limit}"


def test_every_taggable_resource_has_the_contract_tags(any_template):
    _, template = any_template
    for logical_id, resource in resources(template).items():
        if not taggable(resource["Type"]):
            continue
        tags = resource["Properties"].get("Tags")
        if isinstance(
            tags, dict
        ):  # key-value map form (e.g. AWS::Scheduler::ScheduleGroup uses a list)
            found = tags
        else:
            found = {t["Key"]: t["Value"] for t in tags or []}
        for key, value in REQUIRED_TAGS.items():
            assert found.get(key) == value, (
                f"{logical_id} ({resource['Type']}) lacks tag {key}={value}"
            )


def test_nothing_is_retained_or_deletion_protected(any_template):
    _, template = any_template
    for logical_id, resource in resources(template).items():
        for policy in ("DeletionPolicy", "UpdateReplacePolicy"):
            assert resource.get(policy, "Delete") == "Delete", f"{logical_id} {policy}"
        text = json.dumps(resource.get("Properties", {}))
        assert '"DeletionProtection": true' not in text
        assert '"DeletionProtectionEnabled": true' not in text


def test_every_lambda_meets_runtime_architecture_and_timeout(any_template):
    name, template = any_template
    functions = template.find_resources("AWS::Lambda::Function")
    assert functions, "the stack has a report generator function"
    expected_runtime = VARIANTS[name].get("lambdaRuntime", "python3.9")
    for logical_id, fn in functions.items():
        props = fn["Properties"]
        assert props["Runtime"] == expected_runtime, logical_id
        assert props["Architectures"] == ["arm64"], logical_id
        assert props["Timeout"] <= 300, logical_id
        assert "ReservedConcurrentExecutions" not in props, logical_id


def test_no_policy_grants_wildcard_actions(any_template):
    _, template = any_template
    for logical_id, resource in resources(template).items():
        for statement in _statements(resource):
            if statement.get("Effect") != "Allow":
                continue  # deny statements (TLS-only) may and should be broad
            actions = statement.get("Action", [])
            actions = [actions] if isinstance(actions, str) else actions
            for action in actions:
                assert action != "*" and not action.endswith(":*"), f"{logical_id}: {action}"
            if statement.get("Resource") == "*":
                assert set(actions) <= {*UNSCOPED_CONFIG_READS, *FORMATTER_READS}, (
                    f"{logical_id}: Resource * for {actions}"
                )


def _statements(resource):
    props = resource.get("Properties", {})
    documents = [props.get("PolicyDocument")]
    documents += [p.get("PolicyDocument") for p in props.get("Policies", [])]
    for document in documents:
        if document:
            yield from document["Statement"]


def test_stack_is_pinned_to_us_east_1():
    from app import build_app
    from tests.unit.synth import make_app

    stack = build_app(make_app())
    assert stack.region == "us-east-1"
    assert stack.stack_name == "ComplianceAudit-dev"


def test_no_cdk_helper_functions_sneak_in(template):
    """auto_delete_objects and log_retention add Node.js singleton Lambdas; none may exist."""
    for fn in template.find_resources("AWS::Lambda::Function").values():
        assert "nodejs" not in fn["Properties"]["Runtime"]
    assert not template.find_resources("Custom::S3AutoDeleteObjects")
    assert not template.find_resources("Custom::LogRetention")
