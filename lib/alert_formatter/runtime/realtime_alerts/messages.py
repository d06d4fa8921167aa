"""The e-mails: subject, body and SNS message attributes of each real-time alert.

Three shapes:

* one **compliance change**: ``[NON_COMPLIANT] ec2-imdsv2-check prod: i-0abc (bastion)`` (or
  ``[RESOLVED] ...``), with the resource's human name, account, region, environment, time, the AWS
  Config console link to the resource's timeline and one line on how to fix it;
* a **digest** when more changes arrived together than the threshold: one e-mail listing them;
* a **monitoring problem** (recorder stopped or deleted, delivery channel or rule deleted, a rule or
  the recorder failing): ``[CRITICAL] prod: ...``, never folded into a digest.

Limits, from the Amazon SNS API Reference (Publish; botocore's SNS model carries the same text):
``Subject`` — "Subjects must be UTF-8 text with no line breaks or control characters, and less than
100 characters long"; subjects here are printable ASCII (one byte per character, and what every mail
client shows as typed), at most ``SUBJECT_MAX`` = 99 characters. ``Message`` — at most 256 KiB
(262,144 bytes), body and message attributes together ("All parts of the message attribute, including
name, type, and value, are included in the message size restriction", MessageAttributeValue). A
digest too long for that is cut after its last whole line that fits and says how many it left out.

Every alert carries the same attribute names, so a subscription filter policy can route them
(README, "Real-time alerts"): ``kind``, ``severity``, ``environment``, and where they apply ``rule``,
``resourceType``, ``complianceType``, ``problem``, ``account``.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from . import events as ev
from .links import resource_timeline, resource_timeline_pattern
from .names import Names
from .remedies import fix_line, remedy
from .settings import Settings

SUBJECT_MAX = 99
MESSAGE_MAX_BYTES = 262_144

KIND_CHANGE = "compliance-change"
KIND_DIGEST = "digest"
KIND_MONITORING = "monitoring"
CRITICAL = "CRITICAL"  # monitoring is off or failing: the highest priority
NON_COMPLIANT = "NON_COMPLIANT"
RESOLVED = "RESOLVED"

TYPE_WORDS = {
    "AWS::EC2::Instance": "EC2 instance",
    "AWS::RDS::DBInstance": "RDS DB instance",
    "AWS::S3::Bucket": "S3 bucket",
}

Attributes = Dict[str, Dict[str, str]]


@dataclass(frozen=True)
class Alert:
    kind: str
    severity: str
    subject: str
    body: str
    attributes: Attributes


# -- subjects ------------------------------------------------------------------------------------------
def _plain(text: str) -> str:
    """Printable ASCII on one line: accents dropped (NFKD), other characters and line breaks as spaces."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    plain = re.sub(r"[^\x20-\x7e]+", " ", plain)
    return re.sub(r" {2,}", " ", plain).strip()


def subject_text(text: str) -> str:
    """Printable ASCII on one line, at most SUBJECT_MAX characters ("..." marks a cut)."""
    plain = _plain(text)
    if len(plain) <= SUBJECT_MAX:
        return plain
    return plain[: SUBJECT_MAX - 3].rstrip() + "..."


def short_rule(rule_name: str, suffix: str) -> str:
    """The rule's name without the environment suffix the stack appends (the subject names the
    environment once)."""
    tail = f"-{suffix}"
    return rule_name[: -len(tail)] if rule_name.endswith(tail) and rule_name != tail else rule_name


def _labelled(resource_id: str, name: Optional[str]) -> str:
    return f"{resource_id} ({name})" if name and name != resource_id else resource_id


def change_subject(change: ev.ComplianceChange, settings: Settings, name: Optional[str]) -> str:
    label = RESOLVED if change.resolved else change.new_compliance
    head = f"[{label}] {short_rule(change.rule_name, settings.environment_suffix)} "
    head += f"{settings.environment_suffix}: "
    shown = _plain(name) if name else None
    full = head + _labelled(change.resource_id, shown)
    # The id with the name when both fit; else the human name alone, which is what a reader sorts
    # by; else the id with as much of the name as fits.
    for candidate in (full, head + shown if shown else None):
        if candidate and len(_plain(candidate)) <= SUBJECT_MAX:
            return _plain(candidate)
    return subject_text(full)


