"""GIVEN the organization demo has run 8 days (4 member accounts x 2 regions, one account's recorders
off for a stretch, one account of the organization without the member part) against an emulator the
test owns WHEN the central bucket, the emulator's IAM record, the witnesses and the auditor's outputs
are examined independently of the demo's own comparison THEN each member wrote exactly its own
hash-chained trail as its own role, nothing legitimate was denied and both trespass attempts were,
the recorder's days off are in the reports and the timeline, and the account without a trail is the
organization's one finding."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from demo.organization import (
    CONTEXT,
    MEMBERS,
    RECORDER_OFF,
    WITHOUT_TRAIL,
    last_complete_month,
    month_bounds,
)
from tests.e2e.conftest import REPO, demo_env
from tools.local_aws import estate
from tools.local_aws.client import spawn
from tools.local_aws.organization import describe_organization, synthesize_organization

DAYS = 8
SUFFIX = "e2eorg"


def _s3(endpoint_url):
    return estate.clients(endpoint_url).s3  # the emulator's administrator


@pytest.fixture(scope="module")
def org_demo(tmp_path_factory, auditor_binary):
    assembly = synthesize_organization(SUFFIX, CONTEXT)
    org = describe_organization(assembly, SUFFIX)
    month = last_complete_month(datetime.now(timezone.utc).date())
    state = tmp_path_factory.mktemp("org-emulator")
    emulator = spawn(log_path=state / "emulator.log")
    try:
        out = tmp_path_factory.mktemp("org-demo") / "org"
        proc = subprocess.run(
            [
                *(sys.executable, "-m", "demo.organization", "--days", str(DAYS), "--month", month),
                *("--suffix", SUFFIX, "--assembly", str(assembly), "--out", str(out)),
                *("--endpoint-url", emulator.endpoint_url, "--auditor", str(auditor_binary)),
            ],
            cwd=str(REPO),
            env=demo_env(),
            capture_output=True,
            text=True,
            timeout=900,
        )
        yield {
            "proc": proc,
            "out": out,
            "org": org,
            "emulator": emulator,
            "start": month_bounds(month)[0],
            "summary": json.loads((out / "summary.json").read_text())
            if (out / "summary.json").exists()
            else {},
        }
    finally:
        emulator.stop()


def test_the_organization_demo_agrees_with_its_simulation(org_demo):
    proc, summary = org_demo["proc"], org_demo["summary"]
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr
    assert summary["mismatches"] == [] and summary["timelineMatchesScenario"] is True
    day_lines = [
        line for line in proc.stdout.splitlines() if re.match(r"^ *\d+  \d{4}-\d\d-\d\d  ", line)
    ]
    assert [int(line[:3]) for line in day_lines] == list(range(1, DAYS + 1))
    trails = len(MEMBERS) * len(org_demo["org"].regions)
    assert all(f"  {trails}/{trails}  " in line for line in day_lines)  # every trail, every day
    for heading in ("auditor verify s3://", "auditor timeline s3://", "summary"):
        assert f"== {heading}" in proc.stdout


def test_each_member_wrote_exactly_its_own_chained_trail(org_demo):
    org, start = org_demo["org"], org_demo["start"]
    s3 = _s3(org_demo["emulator"].endpoint_url)
    versions = s3.list_object_versions(Bucket=org.central_bucket, Prefix="reports/")
    assert not versions.get("DeleteMarkers")
    keys = sorted(v["Key"] for v in versions["Versions"])
    assert len(keys) == len(set(keys))  # written once: no key has two versions
    trails = sorted({tuple(k.split("/")[1:3]) for k in keys})
    assert trails == sorted((m.account, r) for m in MEMBERS for r in org.regions)
    assert not any(k.startswith(f"reports/{WITHOUT_TRAIL.account}/") for k in keys)
    for account, region in trails:
        mine = [k for k in keys if k.startswith(f"reports/{account}/{region}/")]
        assert len(mine) == DAYS
        previous = None
        for sequence, key in enumerate(mine):
            raw = s3.get_object(Bucket=org.central_bucket, Key=key)["Body"].read()
            report = json.loads(raw)
            assert (report["account"], report["region"]) == (account, region)
            assert (
                report["generatedAt"][:10]
                == date.fromordinal(start.toordinal() + sequence).isoformat()
            )
            chain = report["chain"]
            assert chain["sequence"] == sequence
            if previous is None:
                assert chain["previousKey"] is None
            else:
                assert chain["previousKey"] == previous[0]
                assert chain["previousSha256"] == hashlib.sha256(previous[1]).hexdigest()
            healthy = report["monitoring"]["healthy"]
            off = report["generatedAt"][:10] in org_demo["summary"]["recorderOff"]["days"]
            assert healthy is not (off and account == RECORDER_OFF), key
            previous = (key, raw)


def test_nothing_legitimate_was_denied_and_both_trespasses_were(org_demo):
    org = org_demo["org"]
    iam = org_demo["emulator"].iam()
    trespass = org_demo["summary"]["iam"]["trespass"]
    assert iam["denied"] == 2  # the two attempts, nothing of the simulation
    assert [d["call"] for d in iam["recentDenials"]] == ["s3.PutObject", "s3.DeleteObject"]
    assert all(
        f"sts::{MEMBERS[0].account}:assumed-role/" in d["principal"] for d in iam["recentDenials"]
    )
    s3 = _s3(org_demo["emulator"].endpoint_url)
    forged, own = trespass[0]["key"], trespass[1]["key"]
    assert not forged.startswith(f"reports/{MEMBERS[0].account}/")
    assert "Contents" not in s3.list_objects_v2(Bucket=org.central_bucket, Prefix=forged)
    assert s3.head_object(Bucket=org.central_bucket, Key=own)["ContentLength"] > 0


def test_the_witnesses_name_each_trails_reports_by_their_hashes(org_demo):
    org = org_demo["org"]
    s3 = _s3(org_demo["emulator"].endpoint_url)
    lines = (org_demo["out"] / "witnesses.txt").read_text().splitlines()
    assert len(lines) == DAYS * len(MEMBERS) * len(org.regions)
    for line in lines:
        _, sequence, key, sha256 = line.split()
        raw = s3.get_object(Bucket=org.central_bucket, Key=key)["Body"].read()
        assert hashlib.sha256(raw).hexdigest() == sha256
        assert json.loads(raw)["chain"]["sequence"] == int(sequence)


def test_the_auditor_names_the_missing_account_and_counts_the_recorders_days_off(org_demo):
    out, org = org_demo["out"], org_demo["org"]
    verify = json.loads((out / "verify.json").read_text())
    assert [(p["code"], p["key"]) for p in verify["problems"]] == [
        ("missing-account", f"reports/{WITHOUT_TRAIL.account}/")
    ]
    assert verify["summary"]["trails"] == len(MEMBERS) * len(org.regions)
    (timeline_path,) = out.glob("timeline-*.json")
    timeline = json.loads(timeline_path.read_text())
    off_days = len(org_demo["summary"]["recorderOff"]["days"])
    assert off_days >= 3
    for row in timeline["byTrail"]:
        expected = off_days if row["account"] == RECORDER_OFF else 0
        assert row["daysWithMonitoringIssues"] == expected, row
        assert row["chainIntact"] and row["daysWithoutReport"] == 0
    pages = sorted(p.name for p in (out / "timeline").glob("*.html"))
    assert pages == sorted(
        ["index.html", *(f"{m.account}-{r}.html" for m in MEMBERS for r in org.regions)]
    )
    assert WITHOUT_TRAIL.account in (out / "timeline" / "index.html").read_text()


def test_bad_arguments_are_one_line(tmp_path):
    for args, fragment in (
        (["--month", "2026-13"], "--month '2026-13': must look like 2026-11"),
        (["--days", "3"], "--days 3: must be from 8 to"),
        (["--suffix", "Bad_Suffix"], "--suffix 'Bad_Suffix'"),
        (["--month", "2099-01"], "must be in the past"),
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "demo.organization", "--out", str(tmp_path / "o"), *args],
            cwd=str(REPO),
            env=demo_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 2, proc.stderr
        assert fragment in proc.stderr
    assembly = Path(tmp_path / "nothing")
    assembly.mkdir()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "demo.organization",
            "--assembly",
            str(assembly),
            "--out",
            str(tmp_path / "o"),
        ]
        + ["--auditor", "/bin/true"],
        cwd=str(REPO),
        env=demo_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "not a cloud assembly" in proc.stderr


def test_the_organization_demos_folder_leaves_the_single_demo_its_own(tmp_path):
    """`make demo ORG=1` first creates demo-output/ for demo-output/org/; `make demo` then takes
    demo-output/ as the demo's, while a folder someone else filled is still refused."""
    from demo.run import MARKER, UsageError, claim_output

    claim_output(tmp_path / "demo-output" / "org", "python -m demo.organization")
    (tmp_path / "demo-output" / "org" / "summary.json").write_text("{}")
    claim_output(tmp_path / "demo-output", "python -m demo.run")
    assert (tmp_path / "demo-output" / MARKER).exists()
    assert (tmp_path / "demo-output" / "org" / "summary.json").exists()

    theirs = tmp_path / "theirs"
    (theirs / "org").mkdir(parents=True)
    (theirs / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match="was not written by the demo"):
        claim_output(theirs, "python -m demo.run")
