"""GIVEN an S3 that answers slowly and a function near its deadline WHEN the run has collected and must
store THEN every call after collection is bounded by the time Lambda has left: the run fails cleanly
before Lambda would stop it (claim released, one line, the error metric) and the retry stores once."""

import pytest
from compliance_report.errors import OutOfTime
from compliance_report.metrics import REPORT_GENERATION_ERRORS, REPORTS_STORED

from tests.integration.runs import metric, run_output


def test_a_slow_s3_near_the_deadline_fails_the_run_cleanly_before_lambda_stops_it(
    estate,
    emulator,
    handler_module,
    context_factory,
    make_scheduled_event,
    verify_trail,
    capsys,
):
    estate.bucket("ledger-unencrypted", encrypted=False)
    # 1.5 s per call and 7.5 s to live: collection (parallel) ends at ~1.5 s and the claim at ~3 s; the
    # report, its trigger record and the head swap need ~4.5 s more, of which the run's calls have
    # ~4 s (2 s are kept back for storing and 0.5 s of them for cleaning up). Unbounded, the run took
    # ~8 s: Lambda would have stopped it after the report, before the head.
    emulator.set_faults([], latency_ms=1_500)
    context = context_factory(remaining_ms=7_500)
    event = make_scheduled_event()

    with pytest.raises(OutOfTime, match="claim released, nothing written"):
        handler_module.handler(event, context)

    assert context.get_remaining_time_in_millis() > 0, "the run outlived its Lambda deadline"
    logs, emf = run_output(capsys)
    (line,) = logs
    assert line["level"] == "ERROR" and line["outcome"] == "failed"
    assert line["errorType"] == "OutOfTime"
    assert metric(emf, REPORT_GENERATION_ERRORS) == [1]
    assert metric(emf, REPORTS_STORED) == [0]
    emulator.clear_faults()
    assert estate.report_keys() == []
    assert estate.claim(0)["released"] is True, "the claim was not released"
    retry = handler_module.handler(event, context_factory())
    (report,) = verify_trail(estate)
    assert retry["outcome"] == "stored" and report["chain"]["sequence"] == 0
