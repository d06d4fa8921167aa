"""The organization shape end to end on this machine: an evidence account, four member accounts in two
regions, one account of the organization without a trail, no AWS account needed.

``python -m demo.organization [--month 2026-11] [--days N] [--out demo-output/org]``

Reads the organization shape synthesized for the suffix (``make synth SHAPE=organization``'s
``cdk.out``, or synthesizes it), starts the local AWS emulator enforcing every account's policies
across accounts (the evidence stack's central bucket policy, the regional stacks' topic policies, the
member template in each member account and region: ``tools/local_aws/organization.py``), creates
what the evidence stacks and the StackSet would and what each member account's landing zone already
has (Control Tower's recorder), and simulates a month day by day: in every member account and region
the real report generator handler, signing as that account's role, writes its trail under
``reports/<account>/<region>/`` of the central bucket. One account's recorders are off for a week;
one account of the organization never got the member part. Then one member tries to write into
another member's trail and to delete its own report (both denied), and the auditor reads the central
bucket as an organization, with the account list, and writes the organization report.
Exit status: 0 when everything behaved as simulated, 1 when an outcome differed, 2 when the demo
could not run, 130/143 when interrupted (the emulator is stopped in every case).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import time
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
from botocore.config import Config

from tools.local_aws import estate as seed
from tools.local_aws.accounts import admin_key
from tools.local_aws.client import LocalAwsClient, LocalAwsProcess, spawn
from tools.local_aws.deployment import DeploymentError, put_rules
from tools.local_aws.organization import (
    MemberTrail,
    OrganizationDeployment,
    OrganizationError,
    describe_organization,
    is_current,
    synthesize_organization,
)

from . import auditor as auditor_mod
from . import tamper as tamper_mod
from .check import rule_names_by_kind, timeline_differences
from .estate import Account, monitored_rules
from .generator import SimulatedSchedule
from .run import (
    REPO,
    REPORT_TIME,
    Console,
    Mismatch,
    UsageError,
    claim_output,
    counts_text,
    resolve_period,
    run_demo,
    utc_text,
)
from .scenario import Expectation, Scenario


@dataclass(frozen=True)
class Member:
    account: str
    name: str


# The organization: four member accounts in the StackSet's target OUs, and one more that joined but
# never got the member part (its StackSet instance failed, or the OU is not targeted).
MEMBERS = (
    Member("210987654321", "payments-prod"),
    Member("310987654321", "data-platform-prod"),
    Member("410987654321", "customer-channels-prod"),
    Member("510987654321", "sandbox"),
)
WITHOUT_TRAIL = Member("610987654321", "card-issuing-prod")
RECORDER_OFF = "310987654321"  # whose recorders are off for a week, in every region
RECORDER_OFF_DAYS = 7
# AWS Control Tower's recorder and delivery channel in every enrolled account and governed region
# ("Resources created in member accounts", AWS Control Tower User Guide: the AWS Config resources
# aws-controltower-BaselineConfigRecorder and aws-controltower-BaselineConfigDeliveryChannel), which the
# member part uses (useExistingConfigRecorder, the default of the shape).
RECORDER = "aws-controltower-BaselineConfigRecorder"
DELIVERY_CHANNEL = "aws-controltower-BaselineConfigDeliveryChannel"
# The settings the demo synthesizes with when no current assembly is given (the Makefile's examples).
CONTEXT = {
    "deployment": "organization",
    "evidenceAccount": "111111111111",
    "organizationId": "o-exampleorg1",
    "targetOrganizationalUnits": "ou-exam-pleunit1",
    "deploymentRegions": "us-east-1,eu-west-1",
    "organizationAccounts": ",".join(m.account for m in (*MEMBERS, WITHOUT_TRAIL)),
    "alertEmail": "none",
}
INBOX = "security-team-inbox-org"
DEFAULT_OUT = Path("demo-output") / "org"


# -- arguments -----------------------------------------------------------------------------------------
def last_complete_month(today: date) -> str:
    first = today.replace(day=1) - timedelta(days=1)
    return f"{first.year}-{first.month:02d}"


def month_bounds(label: str) -> tuple[date, date]:
    try:
        found = re.fullmatch(r"(\d{4})-(\d{2})", label)
        if found is None:
            raise ValueError
        start = date(int(found.group(1)), int(found.group(2)), 1)
        if not 2000 <= start.year <= 2100:
            raise ValueError
    except ValueError:
        raise ValueError(f"--month {label!r}: must look like 2026-11 (year 2000-2100)") from None
    after = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    return start, after - timedelta(days=1)


@dataclass
class Options:
    month: str
    start: date
    days: int
    seed: int
    suffix: str
    out: Path
    endpoint_url: str | None
    auditor: Path | None
    assembly: Path | None


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m demo.organization", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--month",
        default=last_complete_month(datetime.now(timezone.utc).date()),
        help="calendar month to simulate, e.g. 2026-11 (default: the last complete one)",
    )
    parser.add_argument("--days", type=int, help="simulate only the month's first N days")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the drift plans")
    parser.add_argument("--suffix", default="demo", help="environment suffix (default demo)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--endpoint-url", help="use this running emulator (fresh, on loopback)")
    parser.add_argument(
        "--auditor", type=Path, help="auditor binary (default: cargo build --release in auditor/)"
    )
    parser.add_argument(
        "--assembly",
        type=Path,
        help="cloud assembly of the organization shape for the suffix (default: cdk.out when "
        "current, else the shape is synthesized with the Makefile's example settings)",
    )
    args = parser.parse_args(argv)
    start, days, _ = resolve_period(parser, args, "--month", args.month, month_bounds)
    return Options(
        args.month,
        start,
        days,
        args.seed,
        args.suffix,
        args.out,
        args.endpoint_url,
        args.auditor,
        args.assembly,
    )


# -- the organization in the emulator ------------------------------------------------------------------
class MemberNames:
    """What ``estate.Account`` asks of its names, for one member account and region: the estate's
    bucket names carry the account and region (S3 names are global), the recorder is Control
    Tower's, the reports go to the central bucket."""

    def __init__(self, trail: MemberTrail) -> None:
        self.trail = trail

    @property
    def report_bucket(self) -> str:
        return self.trail.variables["REPORT_BUCKET"]

    @property
    def recorder(self) -> str:
        return RECORDER

    @property
    def rules(self) -> list[dict[str, str]]:
        return monitored_rules(self.trail.rules)

    def bucket(self, name: str) -> str:
        return f"{name}-{self.trail.account}-{self.trail.region}"


