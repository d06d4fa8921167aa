"""GIVEN a trail in the emulated bucket WHEN its bookkeeping is deleted, restored, corrupted, its newest
reports deleted, one trigger arrives twice at once, or a host's clock runs ahead THEN the next report is
the correct next link, or the writer refuses with the ChainCorrupted alarm; never a duplicate or a
restarted sequence, never two reports of one trigger, never a live claim taken over.

Each test here failed on the writer before the trail became the source of the sequence (the failure it
showed is in its docstring). The admin key stands for an operator or attacker who can write the bucket;
the runs sign as the function's role."""

import hashlib
import json
import threading
from datetime import timedelta

import pytest
from compliance_report.errors import ChainBusy, ChainCorrupted
from compliance_report.metrics import CHAIN_CORRUPTED, REPORTS_STORED

from lib.report_generator import local_harness as harness
from tests.integration import steps
from tests.integration.runs import metric, run_output

HEAD = "chain/head.json"


def _reports(handler_module, context_factory, make_scheduled_event, count):
    return [handler_module.handler(make_scheduled_event(), context_factory()) for _ in range(count)]


def _head_version_naming(estate, sequence):
    """The version id of the head's version whose ``last`` is report ``sequence``."""
    answer = estate.s3.list_object_versions(Bucket=estate.BUCKET, Prefix=HEAD)
    for version in answer.get("Versions", []):
        raw = estate.s3.get_object(Bucket=estate.BUCKET, Key=HEAD, VersionId=version["VersionId"])
        if json.loads(raw["Body"].read())["last"]["sequence"] == sequence:
            return version["VersionId"]
    raise AssertionError(f"no version of the head names report {sequence}")


# -- the head is a cache the trail overrules ---------------------------------------------------------
def test_a_deleted_head_does_not_restart_the_sequence(
    estate, handler_module, context_factory, make_scheduled_event, verify_trail
):
    """Before: the run found no head and wrote sequence 0 again (sequences [0, 0, 1])."""
    first, second = _reports(handler_module, context_factory, make_scheduled_event, 2)
    estate.s3.delete_object(Bucket=estate.BUCKET, Key=HEAD)

    third = handler_module.handler(make_scheduled_event(), context_factory())

    reports = verify_trail(estate)
    assert [r["chain"]["sequence"] for r in reports] == [0, 1, 2]
    assert reports[2]["chain"]["previousKey"] == second["reportKey"]
    assert third["sequence"] == 2 and estate.head()["last"]["key"] == third["reportKey"]


def test_an_older_head_restored_from_its_versions_does_not_reuse_a_sequence(
    estate, handler_module, context_factory, make_scheduled_event, verify_trail
):
    """Before: the head restored to name report 0 made the run write sequence 1 a second time."""
    _reports(handler_module, context_factory, make_scheduled_event, 3)
    oldest = _head_version_naming(estate, 0)  # written when report 0 was stored
    estate.s3.copy_object(
        Bucket=estate.BUCKET,
        Key=HEAD,
        CopySource={"Bucket": estate.BUCKET, "Key": HEAD, "VersionId": oldest},
    )
    assert estate.head()["last"]["sequence"] == 0

    result = handler_module.handler(make_scheduled_event(), context_factory())

    reports = verify_trail(estate)
    assert [r["chain"]["sequence"] for r in reports] == [0, 1, 2, 3]
    assert result["sequence"] == 3 and estate.head()["last"]["sequence"] == 3


DAMAGED_HEADS = {
    "not JSON": b"{not json\n",
    "not UTF-8": b'{"format": "\xff"}\n',
    "another format": b'{"format": "compliance-trigger/1", "last": null, "pending": null}\n',
    "last missing": b'{"format": "compliance-chain-head/1", "pending": null}\n',
    "sequence as text": (
        b'{"format": "compliance-chain-head/1", "pending": null, "last": '
        b'{"sequence": "7", "key": "reports/2026/11/25/00000007-x.json", "sha256": "'
        + b"ab" * 32
        + b'"}}\n'
    ),
}


