"""GIVEN the demo has simulated 10 days against the emulator WHEN the trail, the inbox and the auditor's
outputs are examined independently THEN they say exactly what the simulated drift plan says happened."""

import hashlib
import json
import os
import signal
import subprocess
import time

import boto3
import pytest

from demo.scenario import KINDS

RESOURCE_TYPES = {
    "s3": "AWS::S3::Bucket",
    "rds": "AWS::RDS::DBInstance",
    "ec2": "AWS::EC2::Instance",
}


def _s3(endpoint_url):
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _summary(run):
    return json.loads((run.out / "summary.json").read_text())


def _auditor(run, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION="us-east-1",
        AWS_ENDPOINT_URL=run.emulator.endpoint_url,
    )
    # The simulated trail ends on the scenario's last day: verify as of then, not as of today.
    as_of = ["--as-of", run.scenario.end.isoformat()] if args[0] in ("verify", "timeline") else []
    return subprocess.run(
        [str(run.binary), *args, *as_of], capture_output=True, text=True, env=env, timeout=120
    )


def test_the_demo_runs_to_its_summary_and_agrees_with_its_simulation(short_demo):
    assert short_demo.returncode == 0, short_demo.stdout[-3000:] + short_demo.stderr
    summary = _summary(short_demo)
    assert summary["mismatches"] == []
    assert summary["timelineMatchesScenario"] is True
    day_lines = [line for line, _ in _inbox_lines(short_demo)]
    assert [int(line[:3]) for line in day_lines] == list(range(1, short_demo.days + 1))
    for heading in (
        "auditor verify s3://",
        "auditor timeline s3://",
        "tampering",
        "rewriting the trail",
        "summary",
    ):
        assert f"== {heading}" in short_demo.stdout
    assert "runtime " in short_demo.stdout and "make deploy" in short_demo.stdout


def test_the_bucket_holds_one_chained_report_per_reported_day(short_demo):
    expectation = short_demo.scenario.expect()
    s3 = _s3(short_demo.emulator.endpoint_url)
    bucket = short_demo.report_bucket
    versions = s3.list_object_versions(Bucket=bucket, Prefix="reports/")
    keys = sorted(v["Key"] for v in versions["Versions"])
    assert not versions.get("DeleteMarkers")
    assert len(keys) == len(set(keys)) == expectation.reports == short_demo.days - 2

    reports = [(key, s3.get_object(Bucket=bucket, Key=key)["Body"].read()) for key in keys]
    previous = None
    for sequence, (key, raw) in enumerate(reports):
        chain = json.loads(raw)["chain"]
        assert chain["sequence"] == sequence
        if previous is None:
            assert chain["previousKey"] is None and chain["previousSha256"] is None
        else:
            assert chain["previousKey"] == previous[0]
            assert chain["previousSha256"] == hashlib.sha256(previous[1]).hexdigest()
        previous = (key, raw)
    report_dates = [key.split("/")[1:4] for key in keys]
    expected_dates = [d.date.isoformat().split("-") for d in expectation.days if d.reported]
    assert report_dates == expected_dates


def test_auditor_verify_through_s3_finds_the_chain_intact_and_only_the_skipped_days(short_demo):
    scenario = short_demo.scenario
    source = f"s3://{short_demo.report_bucket}/reports/"

    strict = _auditor(short_demo, "verify", source, "--format", "json")
    tolerant = _auditor(short_demo, "verify", source, "--max-gap-hours", "49")

    verdict = json.loads(strict.stdout)
    assert verdict["intact"] is True and verdict["problems"] == []
    assert verdict["reports"] == verdict["validReports"] == short_demo.days - 2
    missing = sorted(d for gap in verdict["gaps"] for d in gap["missingDates"])
    assert missing == [scenario.date_of(d).isoformat() for d in scenario.skipped_days]
    assert strict.returncode == 1  # the two days without a report are findings
    assert tolerant.returncode == 0, tolerant.stdout + tolerant.stderr  # and the only ones


def test_every_alert_reached_the_inbox_as_the_simulation_says(short_demo):
    summary = _summary(short_demo)
    threshold = summary["digestThreshold"]
    expected = short_demo.scenario.expect().inbox(threshold)

    assert {k: v for k, v in summary["alerts"].items() if k != "total"} == expected
    # The first day holds every resource non-compliant from the start: more than the threshold.
    assert expected["digests"] == 1 and expected["digestChanges"] > threshold
    assert expected["monitoring"] == 2  # the recorder stopped, and started again the next day
    assert expected["changes"] >= 3
    # Every day with a report alerts: it had findings or, on the recorder-off day, a monitoring problem.
    assert expected["report"] == short_demo.scenario.expect().reports


