"""An organization's bucket whose reports carry the exceptions register (schema 1.1), for the
exceptions query's check against the auditor.

``gen-history --org-accounts`` writes schema 1.0 trails only (it has no option for exceptions), so
:func:`add_exceptions` rewrites such a bucket as the report generator would have written it once
registers were deployed, with the project's own code: each report is read back with the report model
(``compliance_report.model``), its findings labelled from the register in force on its date
(``compliance_report.exceptions.Register.labels``), summarised and serialised by
``compliance_report.report`` and chained again (every later ``previousSha256`` and the head follow
the new bytes); the registers are built by ``lib.exceptions.register`` and stored at the bucket root
(``exceptions/<sha256>.json``, where an organization's trails find them).

What it makes of the trails, in trail order (``reports/<account>/<region>/`` sorted):

* rules named as the stack names them, ``<rule>-<suffix>`` (gen-history leaves the suffix out, and a
  register entry names its rule without it);
* the first trail stays schema 1.0 throughout (a member not yet upgraded: its findings read
  un-excepted);
* the second writes 1.1 with ``exceptionRegister`` null (no register configured) for its first days
  of 1.1, then with the registers;
* every other trail, and the second after that, 1.1 labelled from register A from ``REGISTER_A_FROM``
  days into the period and from register B from ``REGISTER_B_FROM`` days (A less one withdrawn entry,
  one extended under the same id, two new ones); before the first, 1.0.

The entries cover the findings listed on most days across the organization (a register names no
account, so one entry labels the resource wherever it is open), some expiring in the period while
their finding is still open, so labels carried over days without a report must end at the expiry.
Files are replaced, never written through: a hard-linked copy (the benchmark's sample) leaves its
source untouched.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from collections import Counter
from pathlib import Path

from lib.exceptions.register import Register as DeployedRegister
from lib.report_generator.runtime.compliance_report.chain import sha256_hex
from lib.report_generator.runtime.compliance_report.exceptions import Entry, Register
from lib.report_generator.runtime.compliance_report.model import (
    ChainPosition,
    Counts,
    Report,
)
from lib.report_generator.runtime.compliance_report.report import report_bytes, summarise

SUFFIX = "dev"  # gen-history's environmentSuffix (auditor/src/synth.rs, ENVIRONMENT)
REGISTER_A_FROM, REGISTER_B_FROM, NO_REGISTER_DAYS = 6, 20, 5


@dataclasses.dataclass(frozen=True)
class Rewritten:
    trails: int
    reports: int
    labelled: int  # findings carrying a label, over every report
    registers: tuple[str, ...]  # keys


def _trails(root: Path) -> list[Path]:
    return sorted(p for p in (root / "reports").glob("*/*") if p.is_dir())


def _reports(trail: Path) -> list[Path]:
    """The trail's report files in chain order (the key's sequence)."""
    return sorted(trail.glob("*/*/*/*.json"), key=lambda p: int(p.name.split("-", 1)[0]))


# Per resource picked for a rule, in order of how often it is listed: (created, expires in register
# A, expires in register B), days from the period's first; None: not in that register.
SCHEDULE: tuple[tuple[int, int | None, int | None], ...] = (
    (0, REGISTER_A_FROM + 5, REGISTER_A_FROM + 5),  # expires while listed: labels end the day after
    (0, REGISTER_B_FROM + 2, REGISTER_B_FROM + 12),  # extended in B under the same id
    (1, 300, None),  # withdrawn in B
    (REGISTER_A_FROM + 3, 200, 200),  # in force from a day after A was deployed
    (REGISTER_B_FROM, None, REGISTER_B_FROM + 4),  # new in B, expires before the period ends
    (REGISTER_B_FROM, None, REGISTER_B_FROM + 24),  # new in B
)


def _entries(root: Path, start: dt.date) -> tuple[tuple[Entry, ...], tuple[Entry, ...]]:
    """Registers A and B: entries on the resources listed most often across the organization."""
    listed: Counter[tuple[str, str, str]] = Counter()
    for trail in _trails(root):
        for path in _reports(trail):
            for rule in json.loads(path.read_bytes())["rules"]:
                for f in rule["nonCompliant"]:
                    listed[(rule["name"], f["resourceType"], f["resourceId"])] += 1
    registers: tuple[list[Entry], list[Entry]] = ([], [])
    for r, rule in enumerate(sorted({name for name, _, _ in listed})):
        picked = sorted((k for k in listed if k[0] == rule), key=lambda k: (-listed[k], k[1:]))
        for n, ((_, resource_type, resource_id), (created, *expiries)) in enumerate(
            zip(picked, SCHEDULE)
        ):
            number = f"EXC-2026-{r}{n:02d}"
            for entries, expires in zip(registers, expiries):
                if expires is None:
                    continue
                entries.append(
                    Entry(
                        number,
                        rule.removesuffix(f"-{SUFFIX}"),
                        resource_type,
                        resource_id,
                        f"Accepted until the fix ships ({number})",
                        f"owner-{r}@example.com",
                        f"RISK-{r}{n:02d}",
                        (start + dt.timedelta(days=created)).isoformat(),
                        (start + dt.timedelta(days=expires)).isoformat(),
                    )
                )
    a, b = (tuple(sorted(entries, key=lambda e: e.id)) for entries in registers)
    return a, b


def _store(root: Path, entries: tuple[Entry, ...]) -> Register:
    deployed = DeployedRegister(365, entries)
    body = deployed.canonical_bytes()
    _replace(root / deployed.key, body)
    return Register(deployed.key, deployed.sha256, body, entries)


def _replace(path: Path, body: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(body)
    os.replace(temporary, path)


def _rewrite(
    data: dict, register: Register | None, v11: bool, chain: ChainPosition
) -> tuple[bytes, int]:
    """The report as the generator writes it with ``register`` (1.1) or as 1.0, at ``chain``."""
    report = Report.from_json(data)
    day = report.generated_at[:10]
    labels = register.labels(SUFFIX, day) if register is not None else {}
    rules = []
    for rule in report.content.rules:
        name = rule.name if rule.name.endswith(f"-{SUFFIX}") else f"{rule.name}-{SUFFIX}"
        findings = tuple(
            f
            if (label := labels.get((name, f.resource_type, f.resource_id))) is None
            else f.labelled(label)
            for f in rule.findings
        )
        excepted = sum(1 for f in findings if f.exception is not None)
        rules.append(
            dataclasses.replace(
                rule,
                name=name,
                findings=findings,
                counts=Counts(
                    rule.counts.compliant,
                    rule.counts.non_compliant,
                    rule.counts.not_applicable,
                    excepted if v11 else None,
                ),
            )
        )
    summary = summarise(rules)
    if not v11:
        summary = dataclasses.replace(summary, total_excepted=None, excepted_by_rule=None)
    content = dataclasses.replace(
        report.content,
        rules=tuple(rules),
        summary=summary,
        schema_version="1.1" if v11 else "1.0",
        exception_register=register.ref(None) if register is not None else None,
    )
    labelled = sum(r.counts.excepted or 0 for r in rules)
    return report_bytes(Report(content, report.generated_at, chain)), labelled


def _plan(index: int, offset: int) -> tuple[bool, str | None]:
    """(schema 1.1?, which register: "A", "B" or None) for trail ``index`` on day ``offset``."""
    if index == 0 or offset < REGISTER_A_FROM:
        return False, None
    if index == 1 and offset < REGISTER_A_FROM + NO_REGISTER_DAYS:
        return True, None
    return True, "A" if offset < REGISTER_B_FROM else "B"


def add_exceptions(root: Path, start: dt.date) -> Rewritten:
    """Rewrites the organization under ``root`` (generated from ``start``) with the registers."""
    a, b = _entries(root, start)
    registers = {"A": _store(root, a), "B": _store(root, b)}
    reports = labelled = 0
    trails = _trails(root)
    for index, trail in enumerate(trails):
        previous: tuple[str, str] | None = None
        for path in _reports(trail):
            data = json.loads(path.read_bytes())
            offset = (dt.date.fromisoformat(data["generatedAt"][:10]) - start).days
            v11, which = _plan(index, offset)
            chain = ChainPosition(
                data["chain"]["sequence"],
                previous[0] if previous else None,
                previous[1] if previous else None,
            )
            body, n = _rewrite(data, registers.get(which or ""), v11, chain)
            _replace(path, body)
            previous = (path.relative_to(root).as_posix(), sha256_hex(body))
            reports += 1
            labelled += n
        head = root / "chain" / trail.relative_to(root / "reports") / "head.json"
        if previous is not None and head.exists():
            document = json.loads(head.read_bytes())
            document["last"] = {
                "sequence": int(Path(previous[0]).name.split("-", 1)[0]),
                "key": previous[0],
                "sha256": previous[1],
            }
            _replace(head, json.dumps(document).encode())
    return Rewritten(len(trails), reports, labelled, tuple(r.key for r in registers.values()))
