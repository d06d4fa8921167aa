"""Benchmark of the `auditor` CLI on an organization's bucket: 500 accounts x 3 regions x 30 days
(45,000 reports), generated once with `gen-history --org-accounts` (deterministic seed) into
.bench/org/ and reused while its parameters match.

Times, each on a warm page cache (the fastest of BENCH_ORG_RUNS runs counts, as in
bench_auditor.py):
  auditor verify (every trail, its head, the account list) and auditor timeline (the 30 days,
  JSON: the roll-up and every trail's detail), both release builds.
Memory: peak RSS of each run from wait4(); the same two commands over a tenth of the organization
(50 accounts, .bench/org-small/) show that memory does not grow with the number of trails.
Throughput: bytes over the slower of verify and timeline, beside the single-trail figure of
`make bench-auditor` measured here on the same machine at the same moment (its seven-year history,
verify and the seven-year JSON timeline), and their ratio.
Athena: the four named queries (sql/athena/) run on DuckDB over a sample of the organization
(hard links to BENCH_ORG_SAMPLE accounts' trails; BENCH_ORG_SAMPLE=500 for all of it), given the
exceptions register first as the Athena queries test does (tests/organization/exceptions_org.py:
gen-history writes schema 1.0 only; the sample's reports are rewritten as new files, so the
benchmark's own stay as generated), and compared with the auditor's timeline JSON of the same
sample by tests/organization/agreement.py; the counts compared are printed.

Run: .venv/bin/python benchmarks/bench_org.py     (the last line holds the figures)
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_auditor  # noqa: E402  (one owner of the timing and page-cache helpers)

ROOT = bench_auditor.ROOT
BIN = bench_auditor.BIN
ORG = os.path.join(ROOT, ".bench", "org")
SMALL = os.path.join(ROOT, ".bench", "org-small")
SAMPLE = os.path.join(ROOT, ".bench", "org-sample")

ACCOUNTS = int(os.environ.get("BENCH_ORG_ACCOUNTS", "500"))
SMALL_ACCOUNTS = int(os.environ.get("BENCH_ORG_SMALL_ACCOUNTS", str(max(1, ACCOUNTS // 10))))
REGIONS = os.environ.get("BENCH_ORG_REGIONS", "us-east-1,eu-west-1,ap-southeast-2")
DAYS = int(os.environ.get("BENCH_ORG_DAYS", "30"))
# Open findings per trail across the three rules: a member account's share, a tenth of the
# seven-year single-trail history's 2,000 (about 35 kB per report).
FINDINGS = int(os.environ.get("BENCH_ORG_FINDINGS", "200"))
MISSING = int(os.environ.get("BENCH_ORG_MISSING", "1"))
SEED = int(os.environ.get("BENCH_ORG_SEED", "13"))
RUNS = int(os.environ.get("BENCH_ORG_RUNS", "2"))
SAMPLE_ACCOUNTS = int(os.environ.get("BENCH_ORG_SAMPLE", "20"))
START = dt.date(2026, 5, 1)
LAST = START + dt.timedelta(days=DAYS - 1)
AS_OF = f"{LAST.isoformat()}T23:59:59Z"


def generate(out: str, accounts: int) -> list[str]:
    bench_auditor.run(
        [
            os.path.join(BIN, "gen-history"),
            out,
            "--days",
            str(DAYS),
            "--findings",
            str(FINDINGS),
            "--missing",
            str(MISSING),
            "--start",
            START.isoformat(),
            "--seed",
            str(SEED),
            "--org-accounts",
            str(accounts),
            "--org-regions",
            REGIONS,
        ],
        runs=1,
    )
    files = []
    for folder, _dirs, names in os.walk(os.path.join(out, "reports")):
        files += [os.path.join(folder, n) for n in names if n.endswith(".json")]
    return files


def timeline_command(source: str, first: str, last: str, out: str, *extra: str) -> list[str]:
    """`auditor timeline` of `source` from `first` to `last` as JSON into `out`."""
    auditor = os.path.join(BIN, "auditor")
    command = [auditor, "timeline", source, "--from", first, "--to", last, *extra]
    return command + ["--format", "json", "-o", out]


def measure(org: str, tmp: str, runs: int) -> dict[str, float]:
    """verify and timeline over `org`: fastest wall seconds, peak RSS, CPU seconds."""
    auditor = os.path.join(BIN, "auditor")
    accounts = os.path.join(org, "ACCOUNTS")
    # Exit 1 is expected: every trail has a day without a report (MISSING), a cadence gap.
    verify_s, verify_rss, verify_cpu = bench_auditor.run(
        [auditor, "verify", org, "--format", "json", "--as-of", AS_OF, "--accounts", accounts],
        ok=(0, 1),
        runs=runs,
    )
    timeline_s, timeline_rss, timeline_cpu = bench_auditor.run(
        timeline_command(
            org,
            START.isoformat(),
            LAST.isoformat(),
            os.path.join(tmp, "org.json"),
            "--as-of",
            AS_OF,
            "--accounts",
            accounts,
        ),
        ok=(0, 1),
        runs=runs,
        stderr=subprocess.DEVNULL,
    )
    return {
        "verify_s": verify_s,
        "verify_rss": verify_rss,
        "verify_cpu": verify_cpu,
        "timeline_s": timeline_s,
        "timeline_rss": timeline_rss,
        "timeline_cpu": timeline_cpu,
    }


def single_trail(tmp: str) -> dict[str, float]:
    """make bench-auditor's load measured now: bytes, wall and CPU seconds, MB/s."""
    history = bench_auditor.HISTORY
    bench_auditor.run([os.path.join(BIN, "gen-history"), history], runs=1)
    files = []
    for folder, _d, names in os.walk(os.path.join(history, "reports")):
        files += [os.path.join(folder, n) for n in names if n.endswith(".json")]
    total = sum(os.path.getsize(f) for f in files)
    bench_auditor.warm(files)
    auditor = os.path.join(BIN, "auditor")
    verify_s, _, verify_cpu = bench_auditor.run(
        [auditor, "verify", history, "--format", "json"], ok=(0, 1), runs=RUNS
    )
    timeline_s, _, timeline_cpu = bench_auditor.run(
        timeline_command(
            history, bench_auditor.START, bench_auditor.END, os.path.join(tmp, "single.json")
        ),
        ok=(0, 1),
        runs=RUNS,
    )
    return {
        "bytes": total,
        "verify_s": verify_s,
        "verify_cpu": verify_cpu,
        "timeline_s": timeline_s,
        "timeline_cpu": timeline_cpu,
        "mb_per_s": total / 1e6 / max(verify_s, timeline_s),
        "mb_per_cpu_s": total / 1e6 / max(verify_cpu, timeline_cpu),
    }