def _inbox_lines(run):
    """(day line, the inbox lines under it) for each simulated day of the demo's output."""
    days, current = [], None
    for line in run.stdout.splitlines():
        if line[:3].strip().isdigit() and line[5:15].count("-") == 2:
            current = (line, [])
            days.append(current)
        elif current is not None and line.startswith("       inbox: "):
            current[1].append(line.removeprefix("       inbox: "))
    return days


def test_the_inbox_summary_shows_the_digest_on_day_one_and_the_monitoring_alerts(short_demo):
    scenario, suffix = short_demo.scenario, short_demo.suffix
    days = _inbox_lines(short_demo)
    assert len(days) == short_demo.days

    first = days[0][1]
    day_one = scenario.expect().days[0].realtime_alerts
    assert first == [
        f"[DIGEST] {suffix}: {day_one} compliance changes within 5 min ({day_one} NON_COMPLIANT)"
    ]
    off = scenario.recorder_off_day
    recorder = f"compliance-recorder-{suffix}"
    assert (
        f"[CRITICAL] {suffix}: AWS Config recorder {recorder} STOPPED - changes are not recorded"
        in days[off][1]
    )
    assert (
        f"[RESOLVED] {suffix}: AWS Config recorder {recorder} started - recording again"
        in days[off + 1][1]
    )
    singles = [s for _, lines in days for s in lines if s.startswith("[NON_COMPLIANT] ")]
    rules = {"ec2-imdsv2-check", "rds-storage-encrypted", "s3-bucket-sse-enabled"}
    for subject in singles:
        rule, rest = subject.removeprefix("[NON_COMPLIANT] ").split(" ", 1)
        assert rule in rules and rest.startswith(f"{suffix}: "), subject
        assert len(subject) < 100 and subject.isascii()
    # EC2 and RDS are named by their Name tag and DB identifier, not only by their ids.
    named = [s for s in singles if s.split(": ", 1)[1].startswith(("i-", "db-"))]
    assert named and all(s.endswith(")") for s in named)


def test_the_digest_lists_every_resource_non_compliant_from_the_start(short_demo):
    text = (short_demo.out / "inbox.txt").read_text()
    digest = text.split("-" * 72)[0]
    assert digest.startswith("Subject: [DIGEST] ")
    for resource in short_demo.scenario.resources:
        if resource.initially_compliant:
            continue
        shown = (
            f"{resource.name}-{short_demo.suffix}"
            if resource.kind == "s3"
            else f"({resource.name})"
        )
        assert shown in digest, resource.name


def test_a_real_time_e_mail_carries_the_console_link_the_fix_and_the_attributes(short_demo):
    emails = (short_demo.out / "inbox.txt").read_text().split("-" * 72)
    (one, *_) = [e for e in emails if "Subject: [NON_COMPLIANT] " in e]
    assert "https://console.aws.amazon.com/config/home?region=us-east-1#/timeline/AWS::" in one
    assert "\nFix:\n" in one
    for line in ("Account      123456789012", "Region       us-east-1"):
        assert line in one
    assert f"Environment  {short_demo.suffix}" in one
    assert "kind=compliance-change" in one and "severity=NON_COMPLIANT" in one


def test_timeline_numbers_equal_the_simulated_drift_exactly(short_demo):
    expectation = short_demo.scenario.expect()
    summary = _summary(short_demo)
    rules = summary["ruleNames"]
    timeline = json.loads(next(p for p in short_demo.out.glob("timeline-*.json")).read_text())
    assert set(rules) == set(KINDS)

    assert [d["date"] for d in timeline["days"]] == [d.date.isoformat() for d in expectation.days]
    for got, want in zip(timeline["days"], expectation.days):
        assert got["state"] == ("reported" if want.reported else "carried"), got["date"]
        assert got["gap"] is (not want.reported)
        for kind in KINDS:
            assert got["byRule"].get(rules[kind], 0) == want.by_kind[kind], (got["date"], kind)
            assert got["byResourceType"].get(RESOURCE_TYPES[kind], 0) == want.by_kind[kind]
        assert got["total"] == want.total

    ids = summary["resourceIds"]
    expected_windows = sorted(
        (
            rules[w.finding[0]],
            ids["/".join(map(str, w.finding))],
            w.opened.isoformat(),
            w.resolved.isoformat() if w.resolved else None,
        )
        for w in expectation.windows
    )
    got_windows = sorted(
        (e["rule"], e["resourceId"], w["opened"], w["resolved"])
        for e in timeline["exposures"]
        for w in e["windows"]
    )
    assert got_windows == expected_windows
    stats = {s["rule"]: s for s in timeline["ruleStats"]}
    for kind in KINDS:
        assert stats[rules[kind]]["opened"] == expectation.opened(kind)
        assert stats[rules[kind]]["resolved"] == expectation.resolved(kind)

    monitoring = timeline["monitoring"]
    assert monitoring["daysWithoutReport"] == 2
    off = short_demo.scenario.date_of(short_demo.scenario.recorder_off_day).isoformat()
    issue_days = {d["date"]: d["issues"] for d in monitoring["days"] if d["issues"]}
    assert list(issue_days) == [off]
    assert {i["kind"] for i in issue_days[off]} == {"recorderNotRecording"}


