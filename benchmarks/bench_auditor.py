"""Benchmark of the `auditor` CLI on a synthetic seven-year report history.

Builds the auditor in release mode, generates the history once into .bench/history/ (reused when
its parameters match), then times, each on a warm page cache:
  auditor verify (whole trail), auditor timeline (whole 7 years, JSON), auditor timeline (one
  quarter, HTML), and the standard-library Python baseline of the same timeline aggregation.
Checks that the auditor and the baseline agree (every per-day per-rule count, every finding's
days non-compliant and reopenings) before printing the figures. Peak RSS comes from wait4().
Also runs `auditor verify` and a one-month `auditor timeline` over one report far over the
schema's limits (70,000 rules, about 23 MB; before the limits, such a timeline took over 1 GB):
it must be refused with bounded memory (`oversized_rss_mb`, the larger of the two).

Run: .venv/bin/python benchmarks/bench_auditor.py     (the last line holds the figures)
"""

import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CRATE = os.path.join(ROOT, "auditor")
BIN = os.path.join(CRATE, "target", "release")
HISTORY = os.path.join(ROOT, ".bench", "history")
OVERSIZED = os.path.join(ROOT, ".bench", "oversized")
START, END, QUARTER = "2019-07-01", "2026-06-30", "2026-Q2"  # gen-history: 2,557 days from START


# The machine is shared: each command runs several times and the fastest run counts (as
# hyperfine's "min"); the baseline gets the same treatment with fewer runs because it is slow.
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
BASELINE_RUNS = int(os.environ.get("BENCH_BASELINE_RUNS", "2"))


def run_once(argv, ok, stdout, stderr=None):
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=stdout, stderr=stderr, cwd=ROOT)
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    if code not in ok:
        sys.exit(f"bench: {' '.join(argv)} exited {code}")
    return seconds, usage.ru_maxrss / 1024.0, usage.ru_utime + usage.ru_stime


def run(argv, ok=(0,), stdout=subprocess.DEVNULL, runs=None, stderr=None):
    """Runs argv `runs` times; returns (fastest wall seconds, peak RSS in MB, CPU s of that run)."""
    results = []
    for _ in range(runs or RUNS):
        if hasattr(stdout, "seek"):
            stdout.seek(0)
            stdout.truncate()
        results.append(run_once(argv, ok, stdout, stderr))
    best = min(results)
    return best[0], max(r[1] for r in results), best[2]


def oversized_report():
    """Writes (once) one report with 70,000 rules, about 23 MB: the schema allows 1,000."""
    path = os.path.join(
        OVERSIZED,
        "reports",
        "2026",
        "07",
        "01",
        "00000000-0b6f3c1e-8d2a-5f4e-9c1b-2a3d4e5f6a7b.json",
    )
    if os.path.exists(path):
        return path
    at = "2026-07-01T06:00:00Z"
    rules = [
        {
            "name": f"rule-{i:05d}",
            "managedIdentifier": "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED",
            "complianceType": "NON_COMPLIANT",
            "complete": True,
            "counts": {"compliant": 0, "nonCompliant": 1, "notApplicable": 0},
            "evaluationStatus": None,
            "nonCompliant": [
                {
                    "resourceType": "AWS::S3::Bucket",
                    "resourceId": f"bucket-{i}",
                    "annotation": None,
                    "resultRecordedTime": at,
                }
            ],
        }
        for i in range(70_000)
    ]
    report = {
        "schemaVersion": "1.0",
        "reportId": "0b6f3c1e-8d2a-5f4e-9c1b-2a3d4e5f6a7b",
        "generatedAt": at,
        "generator": {"name": "bench", "version": "1"},
        "trigger": {"type": "schedule", "id": "bench", "receivedAt": at, "note": None},
        "account": "123456789012",
        "region": "us-east-1",
        "environmentSuffix": "bench",
        "complete": True,
        "rules": rules,
        "summary": {
            "totalNonCompliant": len(rules),
            "rulesNonCompliant": len(rules),
            "byRule": {r["name"]: 1 for r in rules},
            "byResourceType": {"AWS::S3::Bucket": len(rules)},
        },
        "monitoring": {"healthy": True, "recorders": [], "deliveryChannels": [], "problems": []},
        "errors": [],
        "chain": {"sequence": 0, "previousKey": None, "previousSha256": None},
    }
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        json.dump(report, fh, sort_keys=True, separators=(",", ":"))
        fh.write("\n")
    return path


def warm(paths):
    for p in paths:
        with open(p, "rb") as fh:
            while fh.read(1 << 20):
                pass


