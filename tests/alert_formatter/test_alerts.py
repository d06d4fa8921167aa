"""GIVEN a batch of documented sample events WHEN the function processes it THEN each becomes the e-mail
the security team reads: a sortable subject, the resource's human name from AWS Config's own data,
account, region, environment, time, the console link and the fix; monitoring problems are CRITICAL."""

import json

import pytest
from realtime_alerts import messages
from realtime_alerts.process import process

from tests.alert_formatter.conftest import (
    TOPIC,
    ec2_item,
    load_event,
    make_settings,
    rds_item,
    s3_item,
)


def run(stubbed, settings, *names):
    return process(
        [(f"r{i}", load_event(n)) for i, n in enumerate(names)],
        settings,
        stubbed.config,
        stubbed.sns,
    )


def test_a_non_compliant_instance_is_one_e_mail_with_its_name_link_and_fix(stubbed, settings):
    stubbed.names(
        [ec2_item("i-0abc1234def567890", "bastion")],
        [{"resourceType": "AWS::EC2::Instance", "resourceId": "i-0abc1234def567890"}],
    )
    stubbed.accept()

    out = run(stubbed, settings, "compliance_change_ec2_non_compliant.json")

    (sent,) = stubbed.published
    assert sent["TopicArn"] == TOPIC
    assert sent["Subject"] == "[NON_COMPLIANT] ec2-imdsv2-check prod: i-0abc1234def567890 (bastion)"
    body = sent["Message"]
    for line in (
        "ec2-imdsv2-check-prod: EC2 instance i-0abc1234def567890 (bastion) is NON_COMPLIANT.",
        "Name         bastion",
        "Rule         ec2-imdsv2-check-prod (AWS managed rule EC2_IMDSV2_CHECK)",
        "Change       COMPLIANT -> NON_COMPLIANT",
        "Recorded     2026-07-05T06:00:01.405Z",
        "Account      123456789012",
        "Region       us-east-1",
        "Environment  prod",
        "Annotation   HttpTokens is optional.",
        "  https://console.aws.amazon.com/config/home?region=us-east-1#/timeline/AWS::EC2::Instance/"
        "i-0abc1234def567890?time=2026-07-05T06:00:01.405Z",
        "  aws ec2 modify-instance-metadata-options --instance-id i-0abc1234def567890 "
        "--http-tokens required --http-endpoint enabled",
    ):
        assert line in body.splitlines(), line
    assert sent["MessageAttributes"] == {
        "kind": {"DataType": "String", "StringValue": "compliance-change"},
        "severity": {"DataType": "String", "StringValue": "NON_COMPLIANT"},
        "environment": {"DataType": "String", "StringValue": "prod"},
        "rule": {"DataType": "String", "StringValue": "ec2-imdsv2-check-prod"},
        "resourceType": {"DataType": "String", "StringValue": "AWS::EC2::Instance"},
        "complianceType": {"DataType": "String", "StringValue": "NON_COMPLIANT"},
        "account": {"DataType": "String", "StringValue": "123456789012"},
    }
    assert out.failed == [] and out.name_lookups == 1


def test_rds_is_named_by_its_db_identifier_not_its_dbi_resource_id(stubbed, settings):
    stubbed.names([rds_item("db-KHN5ZWQ7Y2V3RQ3OVKUNHCP3TE", "reporting-warehouse")])
    stubbed.accept()

    run(stubbed, settings, "compliance_change_rds_first_evaluation.json")

    (sent,) = stubbed.published
    assert sent["Subject"] == (
        "[NON_COMPLIANT] rds-storage-encrypted prod: db-KHN5ZWQ7Y2V3RQ3OVKUNHCP3TE (reporting-warehouse)"
    )
    assert "Change       not evaluated before -> NON_COMPLIANT" in sent["Message"]
    assert "snapshot reporting-warehouse, copy the snapshot with" in sent["Message"]


def test_a_resource_config_no_longer_has_keeps_its_id_and_says_so(stubbed, settings):
    stubbed.names([])  # "The API does not return results for deleted resources"
    stubbed.accept()

    run(stubbed, settings, "compliance_change_ec2_non_compliant.json")

    (sent,) = stubbed.published
    assert sent["Subject"] == "[NON_COMPLIANT] ec2-imdsv2-check prod: i-0abc1234def567890"
    assert "Name         (no Name tag)" in sent["Message"]