def test_the_timeline_was_written_in_every_format(short_demo):
    formats = {p.suffix for p in short_demo.out.glob("timeline-*")}
    assert formats == {".html", ".csv", ".md", ".json"}
    html = next(short_demo.out.glob("timeline-*.html")).read_text()
    assert "<svg" in html and "<table" in html
    csv_text = next(short_demo.out.glob("timeline-*.csv")).read_text()
    assert "section,daily" in csv_text


def test_a_tampered_copy_is_caught_and_the_report_named(short_demo):
    tamper = _summary(short_demo)["tamper"]
    key = tamper["key"]
    copy = short_demo.out / "tampered" / key
    original = (
        _s3(short_demo.emulator.endpoint_url)
        .get_object(Bucket=short_demo.report_bucket, Key=key)["Body"]
        .read()
    )
    changed = copy.read_bytes()
    assert len(changed) == len(original)
    assert sum(a != b for a, b in zip(changed, original)) == 1

    run = _auditor(short_demo, "verify", str(short_demo.out / "tampered"), "--format", "json")

    assert run.returncode == 1
    mismatches = [p for p in json.loads(run.stdout)["problems"] if p["code"] == "hash-mismatch"]
    assert len(mismatches) == 1 and key in mismatches[0]["detail"]
    assert tamper["caught"] is True and tamper["exitCode"] == 1


