"""GIVEN recorded AWS Config status responses WHEN turned into evidence THEN problems say what is wrong."""

import pytest
from compliance_report import monitoring


def test_stopped_recorder_is_evidence_and_a_problem(load_config_response):
    response = load_config_response(
        "config_recorder_status_stopped.json", "DescribeConfigurationRecorderStatus"
    )

    records = monitoring.recorder_records(response["ConfigurationRecordersStatus"])
    problems = monitoring.recorder_problems(records)

    assert [r.to_json() for r in records] == [
        {
            "name": "default",
            "recording": False,
            "lastStatus": "SUCCESS",
            "lastStatusChangeTime": "2026-11-25T22:14:03Z",
            "lastErrorCode": None,
            "lastErrorMessage": None,
        }
    ]
    assert [(p.code, p.subject) for p in problems] == [("RECORDER_NOT_RECORDING", "default")]


def test_no_recorder_and_no_channel_are_problems():
    assert [p.code for p in monitoring.recorder_problems([])] == ["RECORDER_MISSING"]
    assert [p.code for p in monitoring.channel_problems([])] == ["DELIVERY_CHANNEL_MISSING"]


def test_failed_recorder_status_is_a_recorder_failure():
    records = monitoring.recorder_records(
        [
            {
                "name": "default",
                "recording": True,
                "lastStatus": "Failure",
                "lastErrorCode": "AccessDenied",
            }
        ]
    )

    problems = monitoring.recorder_problems(records)

    assert [p.code for p in problems] == ["RECORDER_FAILURE"]
    assert "AccessDenied" in problems[0].message


def test_failing_history_delivery_is_a_delivery_failure(load_config_response):
    response = load_config_response(
        "config_delivery_channel_status_failing.json", "DescribeDeliveryChannelStatus"
    )

    records = monitoring.channel_records(response["DeliveryChannelsStatus"])
    problems = monitoring.channel_problems(records)

    assert [r.to_json() for r in records] == [
        {
            "name": "default",
            "configHistoryLastStatus": "Failure",
            "configSnapshotLastStatus": "Success",
            "configStreamLastStatus": "Not_Applicable",
            "lastErrorCode": "AccessDenied",
        }
    ]
    assert [p.code for p in problems] == ["DELIVERY_FAILURE"]
    assert "history" in problems[0].message


def test_rule_evaluation_status_gives_one_problem_per_unhealthy_rule(load_config_response):
    response = load_config_response(
        "config_rule_evaluation_status.json", "DescribeConfigRuleEvaluationStatus"
    )
    by_name = {s["ConfigRuleName"]: s for s in response["ConfigRulesEvaluationStatus"]}

    healthy = monitoring.evaluation_problems("s3-bucket-sse-dev", by_name["s3-bucket-sse-dev"])
    failed = monitoring.evaluation_problems(
        "rds-storage-encrypted-dev", by_name["rds-storage-encrypted-dev"]
    )
    never = monitoring.evaluation_problems("ec2-imdsv2-check-dev", by_name["ec2-imdsv2-check-dev"])

    assert healthy == []
    assert [p.code for p in failed] == ["RULE_EVALUATION_FAILED"]
    assert "InternalError" in failed[0].message
    assert [p.code for p in never] == ["RULE_NOT_EVALUATED"]
    assert monitoring.evaluation_record(by_name["rds-storage-encrypted-dev"]).to_json() == {
        "firstEvaluationStarted": True,
        "lastSuccessfulEvaluationTime": "2026-11-25T05:40:00Z",
        "lastFailedEvaluationTime": "2026-11-26T05:41:00Z",
        "lastErrorCode": "InternalError",
        "lastErrorMessage": "Rule evaluation failed",
    }


@pytest.mark.parametrize(
    "recorder, delivery",
    [
        ("Failure", "Failure"),  # the API model's spelling
        ("FAILURE", "FAILURE"),  # as the AWS CLI's examples print it
        ("failure", "failure"),
    ],
)
def test_a_failing_status_is_a_failure_however_aws_spells_it(recorder, delivery):
    recorders = [{"name": "default", "recording": True, "lastStatus": recorder}]
    channels = [
        {
            "name": "default",
            "configHistoryDeliveryInfo": {"lastStatus": delivery, "lastErrorCode": "NoSuchBucket"},
            "configSnapshotDeliveryInfo": {"lastStatus": "NOT_APPLICABLE"},
        }
    ]

    recorder_records = monitoring.recorder_records(recorders)
    channel_records = monitoring.channel_records(channels)

    assert recorder_records[0].last_status == "FAILURE"
    assert [p.code for p in monitoring.recorder_problems(recorder_records)] == ["RECORDER_FAILURE"]
    assert channel_records[0].config_history_last_status == "Failure"
    assert channel_records[0].config_snapshot_last_status == "Not_Applicable"
    assert [p.code for p in monitoring.channel_problems(channel_records)] == ["DELIVERY_FAILURE"]
    assert monitoring.unrecognised_recorder_statuses(recorders) == []
    assert monitoring.unrecognised_channel_statuses(channels) == []


def test_a_status_that_is_no_status_aws_defines_is_not_taken_for_healthy():
    recorders = [{"name": "default", "recording": True, "lastStatus": "Degraded"}]
    channels = [{"name": "default", "configStreamDeliveryInfo": {"lastStatus": "Partial"}}]

    assert monitoring.recorder_records(recorders)[0].last_status is None
    (recorder,) = monitoring.unrecognised_recorder_statuses(recorders)
    (channel,) = monitoring.unrecognised_channel_statuses(channels)

    assert (recorder.code, recorder.subject) == (
        "STATUS_UNAVAILABLE",
        "configuration recorder default",
    )
    assert "'Degraded'" in recorder.message
    assert (channel.code, channel.subject) == (
        "STATUS_UNAVAILABLE",
        "delivery channel default stream",
    )
