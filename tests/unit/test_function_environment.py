"""GIVEN the synthesized stack WHEN its report generator's environment is compared with the local
harness's THEN they name the same variables with the same defaults, so a run on this machine sees
what the deployed function sees."""

from __future__ import annotations

import pytest

from lib.exceptions.register import Register
from lib.report_generator import local_harness as harness
from lib.report_generator.runtime.compliance_report import environment as variables

# What Lambda itself sets in every function's environment; the harness adds them for local runs.
SET_BY_LAMBDA = {"AWS_REGION", "AWS_DEFAULT_REGION"}


def deployed_function(template):
    (fn,) = template.find_resources(
        "AWS::Lambda::Function", {"Properties": {"FunctionName": harness.function_name("dev")}}
    ).values()
    return fn["Properties"]


def local_environment(register):
    return harness.function_environment(
        bucket="compliance-reports-dev",
        topic_arn="arn:aws:sns:us-east-1:123456789012:compliance-alerts-dev",
        rules=[{"name": "s3-bucket-sse-enabled-dev", "managedIdentifier": "S3_X"}],
        suffix="dev",
        exceptions_register=register,
    )


@pytest.fixture
def register(tmp_path):
    """The repository's register as the layer holds it."""
    path = tmp_path / "register.json"
    path.write_bytes(Register.empty().canonical_bytes())
    return path


def test_the_harness_sets_exactly_the_variables_the_stack_sets(template, register):
    deployed = deployed_function(template)["Environment"]["Variables"]

    local = set(local_environment(register)) - SET_BY_LAMBDA

    assert set(deployed) == local


def test_the_defaults_and_plain_values_agree(template, register):
    deployed = deployed_function(template)["Environment"]["Variables"]
    local = local_environment(register)

    plain = {k: v for k, v in deployed.items() if isinstance(v, str)}  # not a Ref / GetAtt token

    assert plain[variables.REPORT_PREFIX] == local[variables.REPORT_PREFIX] == "reports/"
    assert plain[variables.METRICS_NAMESPACE] == local[variables.METRICS_NAMESPACE]
    assert plain[variables.ALERT_MAX_RESOURCES] == local[variables.ALERT_MAX_RESOURCES]
    assert plain[variables.ENVIRONMENT_SUFFIX] == local[variables.ENVIRONMENT_SUFFIX] == "dev"
    # The repository's exceptions.yaml (empty) gives the key of the empty register.
    assert plain[variables.EXCEPTIONS_REGISTER_KEY] == local[variables.EXCEPTIONS_REGISTER_KEY]
    assert plain[variables.EXCEPTIONS_REGISTER_PATH] == "/opt/exceptions/register.json"


def test_a_fresh_context_has_the_function_timeout_left(template):
    assert deployed_function(template)["Timeout"] * 1000 == harness.TIMEOUT_MS
    assert deployed_function(template)["FunctionName"] == harness.function_name("dev")
