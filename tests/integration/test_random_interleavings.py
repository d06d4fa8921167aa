"""GIVEN a seeded plan of steps — several generators at once, runs killed at a random AWS call, retries
of earlier triggers, the chain head deleted, corrupted or restored to an older version, time passing on
S3's clock — WHEN each step is played against the emulator THEN after every step the stored trail
verifies: sequences 0..n with no duplicate and no gap, each link the SHA-256 of the report before, and
no trigger answered by two reports.

The plan is fixed by ``SEED`` and bounded by ``STEPS``, so a failure replays; the threads of one step
interleave as the machine schedules them, which is the point. Runs have a short Lambda deadline so that
a run meeting a live claim gives up quickly (ChainBusy, as a real one would be retried later); a killed
run's claim stays live until a "time passes" step moves S3's clock past its lease.
"""

from __future__ import annotations

import random
from collections import Counter

from botocore.exceptions import ClientError
from compliance_report.errors import AlertPublishFailed, ChainBusy, OutOfTime, ReportWriteFailed

from lib.report_generator import local_harness as harness
from tests.integration import steps

SEED = 5
STEPS = 32
MOST_AT_ONCE = 3
# Each run's Lambda deadline and the time it keeps for storing: a run meeting a live claim gives up
# after ~1.6 s, and collection (a few resources, no latency) has ~1.2 s.
REMAINING_MS = 2_000
STORE_RESERVE_MS = "800"
KILL_RATE = 0.35
# Kills count the run's S3, SNS and SSM calls (the chain's; a kill among the Config reads only stops a
# run before it claims): a run makes ~12, so some kills land after its last one.
CHAIN_SERVICES = ("s3", "sns", "ssm")
LAST_CALL_TO_KILL = 14
# A killed run's lease is its remaining time plus the 60 s margin; "time passes" moves S3's clock by
# more than that.
TIME_PASSES_S = 120
# Outcomes a run may end with here (a failed run is retried by the platform; nothing is corrupted).
# With two seconds to live, an alert or a write may not fit: the run fails cleanly, never forks.
EXPECTED_FAILURES = (steps.Killed, ChainBusy, OutOfTime, ReportWriteFailed, AlertPublishFailed)
HEAD = "chain/head.json"


class Plan:
    """The seeded choices: what each step does, which trigger each run answers, where it dies."""

    def __init__(self, seed: int, suffix: str) -> None:
        self.rng = random.Random(seed)  # noqa: S311 (a test plan, not a secret)
        self.suffix = suffix
        self.events: list[dict] = []

    def step(self) -> str:
        return self.rng.choices(
            ["runs", "delete head", "restore head", "corrupt head", "time passes"],
            weights=[12, 2, 2, 1, 3],
        )[0]

    def runs(self) -> list[tuple[dict, int | None]]:
        chosen = []
        for _ in range(self.rng.randint(1, MOST_AT_ONCE)):
            if self.events and self.rng.random() < 0.3:
                event = self.rng.choice(self.events)  # a retry, or the same trigger twice at once
            else:
                number = len(self.events)
                event = harness.scheduled_event(
                    f"2026-11-{1 + number % 28:02d}T06:00:00Z",
                    f"5eed0000-0000-4000-8000-{number:012d}",
                    suffix=self.suffix,
                )
                self.events.append(event)
            kill = self.rng.randint(1, LAST_CALL_TO_KILL) if self.rng.random() < KILL_RATE else None
            chosen.append((event, kill))
        return chosen


def _play_runs(plan: Plan, log: list[str]) -> None:
    started = []
    for event, kill in plan.runs():
        step = steps.Step(kill_at=kill, counted=CHAIN_SERVICES) if kill else None
        trigger = steps.trigger_of(event)
        started.append(
            (
                event["id"][-4:],
                kill,
                steps.Background(
                    lambda t=trigger, s=step: steps.run(t, s, remaining_ms=REMAINING_MS)
                ),
            )
        )
    for name, kill, run in started:
        outcome = run.outcome()
        if isinstance(outcome, BaseException):
            assert isinstance(outcome, EXPECTED_FAILURES), (
                f"{log}: run {name} ended with {outcome!r}"
            )
            log.append(f"{name}{'@' + str(kill) if kill else ''}:{type(outcome).__name__}")
        else:
            log.append(f"{name}:{outcome.outcome}#{outcome.sequence}")


def _restore_an_older_head(estate, plan: Plan) -> str:
    answer = estate.s3.list_object_versions(Bucket=estate.BUCKET, Prefix=HEAD)
    versions = [v for v in answer.get("Versions", []) if not v["IsLatest"]]
    if not versions:
        return "restore head: no older version"
    version = plan.rng.choice(sorted(versions, key=lambda v: v["VersionId"]))
    estate.s3.copy_object(
        Bucket=estate.BUCKET,
        Key=HEAD,
        CopySource={"Bucket": estate.BUCKET, "Key": HEAD, "VersionId": version["VersionId"]},
    )
    return "restore head"


def _one_report_per_trigger(reports) -> None:
    per_trigger = Counter(r["trigger"]["id"] for r in reports)
    twice = {trigger: n for trigger, n in per_trigger.items() if n > 1}
    assert not twice, f"triggers answered by more than one report: {twice}"


def test_random_interleavings_never_fork_the_trail(estate, emulator, verify_trail, monkeypatch):
    monkeypatch.setenv("STORE_RESERVE_MS", STORE_RESERVE_MS)
    plan = Plan(SEED, estate.deployment.suffix)
    log: list[str] = []
    ahead = 0
    for number in range(STEPS):
        action = plan.step()
        if action == "runs":
            _play_runs(plan, log)
        elif action == "delete head":
            estate.s3.delete_object(Bucket=estate.BUCKET, Key=HEAD)
            log.append(action)
        elif action == "restore head":
            log.append(_restore_an_older_head(estate, plan))
        elif action == "corrupt head":
            estate.s3.put_object(Bucket=estate.BUCKET, Key=HEAD, Body=b"{damaged\n")
            log.append(action)
        else:
            ahead += TIME_PASSES_S
            emulator.set_s3_clock(ahead)
            log.append(action)

        # After every step: the trail verifies, and no trigger has two reports.
        try:
            reports = verify_trail(estate)
        except AssertionError as e:
            raise AssertionError(f"after step {number} ({log}): {e}") from e
        _one_report_per_trigger(reports)

    # The chain is never wedged: once S3's clock has passed every lease, a run stores the next report.
    emulator.set_s3_clock(ahead + TIME_PASSES_S)
    before = len(verify_trail(estate))
    event = harness.scheduled_event(suffix=estate.deployment.suffix)
    try:
        monkeypatch.delenv("STORE_RESERVE_MS")
        final = steps.run(steps.trigger_of(event), remaining_ms=30_000)
    except ClientError as e:  # pragma: no cover (reported with the plan)
        raise AssertionError(f"{log}: the final run failed: {e}") from e
    reports = verify_trail(estate)
    assert final.outcome == "stored" and final.sequence == before == len(reports) - 1, log
    _one_report_per_trigger(reports)
    stored = sum(1 for entry in log if ":stored#" in entry)
    assert stored >= 5, f"the plan stored only {stored} reports: it exercised little ({log})"
    killed = sum(1 for entry in log if "@" in entry)
    assert killed >= 5, f"the plan killed only {killed} runs ({log})"
