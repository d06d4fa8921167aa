"""The platform end to end on this machine, no AWS account needed.

``python -m demo.run [--days N] [--out demo-output] [--quarter 2026-Q3] [--seed 2026]``

Starts the local AWS emulator enforcing the IAM policies of the stack synthesized for the suffix, creates
the stack's resources and a monitored estate in it, simulates a quarter day by day with the emulator's
clock (resources drift out of compliance and are fixed, the recorder is off one day, two days have no
report, two findings are accepted risks in the exceptions register, one of them expiring in the period)
while the daily evaluation runs as the scheduler's role, the real report generator handler,
as the function's role, writes the hash-chained trail, and the real alert formatter handler, as its
role, turns the day's AWS Config and CloudTrail events into the e-mails of the team's inbox; then runs
the auditor on the bucket through the S3 API, shows a tampered copy being caught, rewrites a copy of the
trail consistently and deletes its newest report as an administrator could, shows the inbox's witnesses
naming both, and prints a summary,
with how many requests IAM denied.
Exit status: 0 when everything behaved as simulated, 1 when an outcome differed from the simulation,
2 when the demo could not run, 130/143 when interrupted (the emulator is stopped in every case).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from datetime import time as clock_time
from pathlib import Path
from typing import Any, Callable

import yaml

from lib.exceptions.register import Register, RegisterError
from lib.exceptions.source import load_register
from lib.report_generator.runtime.compliance_report import environment as variables
from tools.local_aws import deployment as stack
from tools.local_aws.client import LocalAwsClient, LocalAwsError, LocalAwsProcess, spawn

from . import auditor as auditor_mod
from . import tamper as tamper_mod
from .check import rule_names_by_kind, timeline_differences
from .estate import REALTIME, REPORT, Account, Alert, Names
from .formatter import AlertFormatterRun
from .generator import SimulatedSchedule
from .scenario import MANAGED_RULES, MIN_DAYS, RESOURCE_TYPES, Expectation, Scenario

REPORT_TIME = clock_time(6, 0)  # the daily report's hour (UTC)
# The alert formatter's deliveries: after the changes queue's batching window (5 minutes by default).
FORMATTER_DELAY = timedelta(minutes=5)
EVALUATION_TIME = clock_time(5, 0)  # the daily StartConfigRulesEvaluation schedule's hour (UTC)
REPO = Path(__file__).resolve().parents[1]
MARKER = ".demo-output"


class Interrupted(BaseException):
    """SIGTERM, raised in the main thread so every ``finally`` runs as for Ctrl-C."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class Mismatch(Exception):
    pass


class UsageError(Exception):
    pass


# -- arguments -----------------------------------------------------------------------------------------
def last_complete_quarter(today: date) -> str:
    q = (today.month - 1) // 3  # the current quarter, 0-based; the previous one is complete
    return f"{today.year - 1}-Q4" if q == 0 else f"{today.year}-Q{q}"


def quarter_bounds(label: str) -> tuple[date, date]:
    try:
        year_text, q_text = label.split("-Q")
        year, q = int(year_text), int(q_text)
        if not 1 <= q <= 4 or not 2000 <= year <= 2100:
            raise ValueError
    except ValueError:
        raise ValueError(
            f"--quarter {label!r}: must look like 2026-Q3 (year 2000-2100, Q1-Q4)"
        ) from None
    start = date(year, 3 * q - 2, 1)
    end = date(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1) - timedelta(days=1)
    return start, end


@dataclass
class Options:
    quarter: str
    start: date
    days: int
    quarter_days: int
    seed: int
    suffix: str
    out: Path
    endpoint_url: str | None
    auditor: Path | None
    template: Path | None


def check_common(
    parser: argparse.ArgumentParser, args: argparse.Namespace, period: str, last_day: date
) -> None:
    """The checks both demos make (this one and ``demo.organization``): the simulated days lie in the
    past, the suffix is a short one, the emulator is on loopback; ``parser.error`` names the one
    broken."""
    if last_day >= datetime.now(timezone.utc).date():
        parser.error(
            f"{period}: the simulated days must be in the past (the auditor stops a period at "
            f"today); pick an earlier {period.split()[0].lstrip('-')}"
        )
    if not re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?", args.suffix):
        parser.error(
            f"--suffix {args.suffix!r}: must be 1-12 lower-case letters, digits or inner hyphens"
        )
    if args.endpoint_url and not re.fullmatch(
        r"http://(127\.\d+\.\d+\.\d+|localhost|\[::1\]):\d+/?", args.endpoint_url
    ):
        parser.error(
            f"--endpoint-url {args.endpoint_url!r}: must be http://127.0.0.1:PORT (loopback)"
        )


