"""Benchmark of one report run: 10,000 NON_COMPLIANT evaluations over the three rules (6,000 / 3,000 /
1,000) with 20 ms emulated latency on every AWS call.

    .venv/bin/python benchmarks/bench_report.py [--runs 3] [--latency-ms 20] [--child-python PATH]

The emulator (tools/local_aws) runs as its own process so it does not share a GIL with the generator. Each
run is a fresh child process that imports the handler and builds its clients (Lambda's init phase, printed
as init_s), then times one invocation (wall_s) and reports its own peak RSS (ru_maxrss, which covers
the interpreter, boto3 and the run). api_calls comes from the emulator's per-operation counters.

Minimum calls M = sum over rules of ceil(N_r / 100) NON_COMPLIANT pages, plus the calls of the design that
do not grow with N: per rule one COMPLIANT/NOT_APPLICABLE counting page; DescribeComplianceByConfigRule,
DescribeConfigRuleEvaluationStatus, DescribeConfigurationRecorderStatus, DescribeDeliveryChannelStatus;
S3: get trigger record, get chain head, claim (put head), put report, put trigger record, commit (put head),
mark the alert sent (put trigger record); SNS Publish. F = M x latency is the time all calls would take one
after another.

Then the scale run (``--scale-findings``, default 100,000, 0 skips it): the same three rules with the
findings split 6 : 3 : 1, 50 ms emulated latency per call, one invocation. Its goal: finished within 120 s
(the function's timeout is 300 s), peak RSS of the generator process <= 256 MB (the function has 512 MB),
API calls at the floor (ratio <= 1.1). The last line carries the base figures and the scale figures.
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RUNTIME = REPO / "lib" / "report_generator" / "runtime"
REGION = "us-east-1"
ACCOUNT = "123456789012"
BUCKET = "compliance-reports-bench"
RULES = [
    ("s3-bucket-sse-bench", "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED", "AWS::S3::Bucket", 6000),
    ("rds-storage-encrypted-bench", "RDS_STORAGE_ENCRYPTED", "AWS::RDS::DBInstance", 3000),
    ("ec2-imdsv2-check-bench", "EC2_IMDSV2_CHECK", "AWS::EC2::Instance", 1000),
]
PAGE = 100
FIXED_CONFIG = 4  # compliance, evaluation status, recorder status, delivery channel status
FIXED_S3 = 7
FIXED_SNS = 1


def _control(endpoint: str, method: str, path: str, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 (loopback emulator only)
        f"{endpoint}/_local_aws/{path}",
        data=data,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    # Only ever the emulator on loopback (http://127.0.0.1:<port>).
    with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310
        raw = answer.read()
    return json.loads(raw) if raw else None


def _start_emulator(workdir: Path):
    port_file = workdir / "port"
    process = subprocess.Popen(  # noqa: S603
        [str(REPO / ".venv" / "bin" / "python"), "-m", "tools.local_aws", "serve", "--port", "0"]
        + ["--port-file", str(port_file)],
        cwd=str(REPO),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if port_file.exists() and port_file.read_text().strip():
            return process, f"http://127.0.0.1:{int(port_file.read_text())}"
        if process.poll() is not None:
            raise SystemExit(f"emulator exited with {process.returncode}")
        time.sleep(0.1)
    process.kill()
    raise SystemExit("emulator did not start within 60 s")


def _seed(endpoint: str) -> str:
    import boto3

    session = boto3.session.Session(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 (the emulator's dummy credentials)
        region_name=REGION,
    )
    s3 = session.client("s3", endpoint_url=endpoint)
    sns = session.client("sns", endpoint_url=endpoint)
    config = session.client("config", endpoint_url=endpoint)
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
        _control(
            endpoint,
            "POST",
            "config/synthetic",
            {"ruleName": name, "resourceType": resource_type, "nonCompliant": count},
        )
    return topic


def _environment(endpoint: str, topic: str) -> dict:
    env = dict(os.environ)
    env.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "REPORT_BUCKET": BUCKET,
            "ALERT_TOPIC_ARN": topic,
            "MONITORED_RULES": json.dumps(
                [{"name": n, "managedIdentifier": i} for n, i, _, _ in RULES]
            ),
            "ENVIRONMENT_SUFFIX": "bench",
        }
    )
    return env


def child() -> None:
    """One Lambda-like invocation; prints one JSON line with its timings and peak RSS."""
    import resource

    started = time.monotonic()
    sys.path.insert(0, str(RUNTIME))
    import handler  # noqa: E402 (the function's own import, timed as init)

    handler._clients(os.environ["AWS_REGION"])
    init_s = time.monotonic() - started

    class Context:
        invoked_function_arn = (
            f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:compliance-report-generator-bench"
        )
        aws_request_id = str(uuid.uuid4())
        deadline = time.monotonic() + 300

        def get_remaining_time_in_millis(self):
            return int((self.deadline - time.monotonic()) * 1000)

    event = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "detail": {},
    }
    devnull = open(os.devnull, "w")  # noqa: SIM115 (the run's own log and EMF lines)
    stdout, sys.stdout = sys.stdout, devnull
    try:
        t0 = time.monotonic()
        result = handler.handler(event, Context())
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


def _scale_split(total: int) -> list[int]:
    """``total`` findings over the three rules, 6 : 3 : 1 like the base run."""
    first, second = total * 6 // 10, total * 3 // 10
    return [first, second, total - first - second]


def _min_calls(counts: list[int]) -> int:
    paged = sum(math.ceil(count / PAGE) for count in counts)
    counting = len(counts)  # one COMPLIANT/NOT_APPLICABLE page per rule (each holds <= 100 results)
    return paged + counting + FIXED_CONFIG + FIXED_S3 + FIXED_SNS


def _scale_run(endpoint: str, env: dict, args: argparse.Namespace) -> dict:
    """One invocation over ``--scale-findings`` findings at ``--scale-latency-ms``; its figures."""
    counts = _scale_split(args.scale_findings)
    _control(endpoint, "DELETE", "faults")
    loading = time.monotonic()
    for (name, _, resource_type, _), count in zip(RULES, counts):
        _control(
            endpoint,
            "POST",
            "config/synthetic",
            {"ruleName": name, "resourceType": resource_type, "nonCompliant": count},
        )
    loaded_s = time.monotonic() - loading
    _control(
        endpoint, "POST", "faults", {"latency_ms": args.scale_latency_ms, "seed": 1, "rules": []}
    )
    _control(endpoint, "DELETE", "stats")
    answer = subprocess.run(  # noqa: S603
        [args.child_python, str(Path(__file__).resolve()), "--child"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if answer.returncode != 0:
        raise SystemExit(f"scale run failed:\n{answer.stderr.strip()[-2000:]}")
    figures = json.loads(answer.stdout.strip().splitlines()[-1])
    if figures["findings"] != args.scale_findings or not figures["complete"]:
        raise SystemExit(
            f"scale run reported {figures['findings']} findings, complete={figures['complete']}"
        )
    calls = _control(endpoint, "GET", "stats")["calls"]
    figures["api_calls"] = sum(calls.values())
    figures["min_calls"] = _min_calls(counts)
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

    with tempfile.TemporaryDirectory() as workdir:
        process, endpoint = _start_emulator(Path(workdir))
        try:
            topic = _seed(endpoint)
            env = _environment(endpoint, topic)
            _control(
                endpoint, "POST", "faults", {"latency_ms": args.latency_ms, "seed": 1, "rules": []}
            )
            runs = []
            for index in range(args.runs):
                _control(endpoint, "DELETE", "stats")
                answer = subprocess.run(  # noqa: S603
                    [args.child_python, str(Path(__file__).resolve()), "--child"],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if answer.returncode != 0:
                    raise SystemExit(f"run {index} failed:\n{answer.stderr.strip()[-2000:]}")
                figures = json.loads(answer.stdout.strip().splitlines()[-1])
                calls = _control(endpoint, "GET", "stats")["calls"]
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
                    "  phases (ms): "
                    + ", ".join(f"{k[:-2]}={v}" for k, v in figures["phases"].items())
                )
            scale = _scale_run(endpoint, env, args) if args.scale_findings > 0 else None
        finally:
            process.terminate()
            process.wait(timeout=10)

    paged = sum(math.ceil(count / PAGE) for _, _, _, count in RULES)
    counting = len(RULES)
    minimum = _min_calls([count for _, _, _, count in RULES])
    floor = minimum * args.latency_ms / 1000.0
    median = sorted(runs, key=lambda r: r["wall_s"])[len(runs) // 2]
    calls = median["calls"]
    print("calls of the median run: " + ", ".join(f"{k}={v}" for k, v in sorted(calls.items())))
    print(
        f"min_calls breakdown: non_compliant_pages={paged} counting_pages={counting} "
        f"config_status={FIXED_CONFIG} s3={FIXED_S3} sns={FIXED_SNS}; "
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
