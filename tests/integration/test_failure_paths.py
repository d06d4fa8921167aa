"""GIVEN an emulated account WHEN a run fails in a way the other tests do not reach (an alert failure on
the queue path, a corrupted chain head) THEN the invocation fails with the generator's typed error, after
the handler's one structured line and its error metric, and nothing is written."""

import re

import pytest
from compliance_report.errors import AlertPublishFailed, ChainCorrupted
from compliance_report.metrics import REPORT_GENERATION_ERRORS

from lib.report_generator import local_harness as harness
from tests.integration.runs import metric, run_output

HEAD_KEY = "chain/head.json"


def test_an_alert_failure_on_the_queue_path_fails_with_the_alert_error(
    estate, emulator, handler_module, context_factory, verify_trail, capsys, monkeypatch
):
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    estate.bucket("ledger-unencrypted", encrypted=False)
    emulator.set_faults(
        [{"service": "sns", "operation": "Publish", "error": "InternalError", "status": 500}]
    )
    record = harness.sqs_record(
        {"action": "generate-report", "note": "queued"}, suffix="test", message_id="m-alert-1"
    )

    with pytest.raises(AlertPublishFailed, match="is stored but publishing its alert"):
        handler_module.handler(harness.sqs_event(record), context_factory())

    (report,) = verify_trail(estate)
    logs, emf = run_output(capsys)
    (line,) = logs
    assert line["outcome"] == "alert-failed" and line["messageId"] == "m-alert-1"
    assert metric(emf, REPORT_GENERATION_ERRORS) == [1]
    assert report["trigger"]["type"] == "queue"


CORRUPTED_HEADS = {
    "not JSON": b"{not json\n",
    "not an object": b"[1, 2]\n",
    "another format": b'{"format": "compliance-trigger/1", "last": null, "pending": null}\n',
    "last missing": b'{"format": "compliance-chain-head/1", "pending": null}\n',
    "sequence as text": (
        b'{"format": "compliance-chain-head/1", "pending": null, "last": '
        b'{"sequence": "7", "key": "reports/2026/11/25/00000007-x.json", "sha256": "'
        + b"ab" * 32
        + b'"}}\n'
    ),
    "pending with a bad time": (
        b'{"format": "compliance-chain-head/1", "last": null, "pending": {"sequence": 0, '
        b'"key": "reports/2026/11/26/00000000-x.json", "reportId": "x", "generatedAt": "yesterday", '
        b'"leaseExpiresAt": "2026-11-26T06:10:00Z", "previous": null}}\n'
    ),
    "not UTF-8": b'{"format": "\xff"}\n',
}


@pytest.mark.parametrize("damage", sorted(CORRUPTED_HEADS))
def test_a_corrupted_chain_head_fails_the_run_with_one_line_and_the_error_metric(
    estate, handler_module, context_factory, make_scheduled_event, capsys, damage
):
    estate.s3.put_object(Bucket=estate.BUCKET, Key=HEAD_KEY, Body=CORRUPTED_HEADS[damage])

    where = re.escape(f"chain head s3://{estate.BUCKET}/{HEAD_KEY}")
    with pytest.raises(ChainCorrupted, match=where):
        handler_module.handler(make_scheduled_event(), context_factory())

    logs, emf = run_output(capsys)
    (line,) = logs
    assert line["level"] == "ERROR" and line["outcome"] == "failed"
    assert line["errorType"] == "ChainCorrupted" and "\n" not in line["error"]
    assert metric(emf, REPORT_GENERATION_ERRORS) == [1]
    assert estate.report_keys() == []
    assert estate.read(HEAD_KEY) == CORRUPTED_HEADS[damage], "the run changed the damaged head"