def main():
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bins"], cwd=CRATE, check=True)
    run([os.path.join(BIN, "gen-history"), HISTORY], runs=1)
    files = []
    for folder, _d, names in os.walk(os.path.join(HISTORY, "reports")):
        files += [os.path.join(folder, n) for n in names if n.endswith(".json")]
    total = sum(os.path.getsize(f) for f in files)
    warm(files)
    auditor = os.path.join(BIN, "auditor")
    with tempfile.TemporaryDirectory() as tmp:
        full_json = os.path.join(tmp, "full.json")
        base_json = os.path.join(tmp, "baseline.json")
        # Exit 1 is expected: the history has missing days (cadence gaps are findings).
        verify_s, verify_rss, verify_cpu = run(
            [auditor, "verify", HISTORY, "--format", "json"], ok=(0, 1)
        )
        timeline_s, timeline_rss, timeline_cpu = run(
            [
                auditor,
                "timeline",
                HISTORY,
                "--from",
                START,
                "--to",
                END,
                "--format",
                "json",
                "-o",
                full_json,
            ],
            ok=(0, 1),
        )
        oversized = oversized_report()
        oversized_s, oversized_rss, _ = run(
            [auditor, "verify", OVERSIZED, "--format", "json", "--as-of", "2026-07-01"], ok=(1,)
        )
        month = ["--from", "2026-07-01", "--to", "2026-07-31", "--as-of", "2026-07-31"]
        # Its "no evidence" statement on stderr is expected: the one report is refused.
        _, oversized_month_rss, _ = run(
            [auditor, "timeline", OVERSIZED, "--format", "json", *month],
            ok=(1,),
            stderr=subprocess.DEVNULL,
        )
        oversized_rss = max(oversized_rss, oversized_month_rss)
        quarter_s, quarter_rss, _ = run(
            [
                auditor,
                "timeline",
                HISTORY,
                "--quarter",
                QUARTER,
                "--format",
                "html",
                "-o",
                os.path.join(tmp, "q.html"),
            ],
            ok=(0, 1),
        )
        with open(base_json, "wb") as out:
            baseline_s, _, baseline_cpu = run(
                [
                    sys.executable,
                    os.path.join(ROOT, "benchmarks", "timeline_baseline.py"),
                    HISTORY,
                    "--from",
                    START,
                    "--to",
                    END,
                ],
                stdout=out,
                runs=BASELINE_RUNS,
            )
        with open(full_json) as fh:
            ours = json.load(fh)
        with open(base_json) as fh:
            theirs = json.load(fh)
    compare(ours, theirs)
    mb = total / 1e6
    print(
        f"verify: {verify_s:.2f}s (cpu {verify_cpu:.2f}s) {verify_rss:.0f} MB; "
        f"timeline 7y: {timeline_s:.2f}s (cpu {timeline_cpu:.2f}s) {timeline_rss:.0f} MB; "
        f"timeline {QUARTER}: {quarter_s:.2f}s {quarter_rss:.0f} MB; baseline: {baseline_s:.2f}s "
        f"(cpu {baseline_cpu:.2f}s); best of {RUNS} (baseline {BASELINE_RUNS}); "
        f"findings compared: {len(ours['exposures'])}; load average {os.getloadavg()[0]:.1f}; "
        f"oversized report ({os.path.getsize(oversized) / 1e6:.0f} MB, 70,000 rules) refused in "
        f"{oversized_s:.2f}s"
    )
    slowest = max(verify_s, timeline_s)
    print(
        f"reports={len(files)} bytes={total} verify_s={verify_s:.2f} timeline_s={timeline_s:.2f} "
        f"mb_per_s={mb / slowest:.0f} baseline_s={baseline_s:.2f} "
        f"speedup={baseline_s / timeline_s:.1f} peak_rss_mb={max(verify_rss, timeline_rss, quarter_rss):.0f} "
        f"oversized_rss_mb={oversized_rss:.0f}"
    )


def compare(ours, theirs):
    days = {d["date"]: d["byRule"] for d in ours["days"]}
    if days != theirs["days"]:
        bad = next(
            k
            for k in sorted(set(days) | set(theirs["days"]))
            if days.get(k) != theirs["days"].get(k)
        )
        sys.exit(
            f"bench: auditor and baseline disagree on {bad}: {days.get(bad)} vs {theirs['days'].get(bad)}"
        )
    mine = {
        f"{e['rule']}|{e['resourceType']}|{e['resourceId']}": [
            e["daysNonCompliant"],
            e["timesReopened"],
        ]
        for e in ours["exposures"]
    }
    if mine != theirs["exposures"]:
        bad = next(
            k
            for k in sorted(set(mine) | set(theirs["exposures"]))
            if mine.get(k) != theirs["exposures"].get(k)
        )
        sys.exit(
            f"bench: exposure of {bad} differs: {mine.get(bad)} vs {theirs['exposures'].get(bad)}"
        )
    if not ours["chain"]["intact"] or theirs["brokenLinks"]:
        sys.exit("bench: the synthetic chain should be intact")


if __name__ == "__main__":
    main()
