"""Benchmark of the emulator's Config read path: ``python -m tools.local_aws.bench``.

Runs the emulator as its own process (as the report benchmark does, so client and server do not
share a GIL), loads the report benchmark's population (10,000 NON_COMPLIANT results over three
rules: 6,000 / 3,000 / 1,000), then reads every page of GetComplianceDetailsByConfigRule (Limit 100)
with a given number of parallel readers and per-call latency, and prints the figures. Nothing is
asserted.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from . import estate
from .client import spawn

POPULATION = (
    ("s3-encryption-bench", "AWS::S3::Bucket", 6000),
    ("rds-encryption-bench", "AWS::RDS::DBInstance", 3000),
    ("ec2-imdsv2-bench", "AWS::EC2::Instance", 1000),
)


def _read_rule(config: object, rule: str) -> int:
    kwargs = {"ConfigRuleName": rule, "ComplianceTypes": ["NON_COMPLIANT"], "Limit": 100}
    total = 0
    while True:
        page = config.get_compliance_details_by_config_rule(**kwargs)  # type: ignore[attr-defined]
        total += len(page["EvaluationResults"])
        if "NextToken" not in page:
            return total
        kwargs["NextToken"] = page["NextToken"]


def _read_rule_raw(endpoint_url: str, rule: str) -> tuple[int, int]:
    """Page through a rule with plain HTTP and ``json`` (no botocore parsing): (results, pages)."""
    headers = {
        "X-Amz-Target": "StarlingDoveService.GetComplianceDetailsByConfigRule",
        "Content-Type": "application/x-amz-json-1.1",
        "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/config/"
        "aws4_request, SignedHeaders=host, Signature=unchecked",
    }
    body: dict[str, Any] = {
        "ConfigRuleName": rule,
        "ComplianceTypes": ["NON_COMPLIANT"],
        "Limit": 100,
    }
    total = pages = 0
    while True:
        data = json.dumps(body).encode()
        request = urllib.request.Request(endpoint_url, data=data, headers=headers)  # noqa: S310
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            page = json.loads(response.read())
        total += len(page["EvaluationResults"])
        pages += 1
        if "NextToken" not in page:
            return total, pages
        body["NextToken"] = page["NextToken"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.local_aws.bench", description=__doc__)
    parser.add_argument(
        "--latency-ms", type=float, default=20.0, help="per-call latency (default 20)"
    )
    parser.add_argument("--readers", type=int, default=8, help="parallel readers (default 8)")
    parser.add_argument("--rounds", type=int, default=3, help="full reads of all rules (default 3)")
    args = parser.parse_args(argv)

    with spawn(python=sys.executable) as aws:
        c = estate.clients(aws.endpoint_url, max_attempts=1)
        estate.put_managed_rules(c.config, *(name for name, _, _ in POPULATION))
        estate.create_bucket(c.s3, "config-delivery-bench")
        estate.start_recording(c.config, "config-delivery-bench")
        started = time.perf_counter()
        for name, kind, count in POPULATION:
            aws.load_synthetic(name, kind, non_compliant=count)
        load_s = time.perf_counter() - started
        aws.set_faults([], latency_ms=args.latency_ms)

        def one_round() -> int:
            # each reader pages through one rule; readers beyond three re-read rules concurrently
            rules = [POPULATION[i % len(POPULATION)][0] for i in range(max(args.readers, 3))]
            with ThreadPoolExecutor(max_workers=args.readers) as pool:
                return sum(pool.map(lambda rule: _read_rule(c.config, rule), rules))

        aws.reset_stats()
        timings, results = [], 0
        for _ in range(args.rounds):
            started = time.perf_counter()
            results = one_round()
            timings.append(time.perf_counter() - started)
        stats = aws.stats()
        # the report generator's critical path: one reader through the 6,000-result rule
        started = time.perf_counter()
        sequential = _read_rule(c.config, POPULATION[0][0])
        sequential_s = time.perf_counter() - started
        started = time.perf_counter()
        raw_results, raw_pages = _read_rule_raw(aws.endpoint_url, POPULATION[0][0])
        raw_s = time.perf_counter() - started
        calls = stats["calls"].get("config.GetComplianceDetailsByConfigRule", 0)
    best = min(timings)
    print(f"synthetic load: 10,000 results in {load_s * 1000:.0f} ms")
    print(
        f"read: {results:,} results per round, {args.readers} readers, "
        f"latency {args.latency_ms:g} ms/call"
    )
    print(f"round time: best {best * 1000:.0f} ms, worst {max(timings) * 1000:.0f} ms")
    print(
        f"calls: {calls} over {args.rounds} rounds; peak concurrent calls {stats['in_flight_max']}"
    )
    print(f"throughput: {calls / args.rounds / best:.0f} pages/s in the best round")
    pages = -(-sequential // 100)
    print(
        f"one reader, {sequential:,} results: {sequential_s * 1000:.0f} ms for {pages} pages, "
        f"{sequential_s * 1000 / pages - args.latency_ms:.1f} ms per page above the latency "
        "(botocore parsing included)"
    )
    print(
        f"one reader, plain HTTP + json: {raw_s * 1000:.0f} ms for {raw_pages} pages, "
        f"{raw_s * 1000 / raw_pages - args.latency_ms:.1f} ms per page above the latency"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