def resolve_period(
    parser: argparse.ArgumentParser,
    args: argparse.Namespace,
    flag: str,
    label: str,
    bounds: Callable[[str], tuple[date, date]],
) -> tuple[date, int, int]:
    """The simulated period of either demo: its first day, the days simulated (``--days``, else all)
    and the days it has; a bad label, day count or common setting is ``parser.error``."""
    try:
        start, end = bounds(label)
    except ValueError as e:
        parser.error(str(e))
    period_days = (end - start).days + 1
    days = period_days if args.days is None else args.days
    if not MIN_DAYS <= days <= period_days:
        parser.error(f"--days {days}: must be from {MIN_DAYS} to {period_days} for {label}")
    check_common(parser, args, f"{flag} {label}", start + timedelta(days=days - 1))
    return start, days, period_days


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m demo.run", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--quarter",
        default=last_complete_quarter(datetime.now(timezone.utc).date()),
        help="calendar quarter to simulate, e.g. 2026-Q3 (default: the last complete one)",
    )
    parser.add_argument(
        "--days", type=int, help="simulate only the quarter's first N days (default: all of them)"
    )
    parser.add_argument(
        "--seed", type=int, default=2026, help="seed of the drift plan (default 2026)"
    )
    parser.add_argument("--suffix", default="demo", help="environment suffix (default demo)")
    parser.add_argument("--out", type=Path, default=Path("demo-output"), help="output folder")
    parser.add_argument(
        "--endpoint-url",
        help="use this running emulator (fresh, on loopback) instead of starting one",
    )
    parser.add_argument(
        "--auditor", type=Path, help="auditor binary (default: cargo build --release in auditor/)"
    )
    parser.add_argument(
        "--template",
        type=Path,
        help="the synthesized template whose IAM policies the emulator enforces (default: "
        "cdk.out/ComplianceAudit-<suffix>.template.json when newer than the code, else the app is "
        "synthesized for the suffix)",
    )
    args = parser.parse_args(argv)
    start, days, quarter_days = resolve_period(
        parser, args, "--quarter", args.quarter, quarter_bounds
    )
    return Options(
        args.quarter,
        start,
        days,
        quarter_days,
        args.seed,
        args.suffix,
        args.out,
        args.endpoint_url,
        args.auditor,
        args.template,
    )


# -- output --------------------------------------------------------------------------------------------
def claim_output(out: Path, writer: str) -> None:
    """Make ``out`` the demo's: refuse a folder with contents the demo did not write, and mark it and
    every folder created for it (``make demo ORG=1`` writes ``demo-output/org/`` first, and ``make
    demo`` may then use ``demo-output/``)."""
    marker = out / MARKER
    if out.exists() and any(out.iterdir()) and not marker.exists():
        raise UsageError(
            f"--out {out}: folder exists and was not written by the demo; "
            "choose a new or empty folder"
        )
    created = [folder for folder in (out, *out.parents) if not folder.exists()]
    out.mkdir(parents=True, exist_ok=True)
    for folder in {out, *created}:
        (folder / MARKER).write_text(f"written by {writer}; safe to delete\n")


class Console:
    def __init__(self) -> None:
        self.started = time.monotonic()

    def step(self, text: str) -> None:
        print(f"\n== {text}", flush=True)

    def line(self, text: str = "") -> None:
        print(text, flush=True)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


