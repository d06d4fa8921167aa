"""Benchmark of one report run: 10,000 NON_COMPLIANT evaluations over the three rules (6,000 / 3,000 /
1,000) with 20 ms emulated latency on every AWS call.

    .venv/bin/python -m benchmarks.bench_report [--runs 3] [--latency-ms 20] [--child-python PATH]

The emulator (tools/local_aws) runs as its own process (``client.spawn``) so it does not share a GIL with
the generator. Each run is a fresh child process that loads the handler through the local harness and
builds its clients (Lambda's init phase, printed as init_s), then times one invocation (wall_s) and
reports its own peak RSS (ru_maxrss, which covers the interpreter, boto3 and the run). api_calls comes
from the emulator's per-operation counters.

Minimum calls M = sum over rules of ceil(N_r / 100) NON_COMPLIANT pages, plus the calls of the design that
do not grow with N: per rule one COMPLIANT/NOT_APPLICABLE counting page; DescribeComplianceByConfigRule,
DescribeConfigRuleEvaluationStatus, DescribeConfigurationRecorderStatus, DescribeDeliveryChannelStatus;
S3: get trigger record, get chain head, list the trail's versions (one page up to 1,000 keys), get the
previous report (from the second report on: it is hashed for the link and compared for the e-mail), put
the claim, put report, put trigger record, move the head, mark the alert sent (put trigger record),
release the claim; SSM: read and write the witness parameter; SNS Publish. F = M x latency is the time all
calls would take one after another. The three base runs store reports 0, 1 and 2 of one trail.

Then the scale run (``--scale-findings``, default 100,000, 0 skips it): the same three rules with the
findings split 6 : 3 : 1, 50 ms emulated latency per call. Two invocations, and the figures are the
second's: it reads the first one's report as its previous report (~17 MB, 100,000 findings), as every
daily run reads yesterday's. Its goal: finished within 120 s (the function's timeout is 300 s), peak RSS of
the generator process <= 256 MB (the function has 512 MB), API calls at the floor (ratio <= 1.1). The
last line carries the base figures and the scale figures.
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if not __package__:  # run as a script (the Makefile): the repository as `python -m` would see it
    sys.path.insert(0, str(REPO))

from lib.report_generator import local_harness as harness  # noqa: E402
from tools.local_aws.client import LocalAwsClient, spawn  # noqa: E402

REGION = harness.REGION
ACCOUNT = harness.ACCOUNT
SUFFIX = "bench"
BUCKET = "compliance-reports-bench"
RULES = [
    ("s3-bucket-sse-bench", "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED", "AWS::S3::Bucket", 6000),
    ("rds-storage-encrypted-bench", "RDS_STORAGE_ENCRYPTED", "AWS::RDS::DBInstance", 3000),
    ("ec2-imdsv2-check-bench", "EC2_IMDSV2_CHECK", "AWS::EC2::Instance", 1000),
]
PAGE = 100
FIXED_CONFIG = 4  # compliance, evaluation status, recorder status, delivery channel status
FIXED_S3 = 9  # without the previous report's GET, which a run with a sequence above 0 adds
FIXED_SSM = 2
FIXED_SNS = 1
WITNESS = harness.witness_parameter_name(SUFFIX)


def _seed(emulator: LocalAwsClient) -> str:
    import boto3

    session = boto3.session.Session(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 (the emulator's dummy credentials)
        region_name=REGION,
    )
    s3 = session.client("s3", endpoint_url=emulator.endpoint_url)
    sns = session.client("sns", endpoint_url=emulator.endpoint_url)
    config = session.client("config", endpoint_url=emulator.endpoint_url)
    ssm = session.client("ssm", endpoint_url=emulator.endpoint_url)
    ssm.put_parameter(Name=WITNESS, Value="# no report yet", Type="String")  # as the stack does
    for bucket in (BUCKET, "config-delivery-bench"):
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_encryption(
            Bucket=bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        )
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    topic = sns.create_topic(Name="compliance-alerts-bench")["TopicArn"]
    for name, identifier, _, _ in RULES:
        config.put_config_rule(
            ConfigRule={
                "ConfigRuleName": name,
                "Source": {"Owner": "AWS", "SourceIdentifier": identifier},
            }
        )
    config.put_configuration_recorder(
        ConfigurationRecorder={
            "name": "default",
            "roleARN": f"arn:aws:iam::{ACCOUNT}:role/aws-config-recorder",
            "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": False},
        }
    )
    config.put_delivery_channel(
        DeliveryChannel={"name": "default", "s3BucketName": "config-delivery-bench"}
    )
    config.start_configuration_recorder(ConfigurationRecorderName="default")
    for name, _, resource_type, count in RULES:
        emulator.load_synthetic(name, resource_type, non_compliant=count)
    return topic


def _environment(endpoint: str, topic: str) -> dict:
    env = dict(os.environ)
    env.update(
        harness.function_environment(
            endpoint_url=endpoint,
            bucket=BUCKET,
            topic_arn=topic,
            rules=[{"name": n, "managedIdentifier": i} for n, i, _, _ in RULES],
            suffix=SUFFIX,
        )
    )
    return env


def child() -> None:
    """One Lambda-like invocation; prints one JSON line with its timings and peak RSS."""
    import resource

    started = time.monotonic()
    handler = harness.load_handler()  # the function's own import, timed as init
    handler._clients(handler.load_settings(os.environ))
    init_s = time.monotonic() - started

    event = harness.scheduled_event(suffix=SUFFIX)
    context = harness.LambdaContext(harness.function_name(SUFFIX))
    devnull = open(os.devnull, "w")  # noqa: SIM115 (the run's own log and EMF lines)
    stdout, sys.stdout = sys.stdout, devnull
    try:
        t0 = time.monotonic()
        result = handler.handler(event, context)
        wall = time.monotonic() - t0
    finally:
        sys.stdout = stdout
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak_kb = usage.ru_maxrss
    print(
        json.dumps(
            {
                "wall_s": wall,
                "init_s": init_s,
                "cpu_s": usage.ru_utime + usage.ru_stime,
                "peak_rss_mb": peak_kb / 1024.0,
                "complete": result["complete"],
                "findings": result["totalNonCompliant"],
                "sequence": result["sequence"],
                "phases": result.get("phases", {}),
            }
        )
    )


def _invoke(child_python: str, env: dict, what: str) -> dict:
    """One child run (``child``); its figures."""
    answer = subprocess.run(  # noqa: S603
        [child_python, "-m", "benchmarks.bench_report", "--child"],
        cwd=str(REPO),
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if answer.returncode != 0:
        raise SystemExit(f"{what} failed:\n{answer.stderr.strip()[-2000:]}")
    return json.loads(answer.stdout.strip().splitlines()[-1])


def _min_calls(counts: list[int], sequence: int) -> int:
    paged = sum(math.ceil(count / PAGE) for count in counts)
    counting = len(counts)  # one COMPLIANT/NOT_APPLICABLE page per rule (each holds <= 100 results)
    previous = 1 if sequence > 0 else 0
    return paged + counting + FIXED_CONFIG + FIXED_S3 + previous + FIXED_SSM + FIXED_SNS


def _scale_split(total: int) -> list[int]:
    """``total`` findings over the three rules, 6 : 3 : 1 like the base run."""
    first, second = total * 6 // 10, total * 3 // 10
    return [first, second, total - first - second]


def _scale_run(emulator: LocalAwsClient, env: dict, args: argparse.Namespace) -> dict:
    """One invocation over ``--scale-findings`` findings at ``--scale-latency-ms``; its figures."""
    counts = _scale_split(args.scale_findings)
    emulator.clear_faults()
    loading = time.monotonic()
    for (name, _, resource_type, _), count in zip(RULES, counts):
        emulator.load_synthetic(name, resource_type, non_compliant=count)
    loaded_s = time.monotonic() - loading
    emulator.set_faults([], latency_ms=args.scale_latency_ms, seed=1)
    _invoke(args.child_python, env, "scale run (its previous report)")
    emulator.reset_stats()
    figures = _invoke(args.child_python, env, "scale run")
    if figures["findings"] != args.scale_findings or not figures["complete"]:
        raise SystemExit(
            f"scale run reported {figures['findings']} findings, complete={figures['complete']}"
        )
    figures["api_calls"] = sum(emulator.stats()["calls"].values())
    figures["min_calls"] = _min_calls(counts, figures["sequence"])
    print(
        f"scale run: findings={figures['findings']} ({'/'.join(map(str, counts))}) "
        f"latency_ms={args.scale_latency_ms:g} loaded_in_s={loaded_s:.1f} "
        f"wall_s={figures['wall_s']:.3f} generator_cpu_s={figures['cpu_s']:.3f} "
        f"api_calls={figures['api_calls']} min_calls={figures['min_calls']} "
        f"peak_rss_mb={figures['peak_rss_mb']:.1f} sequence={figures['sequence']}"
    )
    print("  phases (ms): " + ", ".join(f"{k[:-2]}={v}" for k, v in figures["phases"].items()))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs", type=int, default=3, help="child runs; the median wall time is reported"
    )
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument(
        "--child-python", default=sys.executable, help="interpreter of the generator"
    )
    parser.add_argument(
        "--scale-findings", type=int, default=100_000, help="findings of the scale run (0: none)"
    )
    parser.add_argument("--scale-latency-ms", type=float, default=50.0)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child()
        return
    if args.runs < 1:
        raise SystemExit("--runs must be at least 1")

    with spawn() as emulator:
        topic = _seed(emulator)
        env = _environment(emulator.endpoint_url, topic)
        emulator.set_faults([], latency_ms=args.latency_ms, seed=1)
        runs = []
        for index in range(args.runs):
            emulator.reset_stats()
            figures = _invoke(args.child_python, env, f"run {index}")
            calls = emulator.stats()["calls"]
            figures["api_calls"] = sum(calls.values())
            figures["calls"] = calls
            runs.append(figures)
            print(
                f"run {index}: wall_s={figures['wall_s']:.3f} init_s={figures['init_s']:.3f} "
                f"generator_cpu_s={figures['cpu_s']:.3f} "
                f"api_calls={figures['api_calls']} peak_rss_mb={figures['peak_rss_mb']:.1f} "
                f"findings={figures['findings']} complete={figures['complete']} "
                f"sequence={figures['sequence']}"
            )
            print(
                "  phases (ms): " + ", ".join(f"{k[:-2]}={v}" for k, v in figures["phases"].items())
            )
        scale = _scale_run(emulator, env, args) if args.scale_findings > 0 else None

    paged = sum(math.ceil(count / PAGE) for _, _, _, count in RULES)
    counting = len(RULES)
    median = sorted(runs, key=lambda r: r["wall_s"])[len(runs) // 2]
    minimum = _min_calls([count for _, _, _, count in RULES], median["sequence"])
    floor = minimum * args.latency_ms / 1000.0
    calls = median["calls"]
    print("calls of the median run: " + ", ".join(f"{k}={v}" for k, v in sorted(calls.items())))
    print(
        f"min_calls breakdown: non_compliant_pages={paged} counting_pages={counting} "
        f"config_status={FIXED_CONFIG} s3={FIXED_S3}+{1 if median['sequence'] else 0} "
        f"ssm={FIXED_SSM} sns={FIXED_SNS}; "
        f"wall_s median of {len(runs)}: {statistics.median(r['wall_s'] for r in runs):.3f}"
    )
    last = (
        f"api_calls={median['api_calls']} min_calls={minimum} ratio={median['api_calls'] / minimum:.3f} "
        f"wall_s={median['wall_s']:.3f} sequential_floor_s={floor:.3f} "
        f"peak_rss_mb={max(r['peak_rss_mb'] for r in runs):.1f}"
    )
    if scale is not None:
        last += (
            f" scale_findings={scale['findings']} scale_wall_s={scale['wall_s']:.3f} "
            f"scale_peak_rss_mb={scale['peak_rss_mb']:.1f} "
            f"scale_ratio={scale['api_calls'] / scale['min_calls']:.3f}"
        )
    print(last)


if __name__ == "__main__":
    main()