# -- attributes ----------------------------------------------------------------------------------------
def _string(value: str) -> Dict[str, str]:
    return {"DataType": "String", "StringValue": value}


def _array(values: Sequence[str]) -> Dict[str, str]:
    return {"DataType": "String.Array", "StringValue": json.dumps(sorted(set(values)))}


def attributes_bytes(attributes: Attributes) -> int:
    return sum(
        len(name.encode()) + len(v["DataType"].encode()) + len(v["StringValue"].encode())
        for name, v in attributes.items()
    )


# -- one compliance change -----------------------------------------------------------------------------
def _what(resource_type: str) -> str:
    return TYPE_WORDS.get(resource_type, resource_type)


def _noted(lines: List[str], note: Optional[str]) -> List[str]:
    """``lines`` under ``note`` (the exceptions register is unusable, ``register.py``): first, so
    the reader sees it before anything the register might have changed."""
    return ([f"NOTE: {note}.", ""] if note else []) + lines


def change_alert(
    change: ev.ComplianceChange, settings: Settings, names: Names, note: Optional[str] = None
) -> Alert:
    name = names.of(change.resource_type, change.resource_id)
    rule = settings.rule(change.rule_name)
    managed = rule.managed_identifier if rule else None
    found = remedy(managed)
    thing = f"{_what(change.resource_type)} {_labelled(change.resource_id, name)}"
    if change.resolved:
        lead = (
            f"{change.rule_name}: {thing} is no longer NON_COMPLIANT (now {change.new_compliance})."
        )
    else:
        lead = f"{change.rule_name}: {thing} is {change.new_compliance}."
    lines = [lead]
    if found and not change.resolved:
        lead_rule = f"The rule requires that {found.what}."
        lines.append(lead_rule)
    lines += [
        "",
        f"Resource     {change.resource_type} {change.resource_id}",
        f"Name         {name or _missing_name(change.resource_type, names)}",
        f"Rule         {change.rule_name}" + (f" (AWS managed rule {managed})" if managed else ""),
        f"Change       {change.old_compliance or 'not evaluated before'} -> "
        f"{change.new_compliance}",
        f"Recorded     {change.recorded_at}",
        f"Account      {change.account}",
        f"Region       {change.region}",
        f"Environment  {settings.environment_suffix}",
    ]
    if change.annotation:
        lines.append(f"Annotation   {change.annotation}")
    lines += [
        "",
        "Console (the resource's configuration and compliance timeline):",
        "  "
        + resource_timeline(
            change.region, change.resource_type, change.resource_id, change.recorded_at
        ),
    ]
    if not change.resolved:
        lines += ["Fix:", "  " + fix_line(managed, change.resource_id, name)]
        if found:
            lines.append(f"  ({found.doc})")
    severity = RESOLVED if change.resolved else NON_COMPLIANT
    attributes = {
        "kind": _string(KIND_CHANGE),
        "severity": _string(severity),
        "environment": _string(settings.environment_suffix),
        "rule": _string(change.rule_name),
        "resourceType": _string(change.resource_type),
        "complianceType": _string(change.new_compliance),
        "account": _string(change.account),
    }
    return Alert(
        KIND_CHANGE,
        severity,
        change_subject(change, settings, name),
        "\n".join(_noted(lines, note)) + "\n",
        attributes,
    )


def _missing_name(resource_type: str, names: Names) -> str:
    if names.error:
        return f"(not known: {names.error})"
    if resource_type == "AWS::EC2::Instance":
        return "(no Name tag)"
    return "(none recorded by AWS Config)"


# -- a digest ------------------------------------------------------------------------------------------
def _minutes(seconds: int) -> str:
    return f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} s"