def test_a_failed_name_lookup_still_sends_the_alert_and_says_why_the_name_is_missing(
    stubbed, settings
):
    stubbed.config_stub.add_client_error(
        "batch_get_resource_config", "AccessDeniedException", "not allowed", 400
    )
    stubbed.accept()

    out = run(stubbed, settings, "compliance_change_ec2_non_compliant.json")

    (sent,) = stubbed.published
    assert "Name         (not known: BatchGetResourceConfig failed:" in sent["Message"]
    assert out.failed == [] and "AccessDeniedException" in out.name_error


def test_resolved_changes_are_dropped_unless_the_setting_is_on(stubbed):
    off = run(stubbed, make_settings(), "compliance_change_s3_resolved.json")
    assert stubbed.published == [] and off.ignored == [
        ("r0", "resolved changes are off (alertResolved)")
    ]

    stubbed.names([s3_item("treasury-exports-prod")])
    stubbed.accept()
    run(stubbed, make_settings(send_resolved=True), "compliance_change_s3_resolved.json")

    (sent,) = stubbed.published
    assert sent["Subject"] == "[RESOLVED] s3-bucket-sse-enabled prod: treasury-exports-prod"
    assert sent["MessageAttributes"]["severity"]["StringValue"] == "RESOLVED"
    assert sent["MessageAttributes"]["complianceType"]["StringValue"] == "COMPLIANT"
    assert "is no longer NON_COMPLIANT (now COMPLIANT)" in sent["Message"]
    assert "Fix:" not in sent["Message"]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("compliance_change_compliant_first_evaluation.json", "without an earlier NON_COMPLIANT"),
        ("compliance_change_other_rule.json", "is not one of the stack's rules"),
        ("cloudtrail_delete_other_config_rule.json", "is not the stack's"),
        ("cloudtrail_stop_configuration_recorder_denied.json", "changed nothing"),
    ],
)
def test_events_that_are_not_alerts_are_logged_and_dropped_not_retried(
    stubbed, settings, name, reason
):
    out = run(stubbed, settings, name)

    assert stubbed.published == [] and out.failed == []
    ((record, why),) = out.ignored
    assert record == "r0" and reason in why


@pytest.mark.parametrize(
    ("name", "subject", "fix"),
    [
        (
            "cloudtrail_stop_configuration_recorder.json",
            "[CRITICAL] prod: AWS Config recorder default STOPPED - changes are not recorded",
            "aws configservice start-configuration-recorder --configuration-recorder-name default",
        ),
        (
            "cloudtrail_delete_configuration_recorder.json",
            "[CRITICAL] prod: AWS Config recorder default DELETED - nothing is recorded",
            "redeploy the stack (make deploy ENV_SUFFIX=prod); it recreates the recorder",
        ),
        (
            "cloudtrail_delete_delivery_channel.json",
            "[CRITICAL] prod: AWS Config delivery channel default DELETED",
            "redeploy the stack (make deploy ENV_SUFFIX=prod); it recreates the delivery channel",
        ),
        (
            "cloudtrail_delete_config_rule.json",
            "[CRITICAL] prod: Config rule rds-storage-encrypted-prod DELETED - its resources are not "
            "checked",
            "redeploy the stack (make deploy ENV_SUFFIX=prod); it recreates the rule",
        ),
        (
            "cloudtrail_start_configuration_recorder.json",
            "[RESOLVED] prod: AWS Config recorder default started - recording again",
            "nothing to do",
        ),
    ],
)
def test_monitoring_changes_are_their_own_alert_naming_who_did_it(
    stubbed, settings, name, subject, fix
):
    stubbed.accept()

    run(stubbed, settings, name)

    (sent,) = stubbed.published
    assert sent["Subject"] == subject
    first = sent["Message"].splitlines()[0]
    assert first.startswith("AWS Config ") and " was " in first
    assert first.endswith(" in account 222222222222 (us-west-2, environment prod).")
    assert "Who          arn:aws:iam::222222222222:user/JohnDoe (from " in sent["Message"]
    assert "  " + fix in sent["Message"].splitlines()
    attributes = {k: v["StringValue"] for k, v in sent["MessageAttributes"].items()}
    assert attributes["kind"] == "monitoring" and attributes["environment"] == "prod"
    assert attributes["severity"] == ("RESOLVED" if "started" in subject else "CRITICAL")


