"""The monitored account inside the emulator: the estate, AWS Config, the alert topic and the inbox.

Everything is created with ordinary boto3 calls (``tools.local_aws.estate`` and ``deployment``),
under the physical names of the template synthesized for the suffix, so the emulator's IAM
enforcement sees the names the stack's policies grant; the same code would work against any
endpoint. The security team's inbox is an SQS queue subscribed to the alert topic: the alert
formatter publishes the real-time alerts there (compliance changes, digests, monitoring problems, from
the events the emulator delivers through the stack's EventBridge rules) and the report generator its
report alerts.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config

from tools.local_aws import estate as seed
from tools.local_aws.deployment import Deployment, deploy

from .scenario import Change, Resource

REALTIME = "realtime"  # the alert formatter's: kind compliance-change, digest or monitoring
REPORT = "report"  # the report generator's alert, subject "[SEVERITY] suffix: ..."
# The alert formatter's ``kind`` message attribute (lib/alert_formatter/runtime/realtime_alerts/
# messages.py); a message without one of these is a report alert.
REALTIME_KINDS = ("compliance-change", "digest", "monitoring")


@dataclass(frozen=True)
class Alert:
    kind: str  # REALTIME | REPORT
    subject: str | None
    message: str
    attributes: dict[str, str] = field(default_factory=dict)  # message attributes, name -> value

    @property
    def realtime_kind(self) -> str | None:
        """compliance-change, digest or monitoring; None for a report alert."""
        kind = self.attributes.get("kind")
        return kind if kind in REALTIME_KINDS else None

    @property
    def headline(self) -> str:
        if self.subject:
            return self.subject
        return self.message.splitlines()[0] if self.message else ""


def monitored_rules(rules: list[dict[str, Any]]) -> list[dict[str, str]]:
    """[{name, managedIdentifier}] as the stack passes its rules to the function."""
    return [{"name": r["name"], "managedIdentifier": r["managedIdentifier"]} for r in rules]


@dataclass
class Names:
    """The stack's physical names, from the template synthesized for the suffix, and the demo's own
    (the inbox queue and the estate's buckets)."""

    deployment: Deployment

    @property
    def suffix(self) -> str:
        return self.deployment.suffix

    @property
    def rules(self) -> list[dict[str, str]]:
        return monitored_rules(self.deployment.rules)

    @property
    def report_bucket(self) -> str:
        return self.deployment.report_bucket

    @property
    def delivery_bucket(self) -> str:
        return self.deployment.config_bucket

    @property
    def topic(self) -> str:
        return self.deployment.alert_topic_arn.rsplit(":", 1)[1]

    @property
    def recorder(self) -> str:
        return self.deployment.recorder["name"]

    @property
    def inbox(self) -> str:
        return f"security-team-inbox-{self.suffix}"

    def rule_for(self, managed_identifier: str) -> str:
        return self.deployment.rule_for(managed_identifier)

    def bucket(self, name: str) -> str:
        return f"{name}-{self.suffix}"


@dataclass
class Account:
    """The emulated account and what the demo needs to know about it."""

    endpoint_url: str
    names: Names
    clients: Any = None
    topic_arn: str = ""
    inbox_url: str = ""
    # Logical resource name -> its current AWS Config resource id; history of every id a DB had.
    resource_ids: dict[str, str] = field(default_factory=dict)
    id_history: dict[str, list[str]] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    # Where the estate lives: the emulator's account and us-east-1 by default; the organization demo
    # gives each member account and region its own (an administrator's key of that account).
    region: str = seed.REGION
    access_key: str = "testing"

    def __post_init__(self) -> None:
        self.clients = seed.clients(self.endpoint_url, self.region, access_key=self.access_key)

    # -- setting up ------------------------------------------------------------------------------------
    def refuse_if_used(self) -> None:
        """An emulator that already holds the report bucket would mix two trails."""
        names = {b["Name"] for b in self.clients.s3.list_buckets().get("Buckets", [])}
        if self.names.report_bucket in names:
            raise RuntimeError(
                f"{self.endpoint_url}: the emulator already has bucket {self.names.report_bucket}; "
                "use a fresh emulator"
            )

    def create_platform(self) -> None:
        """What the stack deploys (``deployment.deploy``: the buckets, topics, request queue, rules
        and the recorder, under the template's names, with the admin key as CloudFormation would),
        and the security team's inbox subscribed to the alert topic."""
        c, n = self.clients, self.names
        deploy(c, n.deployment)
        self.topic_arn = n.deployment.alert_topic_arn
        self.inbox_url = seed.subscribe_queue(c.sns, c.sqs, self.topic_arn, n.inbox)

    def queue_url(self, name: str) -> str:
        return str(self.clients.sqs.get_queue_url(QueueName=name)["QueueUrl"])

    def daily_evaluation(self) -> None:
        """The schedule's StartConfigRulesEvaluation, signed as the scheduler's role."""
        d = self.names.deployment
        config = boto3.client(
            "config",
            endpoint_url=self.endpoint_url,
            region_name=d.region,
            aws_access_key_id=d.access_key("dailyEvaluation"),
            aws_secret_access_key="emulator",  # noqa: S106 (the emulator checks no signature)
            config=Config(retries={"mode": "standard", "max_attempts": 3}),
        )
        config.start_config_rules_evaluation(**d.daily_evaluation_input)

    def create_estate(self, resources: tuple[Resource, ...]) -> None:
        c = self.clients
        for r in resources:
            self.kinds[r.name] = r.kind
            if r.kind == "s3":
                rid = seed.create_bucket(c.s3, self.names.bucket(r.name), r.initially_compliant)
            elif r.kind == "rds":
                rid = seed.create_db_instance(c.rds, r.name, r.initially_compliant)
            else:
                rid = seed.create_instance(c.ec2, imdsv2_required=r.initially_compliant)
                c.ec2.create_tags(Resources=[rid], Tags=[{"Key": "Name", "Value": r.name}])
            self.resource_ids[r.name] = rid
            self.id_history[r.name] = [rid]

    # -- the simulation --------------------------------------------------------------------------------
    def apply(self, change: Change) -> None:
        c, name = self.clients, change.name
        rid = self.resource_ids[name]
        drift = change.action == "drift"
        if change.kind == "s3":
            (seed.drift_bucket if drift else seed.remediate_bucket)(c.s3, rid)
        elif change.kind == "ec2":
            (seed.drift_instance if drift else seed.remediate_instance)(c.ec2, rid)
        else:
            replace = seed.drift_db_instance if drift else seed.remediate_db_instance
            rid = replace(c.rds, name)
            self.resource_ids[name] = rid
            self.id_history[name].append(rid)

    def stop_recorder(self) -> None:
        seed.stop_recording(self.clients.config, self.names.recorder)

    def start_recorder(self) -> None:
        seed.resume_recording(self.clients.config, self.names.recorder)

    def drain_inbox(self, settle_s: float = 0.0) -> list[Alert]:
        """Receive and delete everything in the inbox. With ``settle_s``, keep polling until nothing
        new has arrived for that long (alerts published just before are given time to land)."""
        sqs, alerts = self.clients.sqs, []
        quiet_since = time.monotonic()
        while True:
            answer = sqs.receive_message(
                QueueUrl=self.inbox_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            )
            batch = answer.get("Messages", [])
            for message in batch:
                envelope = json.loads(message["Body"])
                attributes = {
                    name: str(value.get("Value"))
                    for name, value in (envelope.get("MessageAttributes") or {}).items()
                }
                kind = REALTIME if attributes.get("kind") in REALTIME_KINDS else REPORT
                alerts.append(
                    Alert(kind, envelope.get("Subject") or None, envelope["Message"], attributes)
                )
            if batch:
                sqs.delete_message_batch(
                    QueueUrl=self.inbox_url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                        for i, m in enumerate(batch)
                    ],
                )
                quiet_since = time.monotonic()
                continue
            if time.monotonic() - quiet_since >= settle_s:
                return alerts
            time.sleep(0.1)

    # -- reading the trail -----------------------------------------------------------------------------
    def report_keys(self) -> list[str]:
        return self._keys("reports/")

    def register_keys(self) -> list[str]:
        """The exceptions registers the report generator stored (``exceptions/<sha256>.json``)."""
        return self._keys("exceptions/")

    def _keys(self, prefix: str) -> list[str]:
        paginator = self.clients.s3.get_paginator("list_objects_v2")
        keys = []
        for page in paginator.paginate(Bucket=self.names.report_bucket, Prefix=prefix):
            keys.extend(o["Key"] for o in page.get("Contents", []))
        return sorted(keys)

    def read(self, key: str) -> bytes:
        return self.clients.s3.get_object(Bucket=self.names.report_bucket, Key=key)["Body"].read()
