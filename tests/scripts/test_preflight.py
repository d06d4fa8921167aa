"""`make deploy`'s preflight: ALERT_EMAIL (or =none), then an existing AWS Config recorder or delivery
channel found before CloudFormation spends minutes failing, against the emulator."""

from __future__ import annotations

import json

import pytest

from scripts.deployment import OpsError
from scripts.preflight import cdk_context
from tests.scripts.conftest import ACCOUNT, ROOT, own_lines, recorder_name, run_make, run_script

WHERE = f"account {ACCOUNT}, region us-east-1"


def _recorder(account, name: str = "default", channel: bool = True) -> None:
    """A configuration recorder (and delivery channel) made outside any ComplianceAudit stack."""
    account.config.put_configuration_recorder(
        ConfigurationRecorder={
            "name": name,
            "roleARN": f"arn:aws:iam::{ACCOUNT}:role/config",
            "recordingGroup": {"allSupported": True},
        }
    )
    if channel:
        account.s3.create_bucket(Bucket=f"{name}-config-delivery")
        account.config.put_delivery_channel(
            DeliveryChannel={"name": name, "s3BucketName": f"{name}-config-delivery"}
        )


def _preflight(account, suffix: str, *cdk_args: str):
    return run_script(
        "preflight",
        "--suffix",
        suffix,
        "--",
        "-c",
        f"environmentSuffix={suffix}",
        *cdk_args,
        env=account.env,
    )


def test_an_unset_alert_email_is_refused_before_any_aws_call(no_credentials):
    result = run_make("deploy", "ENV_SUFFIX=qa", env=no_credentials)

    assert result.returncode != 0
    assert own_lines(result) == [
        "error: ALERT_EMAIL is not set: ComplianceAudit-qa would alert nobody; pass "
        "ALERT_EMAIL=security@example.com, or ALERT_EMAIL=none to deploy without e-mail on purpose"
    ]


def test_alert_email_none_is_no_email_on_purpose(account):
    result = _preflight(account, "qa", "-c", "alertEmail=none")

    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"preflight: ComplianceAudit-qa in {WHERE}: new stack; no alert e-mail, on purpose "
        "(ALERT_EMAIL=none); Config recorder and delivery channel: the stack's own\n"
    )


def test_a_bad_alert_email_fails_as_synth_would(account):
    result = _preflight(account, "qa", "-c", "alertEmail=security")

    assert result.returncode == 1
    assert result.stderr == (
        "error: alertEmail='security': must be an e-mail address like team@example.com, or 'none' "
        "for no e-mail on purpose\n"
    )


def test_an_existing_recorder_and_channel_are_found_and_the_flag_named(account):
    _recorder(account)

    result = run_make("preflight", "ENV_SUFFIX=qa", "ALERT_EMAIL=team@example.com", env=account.env)

    assert result.returncode != 0
    assert own_lines(result) == [
        f"error: AWS Config in {WHERE} already has configuration recorder 'default' and delivery "
        "channel 'default', and a region takes one of each: deploy with the existing ones, "
        'make deploy ... CDK_ARGS="-c useExistingConfigRecorder=true" (or remove them if nothing '
        "else uses them)"
    ]


def test_with_the_flag_the_existing_recorder_is_used(account):
    _recorder(account)
    account.config.start_configuration_recorder(ConfigurationRecorderName="default")

    result = run_make(
        "preflight",
        "ENV_SUFFIX=qa",
        "ALERT_EMAIL=team@example.com",
        "CDK_ARGS=-c useExistingConfigRecorder=true",
        env=account.env,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("Config: uses the existing recorder 'default'\n")


def test_the_flag_says_when_the_existing_recorder_is_not_recording(account):
    _recorder(account)

    result = _preflight(
        account, "qa", "-c", "alertEmail=none", "-c", "useExistingConfigRecorder=true"
    )

    assert result.returncode == 0, result.stderr
    assert (
        "uses the existing recorder 'default' (not recording: default; start it)" in result.stdout
    )


def test_the_flag_without_any_recorder_is_refused(account):
    result = _preflight(
        account, "qa", "-c", "alertEmail=none", "-c", "useExistingConfigRecorder=true"
    )

    assert result.returncode == 1
    assert result.stderr == (
        f"error: useExistingConfigRecorder=true, but AWS Config in {WHERE} has no configuration "
        "recorder: the rules would never evaluate; deploy without -c useExistingConfigRecorder=true "
        "so the stack creates one\n"
    )


def test_the_stacks_own_recorder_is_no_obstacle_to_an_update(account):
    account.deploy("qa")
    _recorder(account, recorder_name("qa"), channel=False)

    result = _preflight(account, "qa", "-c", "alertEmail=none")

    assert result.returncode == 0, result.stderr
    assert "ComplianceAudit-qa in" in result.stdout and "update (CREATE_COMPLETE)" in result.stdout


def test_a_recorder_of_another_environment_is_named_with_its_stack(account):
    account.deploy("qa")
    _recorder(account, recorder_name("qa"), channel=False)

    result = _preflight(account, "qb", "-c", "alertEmail=none")

    assert result.returncode == 1
    assert result.stderr.startswith(
        f"error: AWS Config in {WHERE} already has configuration recorder "
        "'compliance-recorder-qa' (from stack ComplianceAudit-qa), and a region takes one of each"
    )


def test_the_flag_on_a_stack_that_owns_the_only_recorder_is_refused(account):
    account.deploy("qa")
    _recorder(account, recorder_name("qa"), channel=False)

    result = _preflight(
        account, "qa", "-c", "alertEmail=none", "-c", "useExistingConfigRecorder=true"
    )

    assert result.returncode == 1
    assert "the only configuration recorder in" in result.stderr
    assert "is ComplianceAudit-qa's own ('compliance-recorder-qa')" in result.stderr


def test_context_is_cdk_json_overridden_by_each_c_argument(tmp_path):
    cdk_json = tmp_path / "cdk.json"
    cdk_json.write_text(json.dumps({"context": {"environmentSuffix": "dev", "a": "1"}}))

    context = cdk_context(cdk_json, ["-c", "environmentSuffix=qa", "--context=b=x=y", "--quiet"])

    assert context == {"environmentSuffix": "qa", "a": "1", "b": "x=y"}
    with pytest.raises(OpsError, match="must be key=value"):
        cdk_context(cdk_json, ["-c", "novalue"])
    # The repository's own cdk.json is read as it is (its lambdaRuntime pin is the contract's).
    assert cdk_context(ROOT / "cdk.json", [])["lambdaRuntime"] == "python3.9"
