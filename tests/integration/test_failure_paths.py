"""GIVEN an emulated account WHEN a run fails in a way the other tests do not reach (an alert failure on
the queue path, a claim that cannot be read) THEN the invocation fails with the generator's typed error,
after the handler's one structured line and its error metrics, and nothing is written.

A damaged chain head is no failure any more: the trail decides the sequence and the head is replaced
(tests/integration/test_writer_never_forks.py)."""

import re

import pytest
from compliance_report.errors import AlertPublishFailed, ChainCorrupted
from compliance_report.metrics import CHAIN_CORRUPTED, REPORT_GENERATION_ERRORS

from lib.report_generator import local_harness as harness
from tests.integration.runs import metric, run_output


def test_an_alert_failure_on_the_queue_path_fails_with_the_alert_error(
    estate, emulator, handler_module, context_factory, verify_trail, capsys, monkeypatch
):
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    estate.bucket("ledger-unencrypted", encrypted=False)
    emulator.set_faults(
        [{"service": "sns", "operation": "Publish", "error": "InternalError", "status": 500}]
    )
    record = harness.sqs_record(
        {"action": "generate-report", "note": "queued", "id": "ops-alert-1"},
        suffix="test",
        message_id="m-alert-1",
    )

    with pytest.raises(AlertPublishFailed, match="is stored but publishing its alert"):
        handler_module.handler(harness.sqs_event(record), context_factory())

    (report,) = verify_trail(estate)
    logs, emf = run_output(capsys)
    (line,) = logs
    assert line["outcome"] == "alert-failed" and line["messageId"] == "m-alert-1"
    assert metric(emf, REPORT_GENERATION_ERRORS) == [1]
    assert report["trigger"]["type"] == "queue"


CORRUPTED_CLAIMS = {
    "not JSON": b"{not json\n",
    "another format": b'{"format": "compliance-chain-head/1", "last": null, "pending": null}\n',
    "lease as text": (
        b'{"format": "compliance-claim/1", "sequence": 1, "key": "k", "reportId": "r", '
        b'"generatedAt": "2026-11-26T06:00:00Z", "previous": null, "leaseSeconds": "60", '
        b'"released": false}\n'
    ),
    "not UTF-8": b'{"format": "\xff"}\n',
    "another sequence": (
        b'{"format": "compliance-claim/1", "sequence": 7, "key": "reports/2026/11/26/00000007-x.json", '
        b'"reportId": "r", "generatedAt": "2026-11-26T06:00:00Z", "previous": null, '
        b'"leaseSeconds": 60, "released": true}\n'
    ),
    "a key outside the trail": (
        b'{"format": "compliance-claim/1", "sequence": 1, "key": "elsewhere/x.json", '
        b'"reportId": "r", "generatedAt": "2026-11-26T06:00:00Z", "previous": null, '
        b'"leaseSeconds": 60, "released": true}\n'
    ),
}


@pytest.mark.parametrize("damage", sorted(CORRUPTED_CLAIMS))
def test_a_claim_that_cannot_be_read_stops_the_run_with_one_line_and_the_chain_metric(
    estate, handler_module, context_factory, make_scheduled_event, verify_trail, capsys, damage
):
    """Sequence 1's claim decides who writes report 1; a damaged one is never guessed at or taken
    over, since its run may be writing that report now."""
    handler_module.handler(make_scheduled_event(), context_factory())
    capsys.readouterr()
    key = "chain/claims/00000001.json"
    estate.s3.put_object(Bucket=estate.BUCKET, Key=key, Body=CORRUPTED_CLAIMS[damage])

    where = re.escape(f"claim s3://{estate.BUCKET}/{key} is unreadable")
    with pytest.raises(ChainCorrupted, match=where):
        handler_module.handler(make_scheduled_event(), context_factory())

    logs, emf = run_output(capsys)
    (line,) = logs
    assert line["level"] == "ERROR" and line["outcome"] == "chain-corrupted"
    assert line["errorType"] == "ChainCorrupted" and "\n" not in line["error"]
    assert metric(emf, REPORT_GENERATION_ERRORS) == [1]
    assert metric(emf, CHAIN_CORRUPTED) == [1]
    assert len(verify_trail(estate)) == 1
    assert estate.read(key) == CORRUPTED_CLAIMS[damage], "the run changed the damaged claim"
