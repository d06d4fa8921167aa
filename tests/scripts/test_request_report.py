"""`make report-now` puts one on-demand request in the stack's FIFO queue, in the one message group, and
says where the report will appear; `make outputs` prints the stack's outputs. Against the emulator."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone

from lib.report_generator.runtime.compliance_report.triggers import report_id_for
from scripts.request_report import MESSAGE_GROUP, request_report
from tests.scripts.conftest import reports_bucket, run_make, run_script


def _queue_url(account, suffix: str = "qa") -> str:
    return str(
        account.sqs.get_queue_url(QueueName=f"compliance-report-requests-{suffix}.fifo")["QueueUrl"]
    )


def test_request_lands_in_the_fifo_queue_with_the_note(account):
    # GIVEN the stack's request queue
    account.deploy("qa")
    url = _queue_url(account)

    # WHEN two reports are requested with the same note
    first = request_report(account.sqs, url, "after remediation")
    second = request_report(account.sqs, url, "after remediation")

    # THEN both are queued (deliberate requests are not deduplicated), in order, in the one group,
    # each with its own id chosen when it was made (the report is keyed by it, not the message id)
    received = account.sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["MessageGroupId"]
    )["Messages"]
    assert [m["MessageId"] for m in received] == [first.message_id, second.message_id]
    assert first.request_id != second.request_id
    for message, request in zip(received, (first, second)):
        assert json.loads(message["Body"]) == {
            "action": "generate-report",
            "note": "after remediation",
            "id": request.request_id,
        }
        assert message["Attributes"]["MessageGroupId"] == MESSAGE_GROUP


def test_report_now_says_where_the_report_will_appear(account):
    account.deploy("qa")

    result = run_make("report-now", "ENV_SUFFIX=qa", "NOTE=ticket AUD-7", env=account.env)

    assert result.returncode == 0, result.stderr
    (message,) = account.sqs.receive_message(QueueUrl=_queue_url(account))["Messages"]
    body = json.loads(message["Body"])
    assert body["note"] == "ticket AUD-7"
    day = datetime.now(timezone.utc).strftime("%Y/%m/%d")
    where = f"s3://{reports_bucket('qa')}/reports/{day}/"
    report_id = report_id_for(body["id"])  # what the runtime names this request's report
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "requested a report from ComplianceAudit-qa in account 123456789012, region us-east-1 "
        f"(request {body['id']}, message {message['MessageId']})"
    )
    assert lines[1] == f"the report will appear in {where} as <sequence>-{report_id}.json"
    assert f"find it: aws s3 ls {where} | grep {report_id}" in lines[3]
    assert lines[4].endswith("make status ENV_SUFFIX=qa")


def test_a_note_the_generator_would_reject_is_refused_before_sending(account):
    account.deploy("qa")

    result = run_script("request_report", "--suffix", "qa", "--note", "x" * 1025, env=account.env)

    assert result.returncode == 1
    assert result.stderr == (
        "error: NOTE is 1025 characters: the report generator takes at most 1024\n"
    )
    assert not account.sqs.receive_message(QueueUrl=_queue_url(account)).get("Messages")


def test_outputs_prints_bucket_topic_queue_and_function(account):
    account.deploy("qa")

    text = run_make("outputs", "ENV_SUFFIX=qa", env=account.env)
    as_json = run_script("outputs", "--suffix", "qa", "--json", env=account.env)

    assert text.returncode == 0 and as_json.returncode == 0, text.stderr + as_json.stderr
    lines = text.stdout.splitlines()
    assert (
        lines[0] == "ComplianceAudit-qa in account 123456789012, region us-east-1 (CREATE_COMPLETE)"
    )
    labels = [re.split(r"\s{2,}", line.strip()) for line in lines[1:]]
    assert labels == [
        ["report bucket", reports_bucket("qa")],
        ["alert topic", "arn:aws:sns:us-east-1:123456789012:compliance-alerts-qa"],
        [
            "request queue",
            "https://sqs.us-east-1.amazonaws.com/123456789012/compliance-report-requests-qa.fifo",
        ],
        ["report generator", "compliance-report-generator-qa"],
        ["alert formatter", "compliance-alert-formatter-qa"],
    ]
    document = json.loads(as_json.stdout)
    assert document["stack"] == "ComplianceAudit-qa" and document["account"] == "123456789012"
    assert document["outputs"]["ReportBucketName"] == reports_bucket("qa")
    assert set(document["outputs"]) == {
        "ReportBucketName",
        "AlertTopicArn",
        "RequestQueueUrl",
        "ReportGeneratorName",
        "AlertFormatterName",
    }


def test_a_stack_without_the_output_says_why(account):
    account.cloudformation.create_stack(
        StackName="ComplianceAudit-old",
        TemplateBody=json.dumps(
            {"Resources": {"B": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "t"}}}}
        ),
    )

    result = run_script("outputs", "--suffix", "old", env=account.env)

    assert result.returncode == 1
    assert result.stderr == (
        "error: stack ComplianceAudit-old in account 123456789012, region us-east-1 has no output "
        "ReportBucketName (status CREATE_COMPLETE): deployed from an older version of this app; "
        "run `make deploy` to add it\n"
    )
