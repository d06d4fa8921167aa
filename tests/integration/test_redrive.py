"""GIVEN a report request that failed maxReceiveCount times on the FIFO request queue and was moved to its
dead-letter queue WHEN the operator redrives the dead-letter queue (StartMessageMoveTask, back to the
source) THEN the redriven request — a new message with a new message id, as SQS documents — finishes the
original run instead of making a second report: a scheduled event is keyed by its EventBridge id, an
on-demand request by the id chosen when it was made, and both survive the redrive."""

import json

import pytest

from scripts.request_report import MESSAGE_GROUP, request_report


@pytest.fixture(autouse=True)
def short_retries(monkeypatch):
    """Failing alerts are permanent here: 3 attempts instead of 10 keep botocore's backoff short."""
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "3")


def fail_alerts(emulator):
    emulator.set_faults(
        [{"service": "sns", "operation": "Publish", "error": "InternalError", "status": 500}]
    )


def redrive(estate):
    """The operator's DLQ redrive, back to the original source queue (admin key)."""
    dlq = estate.dead_letter_queue_url()
    dlq_arn = estate.sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    estate.sqs.start_message_move_task(SourceArn=dlq_arn)
    (task,) = estate.sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]
    assert task["Status"] == "COMPLETED" and task["ApproximateNumberOfMessagesMoved"] == 1


def dead_lettered(estate, handler_module, context_factory):
    """Deliver until the request is dead-lettered; every delivery failed on the alert."""
    outcomes = estate.deliver_requests(handler_module, context_factory)
    max_receives = json.loads(estate.deployment.request_queue_attributes["RedrivePolicy"])[
        "maxReceiveCount"
    ]
    assert len(outcomes) == max_receives
    assert all(isinstance(outcome, Exception) for _, outcome in outcomes)
    assert len(estate.report_keys()) == 1  # the first delivery stored the report
    return {message_id for message_id, _ in outcomes}


def test_a_redriven_scheduled_request_finishes_its_run_without_a_second_report(
    estate, emulator, handler_module, context_factory, make_scheduled_event, verify_trail
):
    estate.bucket("payments-ledger", encrypted=False)
    # EventBridge's daily rule puts the scheduled event on the queue, in the one message group.
    estate.sqs.send_message(
        QueueUrl=estate.request_queue_url(),
        MessageBody=json.dumps(make_scheduled_event()),
        MessageGroupId=MESSAGE_GROUP,
    )
    fail_alerts(emulator)
    original_ids = dead_lettered(estate, handler_module, context_factory)
    emulator.clear_faults()

    redrive(estate)
    ((message_id, outcome),) = estate.deliver_requests(handler_module, context_factory)

    assert message_id not in original_ids  # SQS gives a redriven message a new id
    assert not isinstance(outcome, Exception), outcome
    (record,) = outcome["records"]
    assert record["outcome"] == "duplicate" and record["alert"] == "sent"
    assert len(verify_trail(estate)) == 1
    assert len(estate.alerts()) == 1


def test_a_redriven_on_demand_request_finishes_its_run_without_a_second_report(
    estate, emulator, handler_module, context_factory, verify_trail
):
    """The request carries the id make report-now chose for it (scripts/request_report.py), and the
    report is keyed by that id, which the redrive keeps. Before: it was keyed by its SQS message id
    and the redriven request stored a second report."""
    estate.bucket("payments-ledger", encrypted=False)  # a finding: the report alerts
    request_report(estate.sqs, estate.request_queue_url(), "evidence for ticket AUD-2031")
    fail_alerts(emulator)
    original_ids = dead_lettered(estate, handler_module, context_factory)
    emulator.clear_faults()

    redrive(estate)
    ((message_id, outcome),) = estate.deliver_requests(handler_module, context_factory)

    assert message_id not in original_ids
    assert not isinstance(outcome, Exception), outcome
    assert len(verify_trail(estate)) == 1, "the redriven request made a second report"
    (record,) = outcome["records"]
    assert record["outcome"] == "duplicate" and record["alert"] == "sent"