def test_a_consistently_rewritten_trail_and_its_deleted_newest_report_are_named_by_the_witnesses(
    short_demo,
):
    """Report k edited and every later link recomputed, the newest report and the head gone with
    all their versions (demo/tamper.py, in a copy of the bucket): the chain alone is intact, and the
    witness lines of the inbox's report alerts name every rewritten report and the deleted one."""
    rewrite = _summary(short_demo)["rewrite"]
    s3 = _s3(short_demo.emulator.endpoint_url)
    original = {
        key: hashlib.sha256(
            s3.get_object(Bucket=short_demo.report_bucket, Key=key)["Body"].read()
        ).hexdigest()
        for key in [rewrite["edited"], *rewrite["relinked"], rewrite["deleted"]]
    }
    witnesses = (short_demo.out / "witnesses.txt").read_text().splitlines()
    witnessed = {line.split()[2]: line.split()[3] for line in witnesses}
    assert len(witnesses) == short_demo.scenario.expect().report_alerts
    assert {key: witnessed[key] for key in original} == original  # what the generator stored
    versions = s3.list_object_versions(Bucket=rewrite["bucket"])
    assert not versions.get("DeleteMarkers")  # erased, not marked
    stored = {v["Key"] for v in versions["Versions"]}
    assert rewrite["deleted"] not in stored
    assert len(stored) == short_demo.scenario.expect().reports - 1
    source = f"s3://{rewrite['bucket']}/reports/"

    alone = _auditor(short_demo, "verify", source, "--format", "json")
    held = _auditor(
        short_demo,
        "verify",
        source,
        "--witness",
        str(short_demo.out / "witnesses.txt"),
        "--format",
        "json",
    )

    # The chain alone shows nothing. (A copy of a bucket cannot keep S3's version ids, so there the
    # reports' register references read as missing; an administrator rewriting in place keeps them.)
    chain_problems = [
        p for p in json.loads(alone.stdout)["problems"] if not p["code"].startswith("register-")
    ]
    assert chain_problems == []
    assert held.returncode == 1
    problems = json.loads(held.stdout)["problems"]
    named = {(p["code"], p["key"]) for p in problems if p["code"].startswith("witness-")}
    assert named == {
        ("witness-mismatch", key) for key in [rewrite["edited"], *rewrite["relinked"]]
    } | {("witness-ahead", rewrite["deleted"])}
    assert rewrite["caught"] is True and rewrite["intactWithoutWitnesses"] is True


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_demo_leaves_no_emulator_running(
    tmp_path, auditor_binary, quarter, demo_cli, signum
):
    proc = subprocess.Popen(
        demo_cli.command(
            "--days",
            "30",
            "--quarter",
            quarter,
            "--out",
            str(tmp_path / "out"),
            "--auditor",
            str(auditor_binary),
        ),
        cwd=str(demo_cli.repo),
        env=demo_cli.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    pid = None
    try:
        deadline = time.monotonic() + 120
        for line in proc.stdout:
            if "emulator listening on" in line:
                pid = int(line.rsplit("(pid ", 1)[1].rstrip(")\n"))
            if pid and line[:3].strip() == "2":  # the simulation is running
                break
            assert time.monotonic() < deadline, "the demo did not reach its second day in 120 s"
        assert pid is not None
        assert os.path.exists(f"/proc/{pid}")

        proc.send_signal(signum)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signum
    assert "interrupted" in proc.stderr.read()
    assert not os.path.exists(f"/proc/{pid}"), f"emulator pid {pid} outlived the demo"


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--days", "3"], "--days 3"),
        (["--quarter", "2026-Q5"], "--quarter '2026-Q5'"),
        (["--quarter", "2099-Q1"], "--quarter 2099-Q1"),
        (["--endpoint-url", "http://10.0.0.1:4566"], "--endpoint-url"),
    ],
)
def test_bad_arguments_are_one_line_errors(demo_cli, args, names):
    proc = subprocess.run(
        demo_cli.command(*args),
        cwd=str(demo_cli.repo),
        env=demo_cli.env(),
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert names in last and "error:" in last


def test_an_output_folder_the_demo_did_not_write_is_left_alone(demo_cli, tmp_path):
    keep = tmp_path / "logs" / "keep.txt"
    keep.parent.mkdir()
    keep.write_text("not the demo's")

    proc = subprocess.run(
        demo_cli.command("--days", "8", "--out", str(tmp_path), "--auditor", "/bin/true"),
        cwd=str(demo_cli.repo),
        env=demo_cli.env(),
        capture_output=True,
        text=True,
    )

    assert proc.returncode == 2
    assert f"--out {tmp_path}: folder exists and was not written by the demo" in proc.stderr
    assert keep.read_text() == "not the demo's"


def test_the_accepted_risks_are_excepted_in_the_reports_and_the_timeline(short_demo):
    """Each report labels the findings the demo's register accepts on its date; the auditor's
    timeline counts them per rule and day as the scenario predicts; the register the reports name is
    the one stored, and the first report e-mail after an exception's expiry pages its finding."""
    scenario, expectation = short_demo.scenario, short_demo.scenario.expect()
    summary = _summary(short_demo)
    rules = summary["ruleNames"]
    register = summary["exceptions"]["register"]
    s3 = _s3(short_demo.emulator.endpoint_url)
    stored = s3.get_object(Bucket=short_demo.report_bucket, Key=register)
    body = stored["Body"].read()
    assert register == f"exceptions/{hashlib.sha256(body).hexdigest()}.json"
    assert [e["id"] for e in json.loads(body)["exceptions"]] == ["EXC-DEMO-001", "EXC-DEMO-002"]

    keys = sorted(
        v["Key"]
        for v in s3.list_object_versions(Bucket=short_demo.report_bucket, Prefix="reports/")[
            "Versions"
        ]
    )
    reported = [d for d in expectation.days if d.reported]
    for key, want in zip(keys, reported):
        report = json.loads(s3.get_object(Bucket=short_demo.report_bucket, Key=key)["Body"].read())
        assert report["exceptionRegister"]["key"] == register
        assert report["exceptionRegister"]["versionId"] == stored["VersionId"]
        for kind in KINDS:
            assert report["summary"]["exceptedByRule"][rules[kind]] == want.excepted_by_kind[kind]

    timeline = json.loads(next(short_demo.out.glob("timeline-*.json")).read_text())
    for got, want in zip(timeline["days"], expectation.days):
        assert got["excepted"] == sum(want.excepted_by_kind.values()), got["date"]
    assert sum(sum(d.excepted_by_kind.values()) for d in expectation.days) > 0
    expired = next(x for x in scenario.exceptions if x.expires < scenario.days - 1)
    assert (
        summary["exceptions"]["pagedAgain"][expired.id]
        > scenario.date_of(expired.expires).isoformat()
    )
