"""GIVEN the status check's schedule WHEN a rule failed to evaluate, or the recorder failed to record,
within the interval the check covers THEN it is a CRITICAL alert, once: failures before the interval,
or older than the rule's last success, are not alerted again."""

from datetime import datetime, timezone

import pytest
from realtime_alerts.process import process

from tests.alert_formatter.conftest import load_event, make_settings

CHECK = load_event("scheduled_status_check.json")  # at 2026-07-05T06:15:00Z, every 15 minutes
NAMES = ["s3-bucket-sse-enabled-prod", "rds-storage-encrypted-prod", "ec2-imdsv2-check-prod"]


def at(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def statuses(stubbed, rules, recorder=None):
    stubbed.config_stub.add_response(
        "describe_config_rule_evaluation_status",
        {"ConfigRulesEvaluationStatus": rules},
        {"ConfigRuleNames": NAMES},
    )
    stubbed.config_stub.add_response(
        "describe_configuration_recorder_status",
        {"ConfigurationRecordersStatus": [recorder] if recorder else []},
        {},
    )


def rule(name, success, failure=None, code=None):
    status = {"ConfigRuleName": name, "LastSuccessfulEvaluationTime": at(success)}
    if failure:
        status.update(
            LastFailedEvaluationTime=at(failure),
            LastFailedInvocationTime=at(failure),
            LastErrorCode=code,
            LastErrorMessage="Injected failure",
        )
    return status


@pytest.mark.parametrize(
    ("failure", "success", "alerted"),
    [
        ("2026-07-05T06:10:00Z", "2026-07-05T05:00:00Z", True),  # new, after the last success
        ("2026-07-05T06:15:00Z", "2026-07-05T05:00:00Z", True),  # at the check's own time
        ("2026-07-05T06:00:00Z", "2026-07-05T05:00:00Z", False),  # alerted by the previous check
        ("2026-07-05T06:10:00Z", "2026-07-05T06:12:00Z", False),  # a success came after it
    ],
)
def test_a_rule_that_failed_in_the_interval_is_alerted_once(stubbed, failure, success, alerted):
    statuses(stubbed, [rule("ec2-imdsv2-check-prod", success, failure, "InternalException")])
    stubbed.accept(1 if alerted else 0)

    out = process([("r0", CHECK)], make_settings(), stubbed.config, stubbed.sns)

    assert out.failed == []
    if alerted:
        (sent,) = stubbed.published
        assert sent["Subject"] == (
            "[CRITICAL] prod: Config rule ec2-imdsv2-check-prod FAILS to evaluate (InternalException)"
        )
        assert "Error        InternalException: Injected failure" in sent["Message"]
        assert "Seen by      the status check of AWS Config's rules and recorder" in sent["Message"]
        assert sent["MessageAttributes"]["problem"]["StringValue"] == "RULE_EVALUATION_FAILING"
    else:
        assert stubbed.published == []


@pytest.mark.parametrize("spelling", ["Failure", "FAILURE"])
def test_a_recorder_that_started_failing_in_the_interval_is_alerted(stubbed, spelling):
    recorder = {
        "name": "default",
        "recording": True,
        "lastStatus": spelling,
        "lastErrorCode": "AccessDenied",
        "lastErrorMessage": "role cannot describe",
        "lastStatusChangeTime": at("2026-07-05T06:05:00Z"),
    }
    statuses(stubbed, [rule(n, "2026-07-05T05:00:00Z") for n in NAMES], recorder)
    stubbed.accept()

    process([("r0", CHECK)], make_settings(), stubbed.config, stubbed.sns)

    (sent,) = stubbed.published
    assert (
        sent["Subject"]
        == "[CRITICAL] prod: AWS Config recorder default FAILS to record (AccessDenied)"
    )


def test_a_rule_that_no_longer_exists_does_not_stop_the_check_of_the_others(stubbed):
    stubbed.config_stub.add_client_error(
        "describe_config_rule_evaluation_status", "NoSuchConfigRuleException", "gone", 400
    )
    for name in NAMES:
        if name == "rds-storage-encrypted-prod":
            stubbed.config_stub.add_client_error(
                "describe_config_rule_evaluation_status", "NoSuchConfigRuleException", "gone", 400
            )
        else:
            stubbed.config_stub.add_response(
                "describe_config_rule_evaluation_status",
                {
                    "ConfigRulesEvaluationStatus": [
                        rule(
                            name,
                            "2026-07-05T05:00:00Z",
                            "2026-07-05T06:14:00Z",
                            "InternalException",
                        )
                    ]
                },
                {"ConfigRuleNames": [name]},
            )
    stubbed.config_stub.add_response(
        "describe_configuration_recorder_status", {"ConfigurationRecordersStatus": []}, {}
    )
    stubbed.accept(2)

    process([("r0", CHECK)], make_settings(), stubbed.config, stubbed.sns)

    assert [p["MessageAttributes"]["rule"]["StringValue"] for p in stubbed.published] == [
        "s3-bucket-sse-enabled-prod",
        "ec2-imdsv2-check-prod",
    ]


def test_a_check_that_cannot_read_the_status_is_handed_back_to_be_retried(stubbed):
    stubbed.config_stub.add_client_error(
        "describe_config_rule_evaluation_status", "ThrottlingException", "slow down", 400
    )

    out = process([("r0", CHECK)], make_settings(), stubbed.config, stubbed.sns)

    assert out.failed == ["r0"] and "ThrottlingException" in out.errors[0]
