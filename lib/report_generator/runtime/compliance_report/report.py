"""Build a schema-v1 report from what was collected, and serialise it to the exact bytes that are stored.

The bytes rule (docs/report-format.md): UTF-8 JSON, keys sorted, no insignificant white space, one trailing
newline — ``json.dumps(report, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` plus ``\\n``.
The chain hashes these bytes, so this module is the only serialiser used for storing.

Everything but ``generatedAt`` and ``chain`` is known once the reads are over, while those two come from
the chain claim. ``draft`` therefore serialises the rest (the findings are nearly all of the bytes) while
the claim is in flight, and ``Draft.finish`` adds the two members. A member serialised on its own is the
same text ``json.dumps`` writes for it inside the whole report, so the bytes are those of serialising
the finished report in one go.

Memory: the bytes are kept as chunks (a few hundred findings each) and joined once, so a 100,000-finding
report (~17 MB) exists as its chunks and the joined body, never as a dict of every finding or a str of
the whole report.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from . import limits
from .collect import Collection, RuleReads
from .exceptions import Labels, RegisterRef
from .model import (
    ChainPosition,
    Counts,
    Finding,
    Monitoring,
    PartialFailure,
    Problem,
    Report,
    ReportContent,
    Rule,
    Summary,
)
from .triggers import Trigger

# Findings serialised per json.dumps call. One call over 10,000 findings holds the GIL for tens of
# milliseconds, stalling the chain claim that runs meanwhile; slices let it in between.
ENCODE_SLICE = 500


def report_key(prefix: str, generated_at: datetime, sequence: int, report_id: str) -> str:
    """``reports/YYYY/MM/DD/<sequence, 8+ digits>-<reportId>.json``, dated by generatedAt (UTC)."""
    return f"{prefix}{generated_at:%Y/%m/%d}/{sequence:08d}-{report_id}.json"


# -- building -------------------------------------------------------------------------------------------
def _labelled(name: str, findings: Sequence[Finding], labels: Labels) -> tuple[Finding, ...]:
    """The findings, each one an exception in force covers carrying its label (never dropped)."""
    if not labels:
        return tuple(findings)
    return tuple(
        finding
        if (label := labels.get((name, finding.resource_type, finding.resource_id))) is None
        else finding.labelled(label)
        for finding in findings
    )


def _rule(
    reads: RuleReads, unfinished: set[str], labels: Labels
) -> tuple[Rule, PartialFailure | None]:
    """The rule, and an error when it has more findings than a report may hold (the schema's
    limit, limits.FINDINGS_PER_RULE): the first ones are kept and the rule is incomplete."""
    findings = reads.unique_findings()
    overflow = None
    if len(findings) > limits.FINDINGS_PER_RULE:
        overflow = PartialFailure(
            "rule",
            reads.rule.name,
            "TooManyFindings",
            f"{len(findings)} non-compliant resources; a report holds at most "
            f"{limits.FINDINGS_PER_RULE} per rule, so the first {limits.FINDINGS_PER_RULE} "
            "(by resource type and id) are kept",
        )
        findings = findings[: limits.FINDINGS_PER_RULE]
    findings = _labelled(reads.rule.name, findings, labels)
    rule = Rule(
        name=reads.rule.name,
        managed_identifier=reads.rule.managed_identifier,
        compliance_type=reads.compliance_type,
        complete=reads.complete and reads.rule.name not in unfinished and overflow is None,
        counts=Counts(
            reads.compliant,
            len(findings),
            reads.not_applicable,
            sum(1 for f in findings if f.exception is not None),
        ),
        evaluation_status=reads.evaluation_status,
        findings=findings,
    )
    return rule, overflow


def _capped_error(error: PartialFailure) -> PartialFailure:
    return PartialFailure(
        error.scope,
        limits.text(error.subject, limits.NAME),
        limits.text(error.code, limits.CODE),
        limits.text(error.message, limits.MESSAGE),
    )


def _capped_problem(problem: Problem) -> Problem:
    return Problem(
        problem.code,  # one of the schema's codes, chosen by monitoring.py
        limits.text(problem.subject, limits.NAME),
        limits.text(problem.message, limits.MESSAGE),
    )


def summarise(rules: Sequence[Rule]) -> Summary:
    by_type: Counter[str] = Counter(f.resource_type for rule in rules for f in rule.findings)
    by_rule = {rule.name: rule.counts.non_compliant for rule in rules}
    excepted = {rule.name: rule.counts.excepted or 0 for rule in rules}
    return Summary(
        total_non_compliant=sum(by_rule.values()),
        rules_non_compliant=sum(1 for count in by_rule.values() if count > 0),
        by_rule=by_rule,
        by_resource_type=dict(sorted(by_type.items())),
        total_excepted=sum(excepted.values()),
        excepted_by_rule=excepted,
    )


def report_content(
    *,
    report_id: str,
    trigger: Trigger,
    account: str,
    region: str,
    environment_suffix: str,
    collection: Collection,
    labels: Labels | None = None,
    register: RegisterRef | None = None,
) -> ReportContent:
    """The report's content; ``labels`` are the exceptions in force on the report's date, from the
    register ``register`` names (both None: no register configured, exceptionRegister null)."""
    unfinished = set(collection.unfinished_rules)
    built = [_rule(reads, unfinished, labels or {}) for reads in collection.rules]
    rules = tuple(rule for rule, _ in built)
    overflows = [error for _, error in built if error is not None]
    # A missing rule is seen by several reads; say it once.
    problems = {(p.code, p.subject): _capped_problem(p) for p in collection.problems}
    errors = [_capped_error(e) for e in [*collection.errors, *overflows]]
    return ReportContent(
        report_id=report_id,
        trigger=trigger,
        account=account,
        region=region,
        environment_suffix=environment_suffix,
        rules=rules,
        summary=summarise(rules),
        monitoring=Monitoring(
            tuple(limits.items(collection.recorders, limits.RECORDERS)),
            tuple(limits.items(collection.channels, limits.CHANNELS)),
            tuple(limits.items(list(problems.values()), limits.PROBLEMS)),
        ),
        errors=tuple(limits.items(errors, limits.ERRORS)),
        exception_register=register,
    )


# -- serialising ----------------------------------------------------------------------------------------
def _json_text(value: Any) -> str:
    """Sorted, compact JSON with non-ASCII characters as themselves (``ensure_ascii=False``).

    Tried first with ``ensure_ascii=True``, which json's C encoder writes markedly faster. The two only
    differ on characters the ASCII form writes as ``\\uXXXX`` escapes, so a result without ``\\u`` is
    already the answer; otherwise the value is serialised again the exact way.
    """
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    if "\\u" in text:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text


def _json_bytes(value: Any) -> bytes:
    return _json_text(value).encode("utf-8")


Chunks = list[bytes]


def _array(items: Iterable[Chunks]) -> Chunks:
    chunks = [b"["]
    for index, item in enumerate(items):
        if index:
            chunks.append(b",")
        chunks.extend(item)
    chunks.append(b"]")
    return chunks


def _object(members: Mapping[str, Chunks]) -> Chunks:
    """A JSON object from its members' serialised values, keys sorted as ``sort_keys`` sorts them."""
    chunks = [b"{"]
    for index, key in enumerate(sorted(members)):
        chunks.append(b"," + _json_bytes(key) + b":" if index else _json_bytes(key) + b":")
        chunks.extend(members[key])
    chunks.append(b"}")
    return chunks