def utc_text(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def counts_text(by_kind: dict[str, int]) -> str:
    return f"s3 {by_kind['s3']} rds {by_kind['rds']} ec2 {by_kind['ec2']}"


# -- the demo ------------------------------------------------------------------------------------------
class Demo:
    def __init__(self, options: Options, console: Console) -> None:
        self.o = options
        self.console = console
        self.scenario = Scenario.build(options.start, options.days, options.seed)
        self.expectation: Expectation = self.scenario.expect()
        self.out = options.out
        self.logs = self.out / "logs"
        self.emulator: LocalAwsClient | None = None
        self.deployment: stack.Deployment | None = None
        self.alerts: list[Alert] = []
        self.inbox: list[dict[str, Any]] = []
        self.summary: dict[str, Any] = {}
        self.mismatches: list[str] = []
        self.register: Register | None = None
        self.register_path: Path | None = None
        # Exception id -> the date of the report e-mail that paged its finding again after expiry.
        self.repaged: dict[str, str] = {}

    # ---------------------------------------------------------------------------------------------
    def run(self) -> int:
        o, c = self.o, self.console
        period = f"{self.scenario.start} .. {self.scenario.end}"
        c.line(
            f"compliance-audit demo: {o.days} simulated days of {o.quarter} ({period}), seed {o.seed}, "
            f"environment suffix {o.suffix!r}"
        )
        self.prepare_output()
        binary = self.auditor_binary()
        self.deployment = self.synthesized_stack()
        try:
            self.start_emulator()
            account = self.create_account()
            started = time.monotonic()
            reports = self.simulate(account)
            c.line(f"simulated {o.days} days in {time.monotonic() - started:.1f} s")
            self.audit(account, binary, reports)
            self.tamper(account, binary)
            self.rewrite(account, binary)
            self.iam_outcome()
        finally:
            if isinstance(self.emulator, LocalAwsProcess):
                self.emulator.stop()
                c.line(f"\nemulator stopped (pid {self.emulator.pid})")
        self.finish()
        return 1 if self.mismatches else 0

    def prepare_output(self) -> None:
        """Clear what an earlier run left in the output folder; never touch a folder the demo did not
        create (``--out .`` must not delete ./logs)."""
        claim_output(self.out, "python -m demo.run")
        for stale in ("tampered", "logs"):
            shutil.rmtree(self.out / stale, ignore_errors=True)
        for path in self.out.glob("timeline-*"):
            path.unlink()
        for name in (
            "summary.json",
            "verify.json",
            "verify.txt",
            "inbox.txt",
            "witnesses.txt",
            "exceptions.yaml",
            "exceptions-register.json",
        ):
            (self.out / name).unlink(missing_ok=True)
        self.logs.mkdir()

    def auditor_binary(self) -> Path:
        if self.o.auditor is not None:
            return self.o.auditor
        c = self.console
        c.step("building the auditor (cargo build --release --locked; minutes the first time)")
        started = time.monotonic()
        binary = auditor_mod.build()
        c.line(
            f"{binary.relative_to(auditor_mod.REPO)} ready in {time.monotonic() - started:.1f} s"
        )
        return binary

    def synthesized_stack(self) -> stack.Deployment:
        """The stack whose policies the emulator enforces: ``--template``, else ``make synth``'s
        output when the code has not changed since, else the app synthesized for the suffix."""
        c, o = self.console, self.o
        default = REPO / "cdk.out" / f"ComplianceAudit-{o.suffix}.template.json"
        try:
            if o.template is not None:
                if not o.template.is_file():
                    raise UsageError(f"--template {o.template}: no such file")
                deployment = stack.describe(o.template)
            elif stack.is_current(default):
                deployment = stack.describe(default)
            else:
                c.step(f"synthesizing the stack for suffix {o.suffix!r} (app.py, as cdk synth)")
                deployment = stack.for_suffix(o.suffix)
        except stack.DeploymentError as e:
            raise UsageError(str(e)) from None
        if deployment.suffix != o.suffix:
            raise UsageError(
                f"--template {o.template}: synthesized for suffix {deployment.suffix!r}, "
                f"not {o.suffix!r}"
            )
        return deployment

    def start_emulator(self) -> None:
        c, d = self.console, self.deployment
        assert d is not None
        if self.o.endpoint_url:
            self.emulator = LocalAwsClient(self.o.endpoint_url)
            self.emulator.health()
            c.step(f"using the emulator at {self.emulator.endpoint_url}")
        else:
            c.step("starting the local AWS emulator (tools/local_aws) on a free loopback port")
            spawned = spawn(log_path=self.logs / "emulator.log")
            self.emulator = spawned
            c.line(f"emulator listening on {spawned.endpoint_url} (pid {spawned.pid})")
        self.emulator.load_iam(d.template)
        c.line(
            f"IAM enforced as {_relative(Path(d.template))} says: the report generator signs as "
            f"role {d.roles['reportGenerator']}, the alert formatter as {d.roles['alertFormatter']}, "
            f"the daily evaluation as {d.roles['dailyEvaluation']}"
        )

    def create_account(self) -> Account:
        assert self.emulator is not None and self.deployment is not None
        c, s = self.console, self.scenario
        c.step("creating the monitored estate, AWS Config, the alert topic and the report bucket")
        account = Account(self.emulator.endpoint_url, Names(self.deployment))
        rules = account.names.rules
        account.refuse_if_used()
        self.emulator.set_clock(utc_text(datetime.combine(s.start, clock_time(0, 0), timezone.utc)))
        account.create_platform()
        # The account has a trail logging management events, so CloudTrail sends AWS Config's API
        # calls to EventBridge (README, "Real-time alerts": without one, stopping the recorder is
        # seen only in the next report).
        self.emulator.set_trail(True)
        account.create_estate(s.resources)
        for kind, label in (
            ("s3", "S3 buckets"),
            ("rds", "RDS instances"),
            ("ec2", "EC2 instances"),
        ):
            mine = [r for r in s.resources if r.kind == kind]
            bad = [r.name for r in mine if not r.initially_compliant]
            c.line(f"{len(mine)} {label:<14} non-compliant at the start: {', '.join(bad)}")
        c.line(
            f"AWS Config rules: {', '.join(r['name'] for r in rules)} "
            f"(recorder {account.names.recorder!r} on)"
        )
        d = self.deployment
        c.line(
            f"EventBridge rules {', '.join(r['name'] for r in d.event_rules)} -> queues "
            f"{d.changes_queue}, {d.monitoring_queue} -> alert formatter {d.formatter_name} "
            f"(digest above {self.digest_threshold} changes)"
        )
        c.line(
            f"alert topic {account.names.topic} -> SQS queue {account.names.inbox} "
            "(the security team's inbox); a CloudTrail trail records AWS Config's API calls"
        )
        c.line(f"report bucket {account.names.report_bucket} (versioned, SSE-S3)")
        self.accept_risks(account)
        return account

    def accept_risks(self, account: Account) -> None:
        """The demo's exceptions.yaml, as a reviewer would approve it at the start of the quarter,
        validated as synth validates the repository's (on the quarter's first day), and the register
        the function is deployed with: its canonical bytes stand in for the layer's file."""
        c, s = self.console, self.scenario
        document = {
            "maxDays": 365,
            "exceptions": [
                {
                    "id": x.id,
                    "rule": _short(account.names.rule_for(MANAGED_RULES[x.kind]), self.o.suffix),
                    "resourceType": RESOURCE_TYPES[x.kind],
                    "resourceId": account.id_history[x.name][0],
                    "reason": x.reason,
                    "approver": x.approver,
                    "ticket": x.ticket,
                    "created": s.date_of(x.created).isoformat(),
                    "expires": s.date_of(x.expires).isoformat(),
                }
                for x in s.exceptions
            ],
        }
        source = self.out / "exceptions.yaml"
        source.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
        try:
            # Imported here: the rules' module loads the CDK, which starts node, and a bad argument
            # must stay one line without node's banner.
            from lib.config_monitoring.infrastructure import exception_rules

            register = load_register(source, today=s.start, rules=exception_rules())
        except RegisterError as e:
            raise Mismatch(f"the demo's exceptions.yaml does not validate: {e}") from None
        self.register = register
        self.register_path = self.out / "exceptions-register.json"
        self.register_path.write_bytes(register.canonical_bytes())
        c.line(f"exceptions register {register.key} ({len(register.entries)} accepted risks):")
        for x in s.exceptions:
            c.line(
                f"  {x.id}  {x.kind} {x.name}  {s.date_of(x.created)} .. {s.date_of(x.expires)}  "
                f"approved by {x.approver} ({x.ticket})"
            )

    def simulate(self, account: Account) -> list[dict[str, Any]]:
        assert self.emulator is not None
        c, s = self.console, self.scenario
        assert self.deployment is not None
        assert self.register is not None and self.register_path is not None
        # The demo's register in place of the repository's: what a deploy with it would set.
        env = self.deployment.function_environment(
            account.endpoint_url,
            **{
                variables.EXCEPTIONS_REGISTER_KEY: self.register.key,
                variables.EXCEPTIONS_REGISTER_PATH: str(self.register_path),
            },
        )
        c.step(
            f"simulating {s.days} days: drift and fixes, the recorder off on "
            f"{s.date_of(s.recorder_off_day)}, no report on "
            f"{' and '.join(str(s.date_of(d)) for d in s.skipped_days)}"
        )
        c.line("day  date        report  open findings          inbox  what happened")
        results: list[dict[str, Any]] = []
        kind_of_rule = {v: k for k, v in rule_names_by_kind(account.names.rules).items()}
        d = self.deployment
        queues = {q: account.queue_url(q) for q in (d.changes_queue, d.monitoring_queue)}
        with (
            open(self.logs / "report-generator.jsonl", "w", encoding="utf-8") as log,
            open(self.logs / "alert-formatter.jsonl", "w", encoding="utf-8") as formatter_log,
        ):
            schedule = SimulatedSchedule(env, self.o.suffix, self.o.seed, log)
            formatter = AlertFormatterRun(d, account.endpoint_url, queues, formatter_log)
            for day, want in enumerate(self.expectation.days):
                evaluation = datetime.combine(want.date, EVALUATION_TIME, timezone.utc)
                self.emulator.set_clock(utc_text(evaluation))
                account.daily_evaluation()
                moment = datetime.combine(want.date, REPORT_TIME, timezone.utc)
                self.emulator.set_clock(utc_text(moment))
                notes = []
                if day == s.recorder_off_day:
                    account.stop_recorder()
                    notes.append("RECORDER STOPPED")
                elif day == s.recorder_off_day + 1:
                    account.start_recorder()
                    notes.append("recorder started")
                for change in want.changes:
                    account.apply(change)
                    notes.append(f"{change.action} {change.kind} {change.name}")
                for x in s.exceptions:
                    if day == x.created:
                        notes.append(f"{x.id} in force for {x.kind} {x.name}")
                    elif day == x.expires + 1:
                        notes.append(f"{x.id} expired")
                if want.reported:
                    result = schedule.run_day(moment)
                    if result.get("outcome") != "stored":
                        raise Mismatch(f"{want.date}: the report generator answered {result}")
                    results.append(result)
                    stored = json.loads(account.read(result["reportKey"]))
                    by_kind = {k: 0 for k in want.by_kind}
                    for rule, count in stored["summary"]["byRule"].items():
                        by_kind[kind_of_rule[rule]] = count
                    report = f"#{result['sequence']:<5}"
                    found = f"{sum(by_kind.values()):>2} ({counts_text(by_kind)})"
                    if by_kind != want.by_kind:
                        self.mismatches.append(
                            f"{want.date}: report {result['reportKey']} lists {by_kind}, "
                            f"the simulation says {want.by_kind}"
                        )
                        found += " !="
                    excepted = {k: 0 for k in want.by_kind}
                    for rule, count in stored["summary"]["exceptedByRule"].items():
                        excepted[kind_of_rule[rule]] = count
                    if excepted != want.excepted_by_kind:
                        self.mismatches.append(
                            f"{want.date}: report {result['reportKey']} excepts {excepted}, "
                            f"the simulation says {want.excepted_by_kind}"
                        )
                        found += " !="
                    if sum(excepted.values()):
                        notes.append(f"{sum(excepted.values())} excepted")
                    if not stored["monitoring"]["healthy"]:
                        codes = sorted({p["code"] for p in stored["monitoring"]["problems"]})
                        notes.append(f"report shows {', '.join(codes)}")
                else:
                    report, found = "none  ", " -"
                    notes.append("no report today")
                # The alert formatter's event source mappings: the day's events, as one batch each.
                self.emulator.set_clock(utc_text(moment + FORMATTER_DELAY))
                formatter.run()
                arrived = account.drain_inbox()
                c.line(
                    f"{day + 1:>3}  {want.date}  {report}  {found:<21}  +{len(arrived):<4}  "
                    + "; ".join(notes)
                )
                realtime = [a for a in arrived if a.kind == REALTIME]
                for alert in realtime:
                    c.line(f"       inbox: {alert.headline}")
                self.check_repaged(account, day, want, [a for a in arrived if a.kind == REPORT])
                self.check_inbox(want, realtime)
                self.inbox.append(
                    {"date": want.date.isoformat(), "subjects": [a.headline for a in realtime]}
                )
                self.alerts.extend(arrived)
        late = account.drain_inbox(settle_s=1.0)
        self.alerts.extend(late)
        return results

    def check_repaged(self, account: Account, day: int, want: Any, mails: list[Alert]) -> None:
        """The first report e-mail after an exception expired lists its still-open finding under
        "New": the accepted risk pages again."""
        for x in self.scenario.exceptions:
            if x.id in self.repaged or day <= x.expires or not want.reported:
                continue
            if (x.kind, x.name, 0) not in want.open_findings:
                self.repaged[x.id] = ""  # fixed before its exception ended: nothing to page
                continue
            resource_id = account.id_history[x.name][0]
            if any(resource_id in _section(m.message, "New (") for m in mails):
                self.repaged[x.id] = want.date.isoformat()
                self.console.line(
                    f"       {x.id} expired: {x.kind} {x.name} is under New in the report e-mail"
                )
            else:
                self.repaged[x.id] = ""
                self.mismatches.append(
                    f"{want.date}: {x.id} expired but the report e-mail does not list "
                    f"{resource_id} under New"
                )

    @property
    def digest_threshold(self) -> int:
        assert self.deployment is not None
        return int(self.deployment.formatter_variables["DIGEST_THRESHOLD"])

    def check_inbox(self, want: Any, realtime: list[Alert]) -> None:
        """The day's real-time e-mails against the simulation: one per change or one digest, and a
        monitoring alert on the days the recorder is stopped and started."""
        got = Counter(a.realtime_kind for a in realtime)
        singles, digests = want.change_emails(self.digest_threshold)
        expected = {"compliance-change": singles, "digest": digests}
        expected["monitoring"] = want.monitoring_alerts
        for kind, count in expected.items():
            if got[kind] != count:
                self.mismatches.append(
                    f"{want.date}: {got[kind]} {kind} e-mail(s) in the inbox, expected {count}"
                )

    def write_inbox(self) -> None:
        """The real-time e-mails as the team reads them, in ``inbox.txt``."""
        with open(self.out / "inbox.txt", "w", encoding="utf-8") as out:
            for alert in (a for a in self.alerts if a.kind == REALTIME):
                out.write(f"Subject: {alert.subject}\n")
                attributes = ", ".join(f"{k}={v}" for k, v in sorted(alert.attributes.items()))
                out.write(f"Message attributes: {attributes}\n\n{alert.message}\n{'-' * 72}\n")

    def audit(self, account: Account, binary: Path, results: list[dict[str, Any]]) -> None:
        c, s, e = self.console, self.scenario, self.expectation
        auditor = auditor_mod.Auditor(binary, account.endpoint_url, as_of=self.scenario.end)
        source = f"s3://{account.names.report_bucket}/reports/"
        c.step(f"auditor verify {source}  (through the emulator's S3 API)")
        text = auditor.run("verify", source)
        (self.out / "verify.txt").write_text(text.stdout)
        for line in text.stdout.strip().splitlines()[:12]:
            c.line(f"  {line}")
        verify = auditor.run("verify", source, "--format", "json")
        (self.out / "verify.json").write_text(verify.stdout)
        verdict = json.loads(verify.stdout)
        missing = sorted({d for g in verdict.get("gaps", []) for d in g.get("missingDates", [])})
        skipped = [s.date_of(d).isoformat() for d in s.skipped_days]
        c.line(
            f"exit {verify.returncode}: chain {'INTACT' if verdict['intact'] else 'BROKEN'}, "
            f"{verdict['reports']} reports, {len(verdict['problems'])} chain problems, "
            f"days without a report: {', '.join(missing) or 'none'}"
        )
        if not verdict["intact"] or verdict["problems"]:
            self.mismatches.append(f"auditor verify found chain problems: {verdict['problems']}")
        if verdict["reports"] != e.reports or len(results) != e.reports:
            self.mismatches.append(
                f"{verdict['reports']} reports in the bucket, expected {e.reports}"
            )
        if missing != skipped:
            self.mismatches.append(f"days without a report {missing}, simulated {skipped}")

        full = s.days == self.o.quarter_days
        period = (
            ["--quarter", self.o.quarter] if full else ["--from", str(s.start), "--to", str(s.end)]
        )
        label = self.o.quarter if full else f"{s.start}_{s.end}"
        c.step(f"auditor timeline {source} {' '.join(period)}")
        outputs = {}
        for fmt, ext in (("html", "html"), ("csv", "csv"), ("md", "md"), ("json", "json")):
            path = self.out / f"timeline-{label}.{ext}"
            auditor.run("timeline", source, *period, "--format", fmt, "-o", str(path))
            outputs[fmt] = path
            c.line(f"  wrote {path}  ({path.stat().st_size:,} bytes)")
        timeline = json.loads(outputs["json"].read_text())
        names = rule_names_by_kind(account.names.rules)
        ids = self.resource_ids(account)
        differences = timeline_differences(timeline, e, names, ids)
        if differences:
            self.mismatches.extend(differences)
            c.line(f"  timeline DIFFERS from the simulation in {len(differences)} ways:")
            for d in differences[:10]:
                c.line(f"    {d}")
        else:
            c.line(
                f"  timeline matches the simulation exactly: {len(timeline['days'])} days x "
                f"{len(names)} rules, {len(e.windows)} exposure windows"
            )
        for stats in timeline["ruleStats"]:
            mean = stats["meanDaysToRemediate"]
            c.line(
                f"  {stats['rule']:<32} opened {stats['opened']:>2}  resolved {stats['resolved']:>2}  "
                f"open at end {stats['openAtEnd']:>2}  mean days to fix "
                + ("-" if mean is None else f"{mean:.1f}")
            )
        mon = timeline["monitoring"]
        c.line(
            f"  monitoring on {mon['daysMonitoringOn']} of {mon['daysInSeries']} days; "
            f"{mon['daysWithoutReport']} without a report, {mon['daysWithIssues']} with issues"
        )
        self.summary.update(
            {
                "verify": {
                    "exitCode": verify.returncode,
                    "intact": verdict["intact"],
                    "reports": verdict["reports"],
                    "problems": verdict["problems"],
                    "missingDates": missing,
                },
                "timeline": {k: str(v) for k, v in outputs.items()},
                "timelineMatchesScenario": not differences,
                "resourceIds": {f"{k}/{n}/{g}": rid for (k, n, g), rid in ids.items()},
                "ruleNames": names,
            }
        )

    def resource_ids(self, account: Account) -> dict[tuple[str, str, int], str]:
        ids: dict[tuple[str, str, int], str] = {}
        for r in self.scenario.resources:
            for generation, rid in enumerate(account.id_history[r.name]):
                ids[(r.kind, r.name, generation)] = rid
        return ids

    def tamper(self, account: Account, binary: Path) -> None:
        c = self.console
        c.step("tampering with a copy of the trail")
        folder = self.out / "tampered"
        keys = account.report_keys()
        for key in keys:
            path = folder / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(account.read(key))
        marker = b'"totalNonCompliant":'
        target, start, position = None, -1, -1
        for key in (
            keys[len(keys) // 2 : -1] + keys[1 : len(keys) // 2]
        ):  # a report with a successor
            raw = (folder / key).read_bytes()
            at = raw.find(marker) + len(marker)
            end = at
            while raw[end : end + 1].isdigit():
                end += 1
            digits = raw[at:end]
            # Lower the count by one in its last digit, so the file keeps its length and the
            # report still lists findings.
            if digits and digits[-1:] in b"123456789" and digits != b"1":
                target, start, position = key, at, end - 1
                break
        if target is None:
            raise Mismatch("no report with a successor and findings to tamper with")
        path = folder / target
        raw = bytearray(path.read_bytes())
        before = raw[start : position + 1].decode()
        raw[position] -= 1
        path.write_bytes(bytes(raw))
        after = raw[start : position + 1].decode()
        for key in account.register_keys():
            path = folder / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(account.read(key))
        c.line(f"copied {len(keys)} reports and their register to {folder}/ through the S3 API")
        c.line(f"changed one byte of {target}: totalNonCompliant {before} -> {after}")
        auditor = auditor_mod.Auditor(binary, as_of=self.scenario.end)
        run = auditor.run("verify", str(folder), "--format", "json")
        verdict = json.loads(run.stdout)
        caught = [
            p for p in verdict["problems"] if p["code"] == "hash-mismatch" and target in p["detail"]
        ]
        c.line(f"auditor verify {folder}: exit {run.returncode}")
        for p in caught:
            c.line(f"  {p['code']} at {p['key']}:")
            c.line(f"    {p['detail']}")
        if run.returncode != 1 or not caught:
            self.mismatches.append(
                f"the tampered copy of {target} was not caught: {verdict['problems']}"
            )
        self.summary["tamper"] = {
            "key": target,
            "exitCode": run.returncode,
            "caught": bool(caught),
            "problems": verdict["problems"],
        }

    def rewrite(self, account: Account, binary: Path) -> None:
        """The attacker the witnesses are for (demo/tamper.py): report k edited and every later link
        recomputed, the newest report and the head erased, in a copy of the bucket; ``auditor verify``
        finds that trail intact alone, and names both with the inbox's witnesses."""
        c = self.console
        c.step("rewriting the trail as an administrator who may delete object versions")
        done = tamper_mod.rewrite_copy(
            account.clients.s3, account.names.report_bucket, account.report_keys(), account.read
        )
        c.line(f"copied the trail into s3://{done.bucket} (versioned), then, with the admin key:")
        c.line(f"  edited   {done.edited}: hid the finding {done.hidden}")
        c.line(f"  relinked {len(done.relinked)} later report(s): previousSha256 recomputed")
        c.line(f"  deleted  {done.deleted} (the newest) and chain/head.json, every version")
        witnesses = self.out / "witnesses.txt"
        count = tamper_mod.export_witnesses((a.message for a in self.alerts), witnesses)
        c.line(f"exported {count} witness lines from the inbox to {witnesses} (grep '^witness: ')")
        auditor = auditor_mod.Auditor(binary, account.endpoint_url, as_of=self.scenario.end)
        source = f"s3://{done.bucket}/reports/"
        alone = json.loads(auditor.run("verify", source, "--format", "json").stdout)
        # A copy of a bucket cannot keep S3's version ids, so there each 1.1 report's register
        # reference (key, version id) reads as missing; an administrator rewriting the trail in place
        # keeps them. This step is about the chain: register findings of the copy are left aside.
        chain_problems = [p for p in alone["problems"] if not p["code"].startswith("register-")]
        alone["intact"] = not chain_problems
        c.line(
            f"auditor verify {source}: chain {'INTACT' if alone['intact'] else 'BROKEN'}, "
            f"{alone['reports']} reports, {len(chain_problems)} chain problems"
        )
        run = auditor.run("verify", source, "--witness", str(witnesses), "--format", "json")
        verdict = json.loads(run.stdout)
        c.line(f"auditor verify {source} --witness {witnesses}: exit {run.returncode}")
        shown = set()
        for p in verdict["problems"]:
            if p["code"] in ("witness-mismatch", "witness-ahead") and p["code"] not in shown:
                shown.add(p["code"])
                c.line(f"  {p['code']} at {p['key']}:")
                c.line(f"    {p['detail']}")
        by_code: dict[str, list[str]] = {}
        for p in verdict["problems"]:
            by_code.setdefault(p["code"], []).append(p["key"])
        rewritten = {done.edited, *done.relinked}
        caught = set(by_code.get("witness-mismatch", [])) == rewritten and by_code.get(
            "witness-ahead"
        ) == [done.deleted]
        c.line(
            f"  witness-mismatch for {len(by_code.get('witness-mismatch', []))} rewritten "
            f"report(s), witness-ahead for the deleted newest report"
        )
        if run.returncode != 1 or not caught or not alone["intact"]:
            self.mismatches.append(
                f"the rewritten trail in {done.bucket} was not caught as simulated: "
                f"alone intact={alone['intact']}, with witnesses {by_code}"
            )
        self.summary["rewrite"] = {
            "bucket": done.bucket,
            "edited": done.edited,
            "hidden": done.hidden,
            "relinked": list(done.relinked),
            "deleted": done.deleted,
            "witnesses": count,
            "intactWithoutWitnesses": alone["intact"],
            "exitCode": run.returncode,
            "problems": verdict["problems"],
            "caught": caught,
        }

    def iam_outcome(self) -> None:
        """How many requests the stack's own policies denied: any denial is a difference, since the
        deployed stack would fail the same way."""
        assert self.emulator is not None
        status = self.emulator.iam()
        self.summary["iam"] = {
            "template": self.deployment.template if self.deployment else None,
            "denied": status.get("denied", 0),
            "recentDenials": status.get("recentDenials", []),
        }
        for denial in status.get("recentDenials", [])[:5]:
            self.mismatches.append(f"IAM denied {denial['principal']}: {denial['message']}")

    def finish(self) -> None:
        c, e, s = self.console, self.expectation, self.scenario
        kinds = Counter(a.realtime_kind for a in self.alerts if a.kind == REALTIME)
        digests = [a for a in self.alerts if a.realtime_kind == "digest"]
        listed = sum(
            sum(1 for line in a.message.splitlines() if line.startswith("  20")) for a in digests
        )
        inbox = {
            "changes": kinds["compliance-change"],
            "digests": len(digests),
            "digestChanges": listed,
            "monitoring": kinds["monitoring"],
            "report": sum(1 for a in self.alerts if a.kind == REPORT),
        }
        expected = e.inbox(self.digest_threshold)
        if inbox != expected:
            self.mismatches.append(f"inbox got {inbox}, expected {expected}")
        self.write_inbox()
        runtime = c.elapsed
        self.summary.update(
            {
                "format": "compliance-audit-demo/1",
                "quarter": self.o.quarter,
                "start": s.start.isoformat(),
                "end": s.end.isoformat(),
                "days": s.days,
                "seed": s.seed,
                "suffix": self.o.suffix,
                "reportBucket": self.deployment.report_bucket if self.deployment else None,
                "reports": e.reports,
                "skippedDates": [s.date_of(d).isoformat() for d in s.skipped_days],
                "recorderOffDate": s.date_of(s.recorder_off_day).isoformat(),
                "alerts": {**inbox, "total": len(self.alerts)},
                "expectedAlerts": expected,
                "digestThreshold": self.digest_threshold,
                "inbox": self.inbox,
                "exceptions": {
                    "register": self.register.key if self.register else None,
                    "entries": [
                        {
                            "id": x.id,
                            "finding": f"{x.kind}/{x.name}",
                            "created": s.date_of(x.created).isoformat(),
                            "expires": s.date_of(x.expires).isoformat(),
                        }
                        for x in s.exceptions
                    ],
                    "exceptedDays": sum(sum(d.excepted_by_kind.values()) for d in e.days),
                    "pagedAgain": self.repaged,
                },
                "findings": {
                    "opened": e.opened(),
                    "resolved": e.resolved(),
                    "openAtEnd": e.opened() - e.resolved(),
                },
                "mismatches": self.mismatches,
                "runtimeSeconds": round(runtime, 1),
            }
        )
        (self.out / "summary.json").write_text(json.dumps(self.summary, indent=2) + "\n")
        html = self.summary.get("timeline", {}).get("html", "")
        c.step("summary")
        c.line(
            f"reports written      {e.reports} over {s.days} days (no report on "
            f"{', '.join(self.summary['skippedDates'])}), hash-chained, verified through S3"
        )
        c.line(
            f"alerts delivered     {len(self.alerts)} to the inbox: {inbox['changes']} real-time "
            f"(one per change) + {inbox['digests']} digest listing {inbox['digestChanges']} changes "
            f"+ {inbox['monitoring']} monitoring + {inbox['report']} report alerts"
        )
        c.line(
            f"findings             {e.opened()} opened, {e.resolved()} resolved, "
            f"{e.opened() - e.resolved()} still open at {s.end}"
        )
        c.line(
            f"monitoring gap       recorder off on {self.summary['recorderOffDate']}: a CRITICAL alert "
            "within the day's delivery, and shown in the report"
        )
        for x in s.exceptions:
            ends = s.date_of(x.expires)
            paged = self.repaged.get(x.id)
            c.line(
                f"exception            {x.id} ({x.kind} {x.name}) in force {s.date_of(x.created)} .. "
                f"{ends}: excepted in the reports"
                + (f"; expired, paged again on {paged}" if paged else "")
            )
        c.line(f"tampering            caught: {self.summary.get('tamper', {}).get('caught')}")
        c.line(
            f"rewritten trail      caught by the inbox's witnesses: "
            f"{self.summary.get('rewrite', {}).get('caught')}"
        )
        iam = self.summary.get("iam", {})
        c.line(
            f"iam enforcement      {iam.get('denied')} requests denied; the report generator, the "
            "alert formatter and the daily evaluation ran as their roles"
        )
        c.line(f"outputs              {html} (open in a browser), .csv, .md, .json beside it;")
        c.line(
            f"                     {self.out}/inbox.txt (the real-time e-mails), {self.out}/verify.txt, "
            f"{self.out}/summary.json, {self.out}/logs/"
        )
        c.line(
            "deploy for real      make deploy ENV_SUFFIX=prod ALERT_EMAIL=security@example.com "
            "(AWS credentials for us-east-1)"
        )
        c.line(f"runtime              {runtime:.1f} s")
        if self.mismatches:
            c.line(f"\nDIFFERENCES from the simulation ({len(self.mismatches)}):")
            for m in self.mismatches[:20]:
                c.line(f"  {m}")


def _section(message: str, title: str) -> str:
    """The lines of the e-mail's section that starts with ``title`` (up to the first line that is
    not indented), as one text."""
    lines = message.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(title)), None)
    if start is None:
        return ""
    section = []
    for line in lines[start + 1 :]:
        if not line.startswith("  "):
            break
        section.append(line)
    return "\n".join(section)