def athena_sample(tmp: str) -> str:
    """The Athena queries on DuckDB and the auditor over the first SAMPLE_ACCOUNTS accounts."""
    sys.path.insert(0, ROOT)
    from tests.organization.agreement import agreement
    from tests.organization.exceptions_org import add_exceptions

    shutil.rmtree(SAMPLE, ignore_errors=True)
    accounts = sorted(os.listdir(os.path.join(ORG, "reports")))[:SAMPLE_ACCOUNTS]
    for account in accounts:
        shutil.copytree(
            os.path.join(ORG, "reports", account),
            os.path.join(SAMPLE, "reports", account),
            copy_function=os.link,
        )
    add_exceptions(Path(SAMPLE), START)
    out = os.path.join(tmp, "sample.json")
    subprocess.run(
        timeline_command(SAMPLE, START.isoformat(), LAST.isoformat(), out, "--as-of", AS_OF)
        + ["--quiet"],
        check=False,
        stderr=subprocess.DEVNULL,
    )
    with open(out) as fh:
        document = json.load(fh)
    timelines = {(t["account"], t["region"]): t["timeline"] for t in document["trails"]}
    counts = agreement(SAMPLE, START.strftime("%Y/%m/%d"), LAST.strftime("%Y/%m/%d"), timelines)
    shutil.rmtree(SAMPLE, ignore_errors=True)
    return (
        f"Athena queries on DuckDB agree with the auditor on {len(timelines)} trails "
        f"({len(accounts)} accounts): {counts}"
    )


def main():
    subprocess.run(
        ["cargo", "build", "--release", "--locked", "--quiet", "--bins"],
        cwd=bench_auditor.CRATE,
        check=True,
    )
    files = generate(ORG, ACCOUNTS)
    total = sum(os.path.getsize(f) for f in files)
    small_files = generate(SMALL, SMALL_ACCOUNTS)
    small_total = sum(os.path.getsize(f) for f in small_files)
    with tempfile.TemporaryDirectory() as tmp:
        bench_auditor.warm(small_files)
        small = measure(SMALL, tmp, 1)
        bench_auditor.warm(files)
        big = measure(ORG, tmp, RUNS)
        single = single_trail(tmp)
        athena = athena_sample(tmp)
    trails = ACCOUNTS * len(REGIONS.split(","))
    mb_per_s = total / 1e6 / max(big["verify_s"], big["timeline_s"])
    peak = max(big["verify_rss"], big["timeline_rss"])
    small_peak = max(small["verify_rss"], small["timeline_rss"])
    print(athena)
    print(
        f"verify: {big['verify_s']:.2f}s (cpu {big['verify_cpu']:.2f}s) {big['verify_rss']:.0f} MB; "
        f"timeline: {big['timeline_s']:.2f}s (cpu {big['timeline_cpu']:.2f}s) "
        f"{big['timeline_rss']:.0f} MB; best of {RUNS}; load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"memory: {SMALL_ACCOUNTS * len(REGIONS.split(','))} trails ({len(small_files)} reports, "
        f"{small_total / 1e6:.0f} MB) peak {small_peak:.0f} MB; {trails} trails ({len(files)} "
        f"reports, {total / 1e6:.0f} MB) peak {peak:.0f} MB"
    )
    # CPU seconds move less with the machine's load than wall seconds: both ratios are printed.
    mb_per_cpu_s = total / 1e6 / max(big["verify_cpu"], big["timeline_cpu"])
    print(
        f"single trail (make bench-auditor's history, measured in this run): "
        f"bytes={single['bytes']} verify_s={single['verify_s']:.2f} (cpu "
        f"{single['verify_cpu']:.2f}s) timeline_s={single['timeline_s']:.2f} (cpu "
        f"{single['timeline_cpu']:.2f}s) mb_per_s={single['mb_per_s']:.0f}; organization/single "
        f"throughput ratio {mb_per_s / single['mb_per_s']:.2f} (per CPU second "
        f"{mb_per_cpu_s:.0f} against {single['mb_per_cpu_s']:.0f} MB/s: "
        f"{mb_per_cpu_s / single['mb_per_cpu_s']:.2f})"
    )
    print(
        f"trails={trails} reports={len(files)} bytes={total} verify_s={big['verify_s']:.2f} "
        f"timeline_s={big['timeline_s']:.2f} mb_per_s={mb_per_s:.0f} peak_rss_mb={peak:.0f}"
    )


if __name__ == "__main__":
    main()