def _findings(findings: Sequence[Finding]) -> Chunks:
    """``_json_text`` of the findings' JSON list, ``ENCODE_SLICE`` findings per chunk."""
    return _array(
        [_json_text([f.to_json() for f in findings[i : i + ENCODE_SLICE]])[1:-1].encode("utf-8")]
        for i in range(0, len(findings), ENCODE_SLICE)
    )


def _rule_chunks(rule: Rule) -> Chunks:
    members = {key: [_json_bytes(value)] for key, value in rule.members().items()}
    members["nonCompliant"] = _findings(rule.findings)
    return _object(members)


class Draft:
    """A report's content with every member but ``generatedAt`` and ``chain`` already serialised.

    ``finish`` adds those two and joins the bytes; it hands the chunks over, so a draft finishes once.
    """

    def __init__(self, content: ReportContent) -> None:
        self.content = content
        self._members: dict[str, Chunks] | None = {
            key: [_json_bytes(value)] for key, value in content.members().items()
        }
        self._members["rules"] = _array(_rule_chunks(rule) for rule in content.rules)

    def finish(self, generated_at: str, chain: ChainPosition) -> tuple[Report, bytes]:
        """The finished report and its stored bytes."""
        members, self._members = self._members, None
        if members is None:
            raise RuntimeError("a report draft is finished once")
        members["generatedAt"] = [_json_bytes(generated_at)]
        members["chain"] = [_json_bytes(chain.to_json())]
        chunks = _object(members)
        del members
        chunks.append(b"\n")
        body = b"".join(chunks)
        return Report(self.content, generated_at, chain), body


def report_bytes(report: Report) -> bytes:
    """The stored bytes of a whole report."""
    return Draft(report.content).finish(report.generated_at, report.chain)[1]