def digest_alert(
    changes: Sequence[ev.ComplianceChange],
    settings: Settings,
    names: Names,
    note: Optional[str] = None,
) -> Alert:
    env = settings.environment_suffix
    window = _minutes(settings.digest_window_seconds)
    bad = sum(1 for c in changes if not c.resolved)
    fixed = len(changes) - bad
    counts = f"{bad} NON_COMPLIANT" + (f", {fixed} resolved" if fixed else "")
    subject = subject_text(
        f"[DIGEST] {env}: {len(changes)} compliance changes within {window} ({counts})"
    )
    times = sorted(c.recorded_at for c in changes)
    accounts = sorted({c.account for c in changes})
    regions = sorted({c.region for c in changes})
    head = _noted(
        [
            f"{len(changes)} AWS Config compliance changes arrived within {window}: more than the "
            f"{settings.digest_threshold} that are sent one e-mail each, so they come as this one digest "
            "(a first deploy or a mass change does this).",
            "",
            f"Account {', '.join(accounts)}, region {', '.join(regions)}, environment {env}; "
            f"recorded {times[0]} .. {times[-1]}",
            "",
            "By rule:",
        ],
        note,
    )
    by_rule: Dict[str, Tuple[int, int]] = {}
    for c in changes:
        now_bad, now_fixed = by_rule.get(c.rule_name, (0, 0))
        by_rule[c.rule_name] = (now_bad + (not c.resolved), now_fixed + c.resolved)
    for rule_name in sorted(by_rule):
        now_bad, now_fixed = by_rule[rule_name]
        rule = settings.rule(rule_name)
        managed = rule.managed_identifier if rule else None
        head.append(
            f"  {rule_name}"
            + (f" ({managed})" if managed else "")
            + f": {now_bad} NON_COMPLIANT"
            + (f", {now_fixed} resolved" if now_fixed else "")
        )
        found = remedy(managed)
        if found and now_bad:
            head.append(f"    fix: {fix_line(managed, '<id>', '<name>')}")
            head.append(f"         ({found.doc})")
    if names.error:
        head += ["", f"Resource names are missing: {names.error}"]
    head += [
        "",
        "Each resource's timeline in the AWS Config console: "
        f"{resource_timeline_pattern(regions[0])}",
        "",
        "Changes (recorded at, now, rule, resource):",
    ]
    rows = []
    for c in sorted(changes, key=lambda c: (c.recorded_at, c.rule_name, c.resource_id)):
        name = names.of(c.resource_type, c.resource_id)
        rows.append(
            f"  {c.recorded_at}  {(RESOLVED if c.resolved else c.new_compliance):<13}  "
            f"{short_rule(c.rule_name, env)}  {c.resource_type} {_labelled(c.resource_id, name)}"
        )
    attributes = {
        "kind": _string(KIND_DIGEST),
        "severity": _string(NON_COMPLIANT if bad else RESOLVED),
        "environment": _string(env),
        "rule": _array([c.rule_name for c in changes]),
        "resourceType": _array([c.resource_type for c in changes]),
        "account": _string(accounts[0]) if len(accounts) == 1 else _array(accounts),
    }
    budget = MESSAGE_MAX_BYTES - attributes_bytes(attributes)
    body = _fit(head, rows, budget)
    return Alert(KIND_DIGEST, NON_COMPLIANT if bad else RESOLVED, subject, body, attributes)


def _fit(head: List[str], rows: List[str], budget: int) -> str:
    """``head`` then as many whole ``rows`` as fit in ``budget`` bytes with the closing line."""
    text = "\n".join(head + rows) + "\n"
    if len(text.encode()) <= budget:
        return text
    used = len(("\n".join(head) + "\n").encode())
    kept: List[str] = []
    for index, row in enumerate(rows):
        left = len(rows) - index
        tail = (
            f"  ... and {left} more, left out at SNS's 256 KiB message limit: "
            "tomorrow's report lists every finding\n"
        )
        size = len(row.encode()) + 1
        if used + size + len(tail.encode()) > budget:
            return "\n".join(head + kept) + "\n" + tail
        kept.append(row)
        used += size
    return "\n".join(head + kept) + "\n"