@pytest.mark.parametrize("damage", sorted(DAMAGED_HEADS))
def test_a_corrupted_head_is_replaced_and_the_next_report_is_correct(
    estate, handler_module, context_factory, make_scheduled_event, verify_trail, capsys, damage
):
    """Before: every run failed with ChainCorrupted until someone restored the head by hand."""
    (first,) = _reports(handler_module, context_factory, make_scheduled_event, 1)
    estate.s3.put_object(Bucket=estate.BUCKET, Key=HEAD, Body=DAMAGED_HEADS[damage])
    capsys.readouterr()

    result = handler_module.handler(make_scheduled_event(), context_factory())

    reports = verify_trail(estate)
    assert [r["chain"]["sequence"] for r in reports] == [0, 1]
    assert reports[1]["chain"]["previousKey"] == first["reportKey"]
    assert estate.head()["last"]["key"] == result["reportKey"]
    (line,) = run_output(capsys)[0]
    assert "chain head unreadable: the trail alone decides the sequence" in line["notes"]


def test_deleting_the_head_while_a_run_holds_its_claim_does_not_fork(
    estate, handler_module, context_factory, make_scheduled_event, verify_trail
):
    """Before: the head held the claim, so a second run found no head and wrote sequence 0 beside
    the first run's sequence 1."""
    _reports(handler_module, context_factory, make_scheduled_event, 1)
    holder = steps.Step(matches=steps.report_put)
    first = steps.Background(lambda: steps.run(steps.trigger_of(make_scheduled_event()), holder))
    assert holder.reached.wait(60), "the first run never got to its report"
    estate.s3.delete_object(Bucket=estate.BUCKET, Key=HEAD)

    with pytest.raises(ChainBusy, match="sequence 1 is claimed"):
        steps.run(steps.trigger_of(make_scheduled_event()), remaining_ms=4_000)
    holder.go.set()

    assert first.outcome().sequence == 1
    second = handler_module.handler(make_scheduled_event(), context_factory())
    assert second["sequence"] == 2
    assert [r["chain"]["sequence"] for r in verify_trail(estate)] == [0, 1, 2]


# -- deleted reports are never written over ------------------------------------------------------
@pytest.mark.denials_expected
def test_a_deleted_newest_report_stops_the_writer_until_it_is_restored(
    estate, emulator, handler_module, context_factory, make_scheduled_event, verify_trail, capsys
):
    """Before: the run linked report 2 to the deleted report 1 (and, with the head deleted too,
    wrote sequence 0 again)."""
    _, newest = _reports(handler_module, context_factory, make_scheduled_event, 2)
    marker = estate.s3.delete_object(Bucket=estate.BUCKET, Key=newest["reportKey"])["VersionId"]
    capsys.readouterr()

    with pytest.raises(
        ChainCorrupted, match=r"newest report of the trail, sequence 1 .* was deleted"
    ):
        handler_module.handler(make_scheduled_event(), context_factory())
    estate.s3.delete_object(Bucket=estate.BUCKET, Key=HEAD)
    with pytest.raises(ChainCorrupted, match="was deleted"):
        handler_module.handler(make_scheduled_event(), context_factory())

    logs, emf = run_output(capsys)
    assert [line["outcome"] for line in logs] == ["chain-corrupted", "chain-corrupted"]
    assert metric(emf, CHAIN_CORRUPTED) == [1, 1] and metric(emf, REPORTS_STORED) == [0, 0]
    versions, markers = estate.report_versions()
    assert len(versions) == 2 and len(markers) == 1  # nothing new was written
    # The runbook's remedy: delete the delete marker, which restores the report.
    estate.s3.delete_object(Bucket=estate.BUCKET, Key=newest["reportKey"], VersionId=marker)
    result = handler_module.handler(make_scheduled_event(), context_factory())
    assert [r["chain"]["sequence"] for r in verify_trail(estate)] == [0, 1, 2]
    assert result["sequence"] == 2


def _erase(estate, key):
    """Every version and delete marker of ``key``: what only a principal allowed
    s3:DeleteObjectVersion can do, and what leaves nothing in the bucket to see."""
    answer = estate.s3.list_object_versions(Bucket=estate.BUCKET, Prefix=key)
    for item in answer.get("Versions", []) + answer.get("DeleteMarkers", []):
        estate.s3.delete_object(Bucket=estate.BUCKET, Key=item["Key"], VersionId=item["VersionId"])


