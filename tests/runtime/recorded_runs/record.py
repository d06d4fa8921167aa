"""Record the scenarios under tests/runtime/recorded_runs/ against the local AWS emulator.

    .venv/bin/python -m tests.runtime.recorded_runs.record [--out DIR] [name ...]

Each scenario seeds a fresh emulated account (clock fixed at ``harness.EMULATOR_NOW``), runs what must
happen before it (earlier reports of the chain, a failed alert) with plain clients, then runs the
generator once with a :class:`harness.Recorder` on its clients and writes:

* ``scenario.json``: the run's inputs (event, request id, environment, attempts per call);
* ``exchanges.jsonl``: every AWS call of the run and its raw HTTP answer;
* ``expected/``: the run's outputs (``harness.outputs``), byte for byte.

Re-record only when an output is meant to change; tests/runtime/test_recorded_runs.py replays the
recording through the current code and compares every byte. ``--out`` records elsewhere, e.g. to check
that a fresh recording through the current code gives the same ``expected/`` files.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any, Callable

from lib.report_generator import local_harness
from lib.report_generator.runtime.compliance_report.environment import WITNESS_NO_REPORT_YET
from tests.runtime.recorded_runs import harness
from tools.local_aws import estate as seeding
from tools.local_aws.client import spawn

# The recorded world: its names are part of every scenario.json, so they are fixed here rather than
# taken from the synthesized stack (the integration suite's world), and IAM is not enforced.
ACCOUNT, REGION = seeding.ACCOUNT_ID, seeding.REGION
BUCKET = "compliance-reports-test"
RULES = [
    {"name": "s3-bucket-sse-test", "managedIdentifier": seeding.S3_RULE},
    {"name": "rds-storage-encrypted-test", "managedIdentifier": seeding.RDS_RULE},
    {"name": "ec2-imdsv2-check-test", "managedIdentifier": seeding.EC2_RULE},
]
S3_RULE, RDS_RULE, EC2_RULE = (r["name"] for r in RULES)
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:compliance-alerts-test"
ENVIRONMENT = {
    "AWS_REGION": REGION,
    "REPORT_BUCKET": BUCKET,
    "REPORT_PREFIX": "reports/",
    "ALERT_TOPIC_ARN": TOPIC,
    "MONITORED_RULES": json.dumps(RULES),
    "ENVIRONMENT_SUFFIX": "test",
    "METRICS_NAMESPACE": "ComplianceAudit",
    "ALERT_MAX_RESOURCES": "5",
    "WITNESS_PARAMETER": "compliance-chain-head-test",
}


class RecordedWorld:
    """The account every scenario starts from: the report bucket (versioned, unencrypted), the alert
    topic, the three rules, a recorder and its delivery channel; seeded with the admin key."""

    def __init__(self, emulator: Any) -> None:
        self.emulator = emulator
        clients = seeding.clients(emulator.endpoint_url)
        self.s3, self.sns, self.config = clients.s3, clients.sns, clients.config
        self.ssm = clients.ssm

    def seed(self) -> RecordedWorld:
        seeding.create_bucket(self.s3, BUCKET, encrypted=False)
        self.s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        topic = self.sns.create_topic(Name="compliance-alerts-test")["TopicArn"]
        assert topic == TOPIC, topic
        for rule in RULES:
            self.config.put_config_rule(
                ConfigRule={
                    "ConfigRuleName": rule["name"],
                    "Source": {"Owner": "AWS", "SourceIdentifier": rule["managedIdentifier"]},
                }
            )
        self.config.put_configuration_recorder(
            ConfigurationRecorder={
                "name": "default",
                "roleARN": f"arn:aws:iam::{ACCOUNT}:role/aws-config-recorder",
                "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": False},
            }
        )
        seeding.create_bucket(self.s3, "config-delivery-test", encrypted=False)
        self.config.put_delivery_channel(
            DeliveryChannel={"name": "default", "s3BucketName": "config-delivery-test"}
        )
        self.config.start_configuration_recorder(ConfigurationRecorderName="default")
        self.ssm.put_parameter(
            Name=ENVIRONMENT["WITNESS_PARAMETER"], Value=WITNESS_NO_REPORT_YET, Type="String"
        )
        return self

    def bucket(self, name: str, encrypted: bool) -> str:
        return seeding.create_bucket(self.s3, name, encrypted)


def scheduled(event_id: str) -> dict[str, Any]:
    return local_harness.scheduled_event("2026-11-26T06:00:00Z", event_id, suffix="test")


def _encrypt_all(estate: Any) -> None:
    for bucket in (BUCKET, "config-delivery-test"):
        estate.s3.put_bucket_encryption(
            Bucket=bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        )


def _many_findings(estate: Any) -> None:
    emulator = estate.emulator
    estate.bucket("payments-ledger", encrypted=False)
    estate.bucket("payments-archive", encrypted=True)
    emulator.load_synthetic(
        S3_RULE, "AWS::S3::Bucket", non_compliant=230, compliant=100, not_applicable=3
    )
    emulator.load_synthetic(RDS_RULE, "AWS::RDS::DBInstance", non_compliant=120, compliant=2)
    emulator.load_synthetic(EC2_RULE, "AWS::EC2::Instance", non_compliant=35, not_applicable=101)


def _incomplete_and_failing(estate: Any) -> None:
    emulator = estate.emulator
    emulator.load_synthetic(S3_RULE, "AWS::S3::Bucket", non_compliant=12, compliant=4)
    emulator.set_delivery_failure(
        "default", "AccessDenied", "The bucket policy denies config.amazonaws.com"
    )
    # AccessDenied is not retried by botocore, so the recording holds one answer per call. Only the
    # findings stream fails: the report lists errors (and problems) in the order the reads finished,
    # so a scenario that must give the same bytes every time has one source of each.
    emulator.set_faults(
        [
            {
                "service": "config",
                "operation": "GetComplianceDetailsByConfigRule",
                "match": {"ConfigRuleName": RDS_RULE, "ComplianceTypes": "NON_COMPLIANT"},
                "error": "AccessDeniedException",
                "status": 400,
                "message": "User is not authorized to perform config:GetComplianceDetailsByConfigRule",
            }
        ]
    )


def _recorder_stopped(estate: Any) -> None:
    estate.emulator.load_synthetic(S3_RULE, "AWS::S3::Bucket", non_compliant=7)
    estate.config.stop_configuration_recorder(ConfigurationRecorderName="default")


def _some_findings(estate: Any) -> None:
    estate.emulator.load_synthetic(S3_RULE, "AWS::S3::Bucket", non_compliant=3, compliant=2)


def _rule_failing(estate: Any) -> None:
    _some_findings(estate)
    estate.emulator.set_rule_failure(EC2_RULE, "InternalError", "Rule failed")


def _on_demand(estate: Any) -> None:
    estate.bucket("payments-ledger", encrypted=False)
    estate.emulator.load_synthetic(RDS_RULE, "AWS::RDS::DBInstance", non_compliant=42)


def _alert_fails(estate: Any) -> None:
    _some_findings(estate)
    estate.emulator.set_faults(
        [{"service": "sns", "operation": "Publish", "error": "AuthorizationError", "status": 403}]
    )


SCENARIOS: dict[str, dict[str, Any]] = {
    "no_findings": {
        "description": "every bucket encrypted, no RDS or EC2 resources: a clean report, no alert",
        "event": scheduled("5e0c1f4a-0000-4000-8000-000000000001"),
        "setup": _encrypt_all,
    },
    "many_findings_paginated": {
        "description": "385 synthetic findings over three rules (several pages each, two counting "
        "pages for two rules) and two real buckets: findings sorted, alert capped at 5 per rule",
        "event": scheduled("5e0c1f4a-0000-4000-8000-000000000002"),
        "setup": _many_findings,
    },
    "incomplete_rule_and_failing_status": {
        "description": "one rule's findings refused (AccessDenied) and the delivery channel "
        "failing: an incomplete report with a monitoring problem",
        "event": scheduled("5e0c1f4a-0000-4000-8000-000000000003"),
        "setup": _incomplete_and_failing,
    },
    "recorder_stopped": {
        "description": "the configuration recorder is stopped: a monitoring problem beside findings",
        "event": scheduled("5e0c1f4a-0000-4000-8000-000000000004"),
        "setup": _recorder_stopped,
    },
    "chain_continues": {
        "description": "two earlier reports in the chain: sequence 2 links to the report before "
        "it; one rule's last evaluation failed",
        "event": scheduled("5e0c1f4a-0000-4000-8000-000000000005"),
        "setup": _rule_failing,
        "before": [
            scheduled("5e0c1f4a-0000-4000-8000-0000000000a1"),
            scheduled("5e0c1f4a-0000-4000-8000-0000000000a2"),
        ],
    },
    "on_demand_with_note": {
        "description": "an operator's on-demand request with an id and a non-ASCII note",
        "event": {
            "action": "generate-report",
            "id": "ops-ticket-4711",
            "note": "Quartalsprüfung Q4 ✓ — «SSE» 暗号化を確認",
        },
        "setup": _on_demand,
    },
    "retry_sends_pending_alert": {
        "description": "the trigger's report is stored but its alert failed: the retry writes no "
        "second report and only sends the alert",
        "event": scheduled("5e0c1f4a-0000-4000-8000-000000000007"),
        "setup": _alert_fails,
        "before": [scheduled("5e0c1f4a-0000-4000-8000-000000000007")],
        "clear_faults_before_run": True,
        "abandonsConfigReads": True,
    },
}


def record(emulator: Any, name: str, spec: dict[str, Any], out: Path) -> None:
    emulator.reset()
    emulator.clear_faults()
    emulator.set_clock(harness.EMULATOR_NOW)
    estate = RecordedWorld(emulator).seed()
    setup: Callable[[Any], None] = spec["setup"]
    setup(estate)
    scenario = {
        "description": spec["description"],
        "account": ACCOUNT,
        "event": spec["event"],
        "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        "environment": ENVIRONMENT,
        "maxAttempts": 3,
        "abandonsConfigReads": spec.get("abandonsConfigReads", False),
    }
    for event in spec.get("before", []):
        try:
            harness.run(dict(scenario, event=event), None)
        except Exception as e:  # noqa: BLE001 (the failed alert a scenario sets up)
            print(f"  {name}: earlier run ended with {type(e).__name__}: {e}")
    if spec.get("clear_faults_before_run"):
        emulator.clear_faults()
    recorder = harness.Recorder()
    result, metric_lines = harness.run(scenario, recorder)
    folder = out / name
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "expected").mkdir(parents=True)
    (folder / "scenario.json").write_text(
        json.dumps(scenario, sort_keys=True, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    harness.write_exchanges(folder / "exchanges.jsonl", recorder.exchanges)
    harness.write_expected(
        folder / "expected", harness.outputs(recorder.calls, result, metric_lines)
    )
    print(
        f"  {name}: {len(recorder.exchanges)} exchanges, outcome={result.outcome} "
        f"sequence={result.sequence} findings={result.total_non_compliant} alert={result.alert}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"scenarios (default all): {', '.join(SCENARIOS)}")
    parser.add_argument("--out", type=Path, default=harness.SCENARIOS, help="where to write")
    args = parser.parse_args()
    unknown = sorted(set(args.names) - set(SCENARIOS))
    if unknown:
        raise SystemExit(f"unknown scenario(s) {unknown}; known: {', '.join(SCENARIOS)}")
    # The function's folder as Lambda's task root (pytest has it on its pythonpath; a script does not).
    sys.path.insert(0, str(local_harness.RUNTIME_DIR))
    with spawn() as emulator:
        endpoint = local_harness.function_environment(
            endpoint_url=emulator.endpoint_url,
            bucket=BUCKET,
            topic_arn=TOPIC,
            rules=RULES,
            suffix="test",
            witness_parameter=ENVIRONMENT["WITNESS_PARAMETER"],
        )
        with local_harness.environment(endpoint):
            for name in args.names or list(SCENARIOS):
                record(emulator, name, SCENARIOS[name], args.out)


if __name__ == "__main__":
    main()