# -- monitoring problems -------------------------------------------------------------------------------
_PROBLEMS: Dict[str, Tuple[str, str, str, str]] = {
    # problem: (subject after "<env>: ", what happened, what it means, how to fix it)
    ev.RECORDER_STOPPED: (
        "AWS Config recorder {subject} STOPPED - changes are not recorded",
        "AWS Config recorder {subject} was stopped",
        "While the recorder is stopped AWS Config records no configuration change: no rule sees a "
        "new or changed resource, findings freeze as they were, and each day's report marks a "
        "monitoring gap.",
        "aws configservice start-configuration-recorder --configuration-recorder-name {subject}",
    ),
    ev.RECORDER_DELETED: (
        "AWS Config recorder {subject} DELETED - nothing is recorded",
        "AWS Config recorder {subject} was deleted",
        "Without a configuration recorder AWS Config records nothing in this region, so no rule "
        "evaluates a new or changed resource.",
        "redeploy the stack (make deploy ENV_SUFFIX={env}); it recreates the recorder",
    ),
    ev.CHANNEL_DELETED: (
        "AWS Config delivery channel {subject} DELETED",
        "AWS Config delivery channel {subject} was deleted",
        "Without a delivery channel AWS Config delivers no configuration history or snapshots, and "
        "a recorder cannot be started.",
        "redeploy the stack (make deploy ENV_SUFFIX={env}); it recreates the delivery channel",
    ),
    ev.RULE_DELETED: (
        "Config rule {subject} DELETED - its resources are not checked",
        "AWS Config rule {subject} was deleted",
        "Resources are no longer evaluated against this rule: no alert and no report line for it "
        "until it is back.",
        "redeploy the stack (make deploy ENV_SUFFIX={env}); it recreates the rule",
    ),
    ev.RULE_FAILING: (
        "Config rule {subject} FAILS to evaluate ({code})",
        "AWS Config rule {subject} failed to evaluate",
        "AWS Config could not evaluate the rule; its results are those of its last successful "
        "evaluation and new changes are not judged.",
        "read the error below; then aws configservice start-config-rules-evaluation "
        "--config-rule-names {subject}",
    ),
    ev.RECORDER_FAILING: (
        "AWS Config recorder {subject} FAILS to record ({code})",
        "AWS Config recorder {subject} is failing to record",
        "The recorder is on but AWS Config cannot record (often the recorder role's permissions), "
        "so rules do not see changes.",
        "read the error below and the recorder role's permissions; aws configservice "
        "describe-configuration-recorder-status shows when it records again",
    ),
    ev.RECORDER_STARTED: (
        "AWS Config recorder {subject} started - recording again",
        "AWS Config recorder {subject} was started again",
        "AWS Config records again; it records the current state of the resources, so changes made "
        "while it was stopped are evaluated now.",
        "nothing to do",
    ),
}


def monitoring_alert(
    event: ev.MonitoringEvent, settings: Settings, note: Optional[str] = None
) -> Alert:
    env = settings.environment_suffix
    title, lead, meaning, fix = _PROBLEMS[event.problem]
    values = {"subject": event.subject, "env": env, "code": event.error_code or "error"}
    severity = RESOLVED if event.restored else CRITICAL
    subject = subject_text(f"[{severity}] {env}: " + title.format(**values))
    lines = [
        lead.format(**values) + f" in account {event.account} ({event.region}, environment {env}).",
        meaning,
        "",
        f"When         {event.at}",
    ]
    if event.actor:
        lines.append(
            f"Who          {event.actor}"
            + (f" (from {event.source_ip})" if event.source_ip else "")
        )
    if event.error_code:
        lines.append(f"Error        {event.error_code}: {event.error_message or ''}".rstrip())
    lines += [
        f"Account      {event.account}",
        f"Region       {event.region}",
        f"Environment  {env}",
        "Seen by      "
        + (
            "the status check of AWS Config's rules and recorder"
            if event.problem in (ev.RULE_FAILING, ev.RECORDER_FAILING)
            else "a CloudTrail management event, delivered by EventBridge"
        ),
        "",
        "Fix:",
        "  " + fix.format(**values),
    ]
    attributes = {
        "kind": _string(KIND_MONITORING),
        "severity": _string(severity),
        "environment": _string(env),
        "problem": _string(event.problem),
        "account": _string(event.account),
    }
    if event.problem in (ev.RULE_DELETED, ev.RULE_FAILING):
        attributes["rule"] = _string(event.subject)
    body = "\n".join(_noted(lines, note)) + "\n"
    return Alert(KIND_MONITORING, severity, subject, body, attributes)


def summarise(changes: Sequence[ev.ComplianceChange]) -> Dict[str, int]:
    """Counts by new compliance, for the log line."""
    return dict(Counter(RESOLVED if c.resolved else c.new_compliance for c in changes))