def _short(rule_name: str, suffix: str) -> str:
    """A rule's name in the register: its name in the stack without ``-<suffix>``."""
    return rule_name[: -len(suffix) - 1]


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return str(path)


def _on_sigterm(signum: int, _frame: object) -> None:
    raise Interrupted(signum)


def run_demo(module: str, demo: Callable[[Console], Any]) -> int:
    """Run a demo (``demo(console).run()``) as ``python -m <module>``: its exit status, a bad
    argument or a failure as one line, and SIGTERM and SIGINT as 128 + the signal (the emulator
    is stopped by the demo's own cleanup in every case)."""
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return int(demo(Console()).run())
    except (KeyboardInterrupt, Interrupted) as e:
        signum = e.signum if isinstance(e, Interrupted) else signal.SIGINT
        print(f"\ndemo: interrupted by signal {signum}; the emulator is stopped", file=sys.stderr)
        return 128 + signum
    except UsageError as e:
        print(f"python -m {module}: error: {e}", file=sys.stderr)
        return 2
    except (LocalAwsError, auditor_mod.AuditorError, Mismatch, RuntimeError, OSError) as e:
        print(f"demo: error: {e}", file=sys.stderr)
        return 2
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    return run_demo("demo.run", lambda console: Demo(options, console))


if __name__ == "__main__":
    sys.exit(main())