def test_monitoring_alerts_go_out_first_and_never_join_a_digest(stubbed):
    settings = make_settings(digest_threshold=1)
    stubbed.names([])
    stubbed.accept(2)

    out = run(
        stubbed,
        settings,
        "compliance_change_ec2_non_compliant.json",
        "compliance_change_rds_first_evaluation.json",
        "cloudtrail_stop_configuration_recorder.json",
    )

    subjects = [p["Subject"] for p in stubbed.published]
    assert subjects[0].startswith("[CRITICAL] prod: AWS Config recorder default STOPPED")
    assert subjects[1].startswith("[DIGEST] prod: 2 compliance changes within 5 min")
    assert out.digest is True


def test_a_record_whose_alert_sns_refused_is_handed_back_and_the_others_are_not(stubbed, settings):
    stubbed.names([])
    stubbed.accept()
    stubbed.refuse()

    out = run(
        stubbed,
        settings,
        "compliance_change_ec2_non_compliant.json",
        "compliance_change_rds_first_evaluation.json",
    )

    assert out.failed == ["r1"] and len(out.sent) == 1
    assert "InternalError" in out.errors[0]


def test_the_same_event_delivered_twice_in_a_batch_is_one_e_mail(stubbed, settings):
    stubbed.names([ec2_item("i-0abc1234def567890", "bastion")])
    stubbed.accept()
    event = load_event("compliance_change_ec2_non_compliant.json")

    out = process([("a", event), ("b", event)], settings, stubbed.config, stubbed.sns)

    assert len(stubbed.published) == 1 and out.failed == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("bastion", "[NON_COMPLIANT] ec2-imdsv2-check prod: i-0abc1234def567890 (bastion)"),
        # too long together: the human name alone, which is what an inbox is sorted by
        ("x" * 50, "[NON_COMPLIANT] ec2-imdsv2-check prod: " + "x" * 50),
        # a name too long even alone: the id and as much of the name as fits, marked with "..."
        (
            "y" * 120,
            "[NON_COMPLIANT] ec2-imdsv2-check prod: i-0abc1234def567890 (" + "y" * 36 + "...",
        ),
        # accents dropped, other non-ASCII and line breaks become spaces
        (
            "Zürich\nreplica ☃",
            "[NON_COMPLIANT] ec2-imdsv2-check prod: i-0abc1234def567890 (Zurich replica)",
        ),
    ],
)
def test_subjects_are_printable_ascii_under_100_characters(stubbed, settings, name, expected):
    stubbed.names([ec2_item("i-0abc1234def567890", name)])
    stubbed.accept()

    run(stubbed, settings, "compliance_change_ec2_non_compliant.json")

    subject = stubbed.published[0]["Subject"]
    assert subject == expected
    assert len(subject) <= messages.SUBJECT_MAX < 100
    assert subject.isascii() and subject.isprintable()


def test_every_alert_carries_the_attributes_a_filter_policy_routes_on(stubbed):
    settings = make_settings(send_resolved=True)
    stubbed.names([])
    stubbed.accept(3)

    run(
        stubbed,
        settings,
        "compliance_change_ec2_non_compliant.json",
        "compliance_change_s3_resolved.json",
        "cloudtrail_delete_config_rule.json",
    )

    for sent in stubbed.published:
        names = set(sent["MessageAttributes"])
        assert {"kind", "severity", "environment", "account"} <= names, sent["Subject"]
        assert len(names) <= 10
        for value in sent["MessageAttributes"].values():
            assert value["StringValue"], "SNS refuses empty attribute values"
            if value["DataType"] == "String.Array":
                assert isinstance(json.loads(value["StringValue"]), list)
    rule_deleted = stubbed.published[0]
    assert rule_deleted["MessageAttributes"]["problem"]["StringValue"] == "RULE_DELETED"
    assert rule_deleted["MessageAttributes"]["rule"]["StringValue"] == "rds-storage-encrypted-prod"