@dataclass
class Trail:
    """One member account and region: its deployment, its drift plan and its emulated estate."""

    member: Member
    deployment: MemberTrail
    scenario: Scenario
    expectation: Expectation
    account: Account
    schedule: SimulatedSchedule | None = None
    reports: int = 0

    @property
    def label(self) -> str:
        return f"{self.member.account}/{self.deployment.region}"


def plan(start: date, days: int, seed: int, index: int, recorder_off: bool) -> Scenario:
    """A trail's drift plan: the single demo's, seeded per trail, every day reported; the recorder
    off for a week (``RECORDER_OFF_DAYS``, shorter on a short run) from the end of the first
    week, or never. No accepted risks: the members deploy the repository's exceptions register
    (the single demo shows exceptions, with a register of its own)."""
    scenario = Scenario.build(start, days, seed + index)
    off_day = max(1, days // 4)
    off_days = min(RECORDER_OFF_DAYS, days - off_day - 2) if recorder_off else 0
    return replace(
        scenario,
        skipped_days=(),
        recorder_off_day=off_day,
        recorder_off_days=off_days,
        exceptions=(),
    )


class OrganizationDemo:
    def __init__(self, options: Options, console: Console) -> None:
        self.o = options
        self.console = console
        self.out = options.out
        self.logs = self.out / "logs"
        self.end = options.start + timedelta(days=options.days - 1)
        self.emulator: LocalAwsClient | None = None
        self.org: OrganizationDeployment | None = None
        self.trails: list[Trail] = []
        self.evidence: dict[str, Any] = {}  # region -> estate clients of the evidence account
        self.inboxes: dict[str, str] = {}  # region -> inbox queue URL
        self.alerts: list[str] = []
        self.summary: dict[str, Any] = {}
        self.mismatches: list[str] = []

    # ---------------------------------------------------------------------------------------------
    def run(self) -> int:
        o, c = self.o, self.console
        c.line(
            f"compliance-audit organization demo: {o.days} simulated days of {o.month} "
            f"({o.start} .. {self.end}), seed {o.seed}, environment suffix {o.suffix!r}"
        )
        self.prepare_output()
        binary = self.auditor_binary()
        self.org = self.assembly()
        try:
            self.start_emulator()
            self.create_organization()
            started = time.monotonic()
            self.simulate()
            c.line(
                f"simulated {o.days} days x {len(self.trails)} trails in "
                f"{time.monotonic() - started:.1f} s"
            )
            self.collect_witnesses()
            self.legitimate_denials()
            self.trespass()
            accounts = self.accounts_file()
            self.verify(binary, accounts)
            self.timeline(binary, accounts)
        finally:
            if isinstance(self.emulator, LocalAwsProcess):
                self.emulator.stop()
                c.line(f"\nemulator stopped (pid {self.emulator.pid})")
        self.finish()
        return 1 if self.mismatches else 0

    def prepare_output(self) -> None:
        """Clear what an earlier run left; never touch a folder the demo did not create."""
        claim_output(self.out, "python -m demo.organization")
        for stale in ("logs", "timeline"):
            shutil.rmtree(self.out / stale, ignore_errors=True)
        for path in [*self.out.glob("timeline-*"), *self.out.glob("verify*")]:
            path.unlink()
        for name in ("summary.json", "witnesses.txt", "accounts.txt"):
            (self.out / name).unlink(missing_ok=True)
        self.logs.mkdir()

    def auditor_binary(self) -> Path:
        if self.o.auditor is not None:
            return self.o.auditor
        self.console.step("building the auditor (cargo build --release --locked)")
        return auditor_mod.build()

    def assembly(self) -> OrganizationDeployment:
        """``--assembly``, else ``cdk.out`` when it holds the suffix's organization shape and the code
        has not changed since, else the shape synthesized with ``CONTEXT``."""
        c, o = self.console, self.o
        try:
            if o.assembly is not None:
                if not (o.assembly / "manifest.json").is_file():
                    raise UsageError(f"--assembly {o.assembly}: not a cloud assembly")
                folder = o.assembly
            elif is_current(REPO / "cdk.out", o.suffix):
                folder = REPO / "cdk.out"
            else:
                c.step(f"synthesizing the organization shape for suffix {o.suffix!r} (app.py)")
                folder = synthesize_organization(o.suffix, CONTEXT)
            org = describe_organization(folder, o.suffix)
        except (OrganizationError, DeploymentError) as e:
            raise UsageError(str(e)) from None
        if len(org.regions) < 1:
            raise UsageError(f"{folder}: the organization shape has no deployment region")
        return org

    def start_emulator(self) -> None:
        c = self.console
        if self.o.endpoint_url:
            self.emulator = LocalAwsClient(self.o.endpoint_url)
            self.emulator.health()
            c.step(f"using the emulator at {self.emulator.endpoint_url}")
        else:
            c.step("starting the local AWS emulator (tools/local_aws) on a free loopback port")
            spawned = spawn(log_path=self.logs / "emulator.log")
            self.emulator = spawned
            c.line(f"emulator listening on {spawned.endpoint_url} (pid {spawned.pid})")

    def create_organization(self) -> None:
        """The evidence stacks' resources (central bucket, the organization's topic per region with
        the security team's inbox), and in each member account and region what the StackSet creates
        (the rules, the witness parameter) and what the landing zone has (the recorder), and the
        estate; then IAM enforced as every template says."""
        assert self.emulator is not None and self.org is not None
        c, o, org = self.console, self.o, self.org
        self.emulator.set_clock(
            utc_text(datetime.combine(o.start, datetime.min.time(), timezone.utc))
        )
        url = self.emulator.endpoint_url
        evidence_key = admin_key(org.evidence_account)
        c.step(
            f"evidence account {org.evidence_account}: central bucket, topics; organization "
            f"{org.organization_id}"
        )
        for region in org.regions:
            self.evidence[region] = seed.clients(url, region, access_key=evidence_key)
        home = self.evidence["us-east-1"] if "us-east-1" in self.evidence else None
        home = home or self.evidence[org.regions[0]]
        existing = {b["Name"] for b in home.s3.list_buckets().get("Buckets", [])}
        if org.central_bucket in existing:
            raise UsageError(
                f"{url}: the emulator already has {org.central_bucket}; use a fresh one"
            )
        seed.create_bucket(home.s3, org.central_bucket, encrypted=True)
        home.s3.put_bucket_versioning(
            Bucket=org.central_bucket, VersioningConfiguration={"Status": "Enabled"}
        )
        c.line(f"central bucket s3://{org.central_bucket} (versioned, SSE-S3)")
        for region in org.regions:
            clients = self.evidence[region]
            topic = clients.sns.create_topic(Name=org.topic_names[region])["TopicArn"]
            self.inboxes[region] = seed.subscribe_queue(clients.sns, clients.sqs, topic, INBOX)
            # The landing zone's log archive, where Control Tower's recorders deliver.
            seed.create_bucket(clients.s3, self.delivery_bucket(region), encrypted=True)
            c.line(f"{region}: topic {topic} -> SQS queue {INBOX} (the security team's inbox)")

        c.step(
            f"member part (StackSet {org.suffix}) in {len(MEMBERS)} accounts x "
            f"{len(org.regions)} regions; {WITHOUT_TRAIL.account} ({WITHOUT_TRAIL.name}) never got it"
        )
        for index, (member, region) in enumerate((m, r) for m in MEMBERS for r in org.regions):
            trail = org.member(member.account, region)
            scenario = plan(o.start, o.days, o.seed, index, member.account == RECORDER_OFF)
            account = Account(
                url,
                MemberNames(trail),  # type: ignore[arg-type]
                region=region,
                access_key=admin_key(member.account),
            )
            self.seed_member(account, trail)
            account.create_estate(scenario.resources)
            self.trails.append(Trail(member, trail, scenario, scenario.expect(), account))
            bad = sum(1 for r in scenario.resources if not r.initially_compliant)
            c.line(
                f"{member.account} {region:<9} {member.name:<22} {len(scenario.resources)} "
                f"resources ({bad} non-compliant), role {trail.role} -> {trail.report_prefix}"
            )
        request = org.iam_request([m.account for m in MEMBERS])
        status = self.emulator.load_iam(request.pop("template"), **request)
        c.line(
            f"IAM enforced across {len(status['members']) + 1} templates: the central bucket's "
            f"policy, {len(org.regions)} regional topic policies, the member part in "
            f"{len(MEMBERS) * len(org.regions)} account-regions"
        )

    def delivery_bucket(self, region: str) -> str:
        assert self.org is not None
        return f"aws-controltower-logs-{self.org.evidence_account}-{region}"

    def seed_member(self, account: Account, trail: MemberTrail) -> None:
        """What the StackSet creates in the account and region (the rules, the witness parameter)
        and what the landing zone already runs there (Control Tower's recorder)."""
        clients = account.clients
        put_rules(clients.config, trail.rules)
        seed.start_recording(
            clients.config,
            self.delivery_bucket(trail.region),
            recorder=RECORDER,
            channel=DELIVERY_CHANNEL,
            role_arn=f"arn:aws:iam::{trail.account}:role/aws-controltower-ConfigRecorderRole",
        )
        clients.ssm.put_parameter(
            Name=trail.witness_parameter["name"],
            Value=trail.witness_parameter["value"],
            Type="String",
        )

    # ---------------------------------------------------------------------------------------------
    def simulate(self) -> None:
        assert self.emulator is not None and self.org is not None
        c, o = self.console, self.o
        off = next(t.scenario for t in self.trails if t.member.account == RECORDER_OFF)
        c.step(
            f"simulating {o.days} days: the report generator of every member account and region "
            f"at 06:00 UTC; {RECORDER_OFF}'s recorders off {o.start + timedelta(off.recorder_off_day)}"
            f" .. {o.start + timedelta(off.recorder_off_day + off.recorder_off_days - 1)}"
        )
        header = "  ".join(f"{m.name[:11]:<11}" for m in MEMBERS)
        regions = "/".join(self.org.regions)
        c.line(f"day  date        reports  open findings per account ({regions})  inbox  notes")
        c.line(f"                          {header}")
        kinds = {}
        with open(self.logs / "report-generator.jsonl", "w", encoding="utf-8") as log:
            for trail in self.trails:
                url = self.emulator.endpoint_url
                trail.schedule = SimulatedSchedule(
                    trail.deployment.function_environment(url),
                    o.suffix,
                    o.seed,
                    log,
                    account=trail.member.account,
                    region=trail.deployment.region,
                )
                kinds[trail.label] = {
                    v: k for k, v in rule_names_by_kind(trail.account.names.rules).items()
                }
            for day in range(o.days):
                moment = datetime.combine(o.start + timedelta(day), REPORT_TIME, timezone.utc)
                self.emulator.set_clock(utc_text(moment))
                notes: list[str] = []
                stored = 0
                open_by_account: dict[str, list[int]] = {m.account: [] for m in MEMBERS}
                for trail in self.trails:
                    stored += self.run_trail(trail, day, moment, kinds[trail.label], notes)
                    open_by_account[trail.member.account].append(trail.expectation.days[day].total)
                arrived = self.drain_inboxes()
                self.alerts.extend(arrived)
                cells = "  ".join(
                    f"{'/'.join(str(n) for n in counts):<11}" for counts in open_by_account.values()
                )
                c.line(
                    f"{day + 1:>3}  {o.start + timedelta(day)}  {stored}/{len(self.trails)}"
                    f"      {cells}  +{len(arrived):<4} {'; '.join(sorted(set(notes)))}"
                )
        self.alerts.extend(self.drain_inboxes(settle_s=1.0))

    def run_trail(
        self,
        trail: Trail,
        day: int,
        moment: datetime,
        kind_of_rule: dict[str, str],
        notes: list[str],
    ) -> int:
        """One trail's day: the recorder and the estate's changes, then the scheduled report."""
        s, want = trail.scenario, trail.expectation.days[day]
        if s.recorder_stops_on(day):
            trail.account.stop_recorder()
            notes.append(f"{trail.member.account} RECORDERS STOPPED")
        elif s.recorder_starts_on(day):
            trail.account.start_recorder()
            notes.append(f"{trail.member.account} recorders started")
        for change in want.changes:
            trail.account.apply(change)
        assert trail.schedule is not None
        result = trail.schedule.run_day(moment)
        if result.get("outcome") != "stored":
            raise Mismatch(f"{want.date} {trail.label}: the report generator answered {result}")
        key = result["reportKey"]
        if not key.startswith(trail.deployment.report_prefix):
            self.mismatches.append(f"{trail.label}: report {key} outside its trail")
        report = json.loads(self.read(key))
        by_kind = {k: 0 for k in want.by_kind}
        for rule, count in report["summary"]["byRule"].items():
            by_kind[kind_of_rule[rule]] = count
        if by_kind != want.by_kind:
            self.mismatches.append(
                f"{want.date} {trail.label}: report {key} lists {counts_text(by_kind)}, the "
                f"simulation says {counts_text(want.by_kind)}"
            )
        if report["monitoring"]["healthy"] != want.recorder_on:
            self.mismatches.append(
                f"{want.date} {trail.label}: monitoring healthy={report['monitoring']['healthy']}, "
                f"the recorder {'on' if want.recorder_on else 'off'}"
            )
        trail.reports += 1
        return 1

    def read(self, key: str) -> bytes:
        assert self.org is not None
        s3 = next(iter(self.evidence.values())).s3
        return bytes(s3.get_object(Bucket=self.org.central_bucket, Key=key)["Body"].read())

    def drain_inboxes(self, settle_s: float = 0.0) -> list[str]:
        """Every message of the organization's inboxes (one per region), received and deleted."""
        messages: list[str] = []
        quiet_since = time.monotonic()
        while True:
            got = 0
            for region, url in self.inboxes.items():
                sqs = self.evidence[region].sqs
                batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get(
                    "Messages", []
                )
                for message in batch:
                    messages.append(json.loads(message["Body"])["Message"])
                if batch:
                    got += len(batch)
                    sqs.delete_message_batch(
                        QueueUrl=url,
                        Entries=[
                            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                            for i, m in enumerate(batch)
                        ],
                    )
            if got:
                quiet_since = time.monotonic()
                continue
            if time.monotonic() - quiet_since >= settle_s:
                return messages
            time.sleep(0.1)

    # ---------------------------------------------------------------------------------------------
    def collect_witnesses(self) -> None:
        path = self.out / "witnesses.txt"
        count = tamper_mod.export_witnesses(self.alerts, path)
        self.summary["witnesses"] = count
        self.console.line(
            f"exported {count} witness lines from the organization's inboxes to {path}"
        )

    def legitimate_denials(self) -> None:
        """Every request of the simulation was a member doing its job: none may have been denied."""
        assert self.emulator is not None
        status = self.emulator.iam()
        self.summary["iam"] = {"deniedLegitimate": status.get("denied", 0)}
        for denial in status.get("recentDenials", [])[:5]:
            self.mismatches.append(f"IAM denied {denial['principal']}: {denial['message']}")

    def trespass(self) -> None:
        """A member's role (its own policies, the central bucket's policy) against another member's
        trail and its own reports: a write under another account's prefix and a delete of its own
        newest report are both refused."""
        assert self.emulator is not None and self.org is not None
        c = self.console
        intruder, victim = (
            self.trails[0],
            next(t for t in self.trails if t.member.account != self.trails[0].member.account),
        )
        c.step(
            f"{intruder.member.account} ({intruder.member.name}) tries another member's trail and "
            "its own reports"
        )
        s3 = boto3.client(
            "s3",
            endpoint_url=self.emulator.endpoint_url,
            region_name=intruder.deployment.region,
            aws_access_key_id=intruder.deployment.access_key,
            aws_secret_access_key="emulator",  # noqa: S106 (the emulator checks no signature)
            config=Config(retries={"mode": "standard", "max_attempts": 1}),
        )
        forged = f"{victim.deployment.report_prefix}{self.end:%Y/%m/%d}/99999999-forged.json"
        own = self.newest_key(intruder)
        attempts = (
            (
                "PutObject",
                forged,
                lambda: s3.put_object(
                    Bucket=self.org.central_bucket, Key=forged, Body=b"{}\n", IfNoneMatch="*"
                ),
            ),
            (
                "DeleteObject",
                own,
                lambda: s3.delete_object(Bucket=self.org.central_bucket, Key=own),
            ),
        )
        outcomes = []
        for operation, key, call in attempts:
            try:
                call()
                code, message = "allowed", ""
            except botocore.exceptions.ClientError as e:
                code, message = e.response["Error"]["Code"], e.response["Error"]["Message"]
            outcomes.append({"operation": operation, "key": key, "code": code, "message": message})
            c.line(f"  {operation} {key}: {code}")
            if message:
                c.line(f"    {message}")
            if code != "AccessDenied":
                self.mismatches.append(f"{intruder.label} {operation} {key}: {code}, not denied")
        denied = self.emulator.iam().get("denied", 0) - self.summary["iam"]["deniedLegitimate"]
        self.summary["iam"].update({"trespass": outcomes, "deniedTrespass": denied})
        if denied != len(attempts):
            self.mismatches.append(f"{denied} trespass requests denied, expected {len(attempts)}")

    def newest_key(self, trail: Trail) -> str:
        assert self.org is not None
        s3 = next(iter(self.evidence.values())).s3
        keys: list[str] = []
        for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.org.central_bucket, Prefix=trail.deployment.report_prefix
        ):
            keys.extend(o["Key"] for o in page.get("Contents", []))
        return sorted(keys)[-1]

    # ---------------------------------------------------------------------------------------------
    def accounts_file(self) -> Path:
        """The organization's accounts in scope, as an administrator keeps them (``--accounts``):
        each member account in each region, and the account that never got the member part."""
        assert self.org is not None
        path = self.out / "accounts.txt"
        lines = [
            "# The accounts of the StackSet's target OUs and the regions each must report from.",
            f"# {self.org.evidence_account} holds the evidence part (outside the target OUs).",
        ]
        for member in (*MEMBERS, WITHOUT_TRAIL):
            lines += [f"{member.account},{region} # {member.name}" for region in self.org.regions]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def auditor(self, binary: Path) -> auditor_mod.Auditor:
        assert self.emulator is not None
        return auditor_mod.Auditor(binary, self.emulator.endpoint_url, as_of=self.end)

    def verify(self, binary: Path, accounts: Path) -> None:
        assert self.org is not None
        c = self.console
        source = f"s3://{self.org.central_bucket}/"
        witnesses = self.out / "witnesses.txt"
        args = ("verify", source, "--accounts", str(accounts), "--witness", str(witnesses))
        c.step(f"auditor {' '.join(args)}  (through the emulator's S3 API)")
        auditor = self.auditor(binary)
        text = auditor.run(*args)
        (self.out / "verify.txt").write_text(text.stdout)
        # The heading and one line per trail (each trail's first and newest report are in verify.txt).
        shown = [
            line
            for line in text.stdout.strip().splitlines()
            if line.strip() and not line.lstrip().startswith(("first:", "newest:"))
        ]
        for line in shown[:40]:
            c.line(f"  {line}")
        run = auditor.run(*args, "--format", "json")
        (self.out / "verify.json").write_text(run.stdout)
        verdict = json.loads(run.stdout)
        problems = verdict["problems"]
        missing = [p for p in problems if p["code"] == "missing-account"]
        others = [p for p in problems if p["code"] != "missing-account"]
        trail_problems = {
            f"{t['account']}/{t['region']}": (t.get("verified") or {}).get("problems", [])
            for t in verdict["trails"]
        }
        broken = {k: v for k, v in trail_problems.items() if v}
        c.line(
            f"exit {run.returncode}: {verdict['summary']['trails']} trails, "
            f"{verdict['summary']['reports']} reports; organization findings: "
            + (", ".join(f"{p['code']} {p['key']}" for p in problems) or "none")
        )
        want_trails = sorted(t.label for t in self.trails)
        if sorted(trail_problems) != want_trails:
            self.mismatches.append(
                f"verify found trails {sorted(trail_problems)}, not {want_trails}"
            )
        if [p["key"] for p in missing] != [f"reports/{WITHOUT_TRAIL.account}/"] or others:
            self.mismatches.append(f"verify's organization findings {problems}")
        if broken:
            self.mismatches.append(f"verify found problems in trails: {broken}")
        if run.returncode != 1:
            self.mismatches.append(
                f"verify exited {run.returncode}, expected 1 (a missing account)"
            )
        reports = sum(t.reports for t in self.trails)
        if verdict["summary"]["reports"] != reports:
            self.mismatches.append(
                f"verify read {verdict['summary']['reports']} reports of {reports}"
            )
        self.summary["verify"] = {
            "exitCode": run.returncode,
            "trails": verdict["summary"]["trails"],
            "reports": verdict["summary"]["reports"],
            "problems": problems,
            "trailProblems": broken,
        }

    def timeline(self, binary: Path, accounts: Path) -> None:
        assert self.org is not None
        c, o = self.console, self.o
        source = f"s3://{self.org.central_bucket}/"
        period = ["--from", str(o.start), "--to", str(self.end)]
        c.step(f"auditor timeline {source} {' '.join(period)} --accounts {accounts}")
        auditor = self.auditor(binary)
        outputs: dict[str, Path] = {}
        label = (
            o.month
            if o.days == (month_bounds(o.month)[1] - o.start).days + 1
            else (f"{o.start}_{self.end}")
        )
        for fmt, name in (
            ("html", "timeline"),
            ("csv", f"timeline-{label}.csv"),
            ("md", f"timeline-{label}.md"),
            ("json", f"timeline-{label}.json"),
        ):
            path = self.out / name
            auditor.run(
                "timeline",
                source,
                *period,
                "--accounts",
                str(accounts),
                "--format",
                fmt,
                "-o",
                str(path) + ("/" if fmt == "html" else ""),
            )
            outputs[fmt] = path
            size = (
                sum(p.stat().st_size for p in path.iterdir())
                if path.is_dir()
                else path.stat().st_size
            )
            shown = f"{path}/index.html and a page per trail" if path.is_dir() else str(path)
            c.line(f"  wrote {shown}  ({size:,} bytes)")
        document = json.loads(outputs["json"].read_text())
        self.check_timeline(document)
        self.summary["timeline"] = {k: str(v) for k, v in outputs.items()}

    def check_timeline(self, document: dict[str, Any]) -> None:
        """The roll-up and every trail's detail against the simulation."""
        c = self.console
        rows = {f"{r['account']}/{r['region']}": r for r in document["byTrail"]}
        details = {f"{t['account']}/{t['region']}": t["timeline"] for t in document["trails"]}
        c.line(
            f"  {'account':<12} {'region':<10} {'name':<22} reports  monitoring-off days  "
            "open at end  opened  resolved"
        )
        matched = 0
        for trail in self.trails:
            row, detail = rows.get(trail.label), details.get(trail.label)
            if row is None or detail is None:
                self.mismatches.append(f"the timeline has no trail {trail.label}")
                continue
            off = sum(1 for d in trail.expectation.days if not d.recorder_on)
            c.line(
                f"  {trail.member.account:<12} {trail.deployment.region:<10} "
                f"{trail.member.name:<22} {row['reportsChecked']:>7}  "
                f"{row['daysWithMonitoringIssues']:>19}  {row['openAtEnd']:>11}  "
                f"{row['opened']:>6}  {row['resolved']:>8}"
            )
            if row["daysWithMonitoringIssues"] != off:
                self.mismatches.append(
                    f"{trail.label}: {row['daysWithMonitoringIssues']} days with monitoring "
                    f"issues, the recorder was off {off}"
                )
            names = rule_names_by_kind(trail.account.names.rules)
            ids = {
                (r.kind, r.name, g): rid
                for r in trail.scenario.resources
                for g, rid in enumerate(trail.account.id_history[r.name])
            }
            differences = timeline_differences(detail, trail.expectation, names, ids)
            self.mismatches.extend(f"{trail.label}: {d}" for d in differences)
            matched += not differences
        problems = [p["code"] + " " + p["key"] for p in document["problems"]]
        c.line(
            f"  {matched} of {len(self.trails)} trails match their simulation day by day "
            f"(open findings per rule, exposure windows); organization findings: "
            + (", ".join(problems) or "none")
        )
        if f"missing-account reports/{WITHOUT_TRAIL.account}/" not in problems:
            self.mismatches.append(f"the timeline does not report {WITHOUT_TRAIL.account} missing")
        worst = document.get("worstExposures", [])[:3]
        for e in worst:
            c.line(
                f"  worst exposure: {e['account']}/{e['region']} ({e['name']}) {e['rule']} "
                f"{e['resourceId']}: {e['daysNonCompliant']} days"
            )
        self.summary["timelineMatchesScenario"] = matched == len(self.trails)

    # ---------------------------------------------------------------------------------------------
    def finish(self) -> None:
        c, o = self.console, self.o
        runtime = c.elapsed
        off = [t for t in self.trails if t.member.account == RECORDER_OFF]
        self.summary.update(
            {
                "format": "compliance-audit-organization-demo/1",
                "month": o.month,
                "start": o.start.isoformat(),
                "end": self.end.isoformat(),
                "days": o.days,
                "seed": o.seed,
                "suffix": o.suffix,
                "centralBucket": self.org.central_bucket if self.org else None,
                "evidenceAccount": self.org.evidence_account if self.org else None,
                "organizationId": self.org.organization_id if self.org else None,
                "regions": list(self.org.regions) if self.org else [],
                "members": [{"account": m.account, "name": m.name} for m in MEMBERS],
                "withoutTrail": {"account": WITHOUT_TRAIL.account, "name": WITHOUT_TRAIL.name},
                "recorderOff": {
                    "account": RECORDER_OFF,
                    "days": [
                        d.date.isoformat() for d in off[0].expectation.days if not d.recorder_on
                    ]
                    if off
                    else [],
                },
                "trails": [
                    {
                        "account": t.member.account,
                        "region": t.deployment.region,
                        "reports": t.reports,
                    }
                    for t in self.trails
                ],
                "alerts": len(self.alerts),
                "mismatches": self.mismatches,
                "runtimeSeconds": round(runtime, 1),
            }
        )
        (self.out / "summary.json").write_text(json.dumps(self.summary, indent=2) + "\n")
        reports = sum(t.reports for t in self.trails)
        iam = self.summary.get("iam", {})
        c.step("summary")
        c.line(
            f"trails               {len(self.trails)} ({len(MEMBERS)} accounts x "
            f"{len(self.org.regions) if self.org else 0} regions), {reports} reports in "
            f"s3://{self.summary['centralBucket']}/reports/<account>/<region>/"
        )
        c.line(
            f"missing account      {WITHOUT_TRAIL.account} ({WITHOUT_TRAIL.name}): no trail, "
            "reported by auditor verify and timeline from the account list"
        )
        days = self.summary["recorderOff"]["days"]
        if days:
            c.line(
                f"recorder off         {RECORDER_OFF} {days[0]} .. {days[-1]} ({len(days)} days) in "
                "every region: each of those reports shows it, and the timeline counts the days"
            )
        c.line(
            f"iam enforcement      {iam.get('deniedLegitimate')} of the members' requests denied; "
            f"{iam.get('deniedTrespass')} trespass requests denied (another member's prefix, a "
            "delete)"
        )
        c.line(
            f"witnesses            {self.summary.get('witnesses')} from the organization's inboxes"
        )
        c.line(
            f"outputs              {self.out}/timeline/index.html (a page per trail), "
            f"{self.out}/timeline-*.csv, .md, .json,"
        )
        c.line(
            f"                     {self.out}/verify.txt, verify.json, accounts.txt, summary.json"
        )
        c.line(
            "deploy for real      README, Organization: the evidence stacks, make "
            "publish-member-assets, then the StackSet"
        )
        c.line(f"runtime              {runtime:.1f} s")
        if self.mismatches:
            c.line(f"\nDIFFERENCES from the simulation ({len(self.mismatches)}):")
            for m in self.mismatches[:20]:
                c.line(f"  {m}")


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    return run_demo("demo.organization", lambda console: OrganizationDemo(options, console))


if __name__ == "__main__":
    sys.exit(main())