def test_newest_reports_erased_with_all_their_bookkeeping_are_caught_by_the_witness(
    estate, handler_module, context_factory, make_scheduled_event, capsys
):
    """Before: with the reports, the head and the trigger records erased, the run wrote sequence 1
    again. The witness parameter, outside the bucket, still names sequence 2."""
    results = _reports(handler_module, context_factory, make_scheduled_event, 3)
    for gone in results[1:]:
        _erase(estate, gone["reportKey"])
        _erase(estate, f"chain/triggers/{gone['reportId']}.json")
        _erase(estate, f"chain/claims/{gone['sequence']:08d}.json")
    _erase(estate, HEAD)
    capsys.readouterr()

    with pytest.raises(ChainCorrupted) as refused:
        handler_module.handler(make_scheduled_event(), context_factory())

    message = str(refused.value)
    assert "the witness parameter compliance-chain-head-test names sequence 2" in message
    assert "report(s) 1-2 were deleted" in message
    assert estate.report_keys() == [results[0]["reportKey"]]
    assert metric(run_output(capsys)[1], CHAIN_CORRUPTED) == [1]


# -- one trigger, one report -----------------------------------------------------------------------
@pytest.mark.parametrize("second_path", ["queue", "queue-again"])
def test_one_trigger_arriving_twice_at_once_makes_one_report_and_one_alert(
    estate,
    emulator,
    handler_module,
    context_factory,
    make_scheduled_event,
    verify_trail,
    second_path,
):
    """A direct invocation and the queue's delivery of the same scheduled event, or one queue
    message delivered twice (its visibility timeout ended while the first delivery still ran).
    Before: both runs found no trigger record, the second claimed the next sequence after the first
    committed, and the trigger had two reports."""
    estate.bucket("payments-ledger", encrypted=False)  # a finding: the report alerts
    _reports(handler_module, context_factory, make_scheduled_event, 1)
    estate.alerts()
    event = make_scheduled_event("3f2a7c1e-0000-4000-8000-00000000d0b1")
    record = harness.sqs_record(event, message_id="m-twice", suffix="test")
    first_event = harness.sqs_event(record) if second_path == "queue-again" else event
    emulator.set_faults([], latency_ms=15)  # widens every window between reading and writing
    start = threading.Barrier(2)
    outcomes = []

    def deliver(payload):
        start.wait()
        try:
            outcomes.append(handler_module.handler(payload, context_factory()))
        except Exception as e:  # noqa: BLE001 (reported below)
            outcomes.append(e)

    threads = [
        threading.Thread(target=deliver, args=(payload,))
        for payload in (first_event, harness.sqs_event(record))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    emulator.clear_faults()

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    reports = verify_trail(estate)
    assert [r["chain"]["sequence"] for r in reports] == [0, 1]
    assert reports[1]["trigger"]["id"] == event["id"]
    runs = [o["records"][0] if "records" in o else o for o in outcomes]
    assert sorted(r["outcome"] for r in runs) == ["duplicate", "stored"]
    assert len(estate.alerts()) == 1, "the duplicate sent the alert a second time"


def test_a_run_that_finds_its_trigger_already_answered_in_the_trail_writes_nothing(
    estate, handler_module, context_factory, make_scheduled_event, verify_trail
):
    """The trigger record is a cache: without it, the trail (the report id in every key) still
    says the trigger is answered. Before: the retry found no record and wrote a second report."""
    event = make_scheduled_event("3f2a7c1e-0000-4000-8000-00000000d0b2")
    first = handler_module.handler(event, context_factory())
    handler_module.handler(make_scheduled_event(), context_factory())
    _erase(estate, f"chain/triggers/{first['reportId']}.json")

    again = handler_module.handler(event, context_factory())

    assert again["outcome"] == "duplicate" and again["reportKey"] == first["reportKey"]
    assert [r["chain"]["sequence"] for r in verify_trail(estate)] == [0, 1]


def test_an_on_demand_message_without_an_id_is_refused_with_one_line(
    estate, handler_module, context_factory, capsys
):
    """Before: it was keyed by its SQS message id, which a dead-letter redrive replaces."""
    record = harness.sqs_record({"action": "generate-report", "note": "no id"}, suffix="test")

    answer = handler_module.handler(harness.sqs_event(record), context_factory())

    (result,) = answer["records"]
    assert result["outcome"] == "ignored"
    assert result["reason"].startswith("on-demand request from the queue has no 'id'")
    (line,) = run_output(capsys)[0]
    assert line["level"] == "WARNING" and line["outcome"] == "ignored"
    assert estate.report_keys() == []


# -- leases rest on S3's clock -------------------------------------------------------------------
def test_a_host_whose_clock_runs_ahead_cannot_take_over_a_live_claim(
    estate, handler_module, context_factory, make_scheduled_event, verify_trail
):
    """Before: the second host's clock, ten minutes ahead, said the first run's lease was over; it
    rolled the claim back and wrote sequence 1, and so did the first run: two reports of sequence 1."""
    _reports(handler_module, context_factory, make_scheduled_event, 1)
    holder = steps.Step(matches=steps.report_put)
    first = steps.Background(
        lambda: steps.run(steps.trigger_of(make_scheduled_event()), holder, remaining_ms=30_000)
    )
    assert holder.reached.wait(60), "the first run never got to its report"

    with pytest.raises(ChainBusy, match="still within its lease"):
        steps.run(
            steps.trigger_of(make_scheduled_event()),
            remaining_ms=4_000,
            skew=timedelta(minutes=10),
        )
    holder.go.set()

    assert first.outcome().sequence == 1
    assert [r["chain"]["sequence"] for r in verify_trail(estate)] == [0, 1]


def test_a_killed_run_s_claim_is_taken_over_once_s3s_clock_shows_its_lease_over(
    estate, emulator, handler_module, context_factory, make_scheduled_event, verify_trail, capsys
):
    """A run killed before its report (Lambda stopped it) leaves its claim live for its lease, by
    S3's clock, and no longer. Before: the lease was the claimant's host time, so moving S3's clock
    changed nothing and the chain waited for the host clocks."""
    _reports(handler_module, context_factory, make_scheduled_event, 1)

    def die_at_report(call):
        if steps.report_put(call):
            raise steps.Killed("Lambda stopped the run before its report")
        return False

    killer = steps.Step(matches=die_at_report)
    killed = steps.trigger_of(make_scheduled_event())
    with pytest.raises(steps.Killed):
        steps.run(killed, killer, remaining_ms=20_000)
    with pytest.raises(ChainBusy, match="claimed"):
        steps.run(steps.trigger_of(make_scheduled_event()), remaining_ms=4_000)

    emulator.set_s3_clock(20 + 60 + 5)  # the lease: its remaining time plus the margin, and more
    capsys.readouterr()
    # Ten seconds are plenty once S3's clock says the lease is over; no host clock is waited for.
    result = handler_module.handler(make_scheduled_event(), context_factory(remaining_ms=10_000))

    assert result["sequence"] == 1
    assert "took over the abandoned claim on sequence 1" in run_output(capsys)[0][0]["notes"]
    assert [r["chain"]["sequence"] for r in verify_trail(estate)] == [0, 1]
    versions = estate.s3.list_object_versions(
        Bucket=estate.BUCKET, Prefix="chain/claims/00000001.json"
    )["Versions"]
    claims = [
        json.loads(
            estate.s3.get_object(Bucket=estate.BUCKET, Key=v["Key"], VersionId=v["VersionId"])[
                "Body"
            ].read()
        )
        for v in versions
    ]
    # The killed run's claim (never released: nothing of a killed run reaches S3), then the
    # taker's, released once its alert question was settled.
    assert sorted((c["reportId"], c["released"]) for c in claims) == sorted(
        [(killed.report_id, False), (result["reportId"], False), (result["reportId"], True)]
    )


# -- the witness outside the bucket --------------------------------------------------------------
def test_every_report_publishes_its_head_in_the_alert_and_as_a_new_witness_version(
    estate, handler_module, context_factory, make_scheduled_event, verify_trail
):
    estate.bucket("payments-ledger", encrypted=False)
    results = _reports(handler_module, context_factory, make_scheduled_event, 2)

    reports = verify_trail(estate)
    links = []
    for result in results:
        sha = hashlib.sha256(estate.read(result["reportKey"])).hexdigest()
        assert result["sha256"] == sha
        links.append(f"witness: {result['sequence']} {result['reportKey']} {sha}")
    name = estate.deployment.witness_parameter["name"]
    history = estate.clients.ssm.get_parameter_history(Name=name)["Parameters"]
    assert [p["Value"] for p in history] == ["# no report yet", *links]
    alerts = estate.alerts()
    assert [a["Message"].splitlines()[3] for a in alerts] == links
    attributes = alerts[-1]["MessageAttributes"]
    assert attributes["headSequence"] == {"Type": "Number", "Value": "1"}
    assert attributes["headKey"]["Value"] == results[1]["reportKey"]
    assert attributes["headSha256"]["Value"] == links[1].rsplit(" ", 1)[1]
    assert len(reports) == 2 and json.loads(estate.read(HEAD))["last"]["sequence"] == 1
