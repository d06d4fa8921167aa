"""The attacker the witnesses are for: someone who may write the bucket and delete object versions.

Such a principal can do what no hash chain shows on its own: edit report *k* and recompute every later
link, erasing the old versions as it goes, and delete the newest report with all its versions (and the
generator's ``chain/head.json`` with its). The trail left behind is a valid chain. Only a record kept
outside the bucket tells: the ``witness: <sequence> <key> <sha256>`` line of every report alert, as the
security team's inbox received it (docs/report-format.md, "Who can rewrite what").

The demo does this, with the emulator's admin key, to a second versioned bucket holding a copy of the
trail: the generator's bucket stays as it wrote it, so everything the demo showed before stays true and
the end-to-end tests can still read it. The copy holds exactly what the attacker leaves: reports 0..k-1
as written, report k edited (one finding hidden, its counts lowered to match), every later report
relinked to the new bytes, and no newest report and no head at all, as if their versions had been
erased.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WITNESS = "witness: "


def canonical(report: dict[str, Any]) -> bytes:
    """A report's stored bytes (docs/report-format.md: sorted keys, compact, UTF-8, one newline), as
    the generator writes them: an unchanged report re-serialises to exactly its stored bytes."""
    return (
        json.dumps(report, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
    ).encode("utf-8")


def hide_a_finding(report: dict[str, Any]) -> str | None:
    """Remove the first finding of the first rule that has one, and lower every count that names it,
    so the edited report is as consistent as the original; None when the report has no finding."""
    for rule in report["rules"]:
        if not rule["nonCompliant"]:
            continue
        finding = rule["nonCompliant"].pop(0)
        rule["counts"]["nonCompliant"] -= 1
        summary = report["summary"]
        summary["totalNonCompliant"] -= 1
        summary["byRule"][rule["name"]] -= 1
        kind = finding["resourceType"]
        summary["byResourceType"][kind] -= 1
        if summary["byResourceType"][kind] == 0:
            del summary["byResourceType"][kind]
        if rule["counts"]["nonCompliant"] == 0:
            summary["rulesNonCompliant"] -= 1
            rule["complianceType"] = "COMPLIANT"
        return f"{rule['name']} {kind} {finding['resourceId']}"
    return None


@dataclass(frozen=True)
class Rewrite:
    """What the attacker did to the copy."""

    bucket: str
    edited: str  # the key of report k
    hidden: str  # the finding removed from it
    relinked: tuple[str, ...]  # the later reports whose previousSha256 was recomputed
    deleted: str  # the newest report's key, gone with every version


def rewrite_copy(s3: Any, source: str, keys: list[str], read: Callable[[str], bytes]) -> Rewrite:
    """Copy the trail of ``source`` into ``<source>-rewritten`` (versioned) as the attacker leaves it."""
    bucket = f"{source}-rewritten"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    reports = sorted(
        ((key, json.loads(read(key))) for key in keys), key=lambda r: r[1]["chain"]["sequence"]
    )
    if len(reports) < 3:
        raise ValueError("the trail needs at least 3 reports to rewrite one and delete the newest")
    newest = len(reports) - 1
    # Report k: the middle one or the first after it with a finding to hide, before the newest.
    k, hidden = None, None
    for index in range(len(reports) // 2, newest):
        hidden = hide_a_finding(reports[index][1])
        if hidden is not None:
            k = index
            break
    if k is None or hidden is None:
        raise ValueError("no report with a finding between the middle and the newest")
    previous_sha = None
    for index, (key, report) in enumerate(reports[:newest]):
        if index > k:
            report["chain"]["previousSha256"] = previous_sha
        body = canonical(report)
        if index < k:
            assert body == read(key), f"{key} does not re-serialise to its stored bytes"
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        previous_sha = hashlib.sha256(body).hexdigest()
    return Rewrite(
        bucket,
        reports[k][0],
        hidden,
        tuple(key for key, _ in reports[k + 1 : newest]),
        reports[newest][0],
    )


def export_witnesses(messages: Iterable[str], path: Path) -> int:
    """The ``witness:`` lines of the alerts that reached the inbox, one per line, as
    ``grep '^witness: '`` would take them from a saved mailbox; returns how many."""
    lines = [
        line for message in messages for line in message.splitlines() if line.startswith(WITNESS)
    ]
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return len(lines)
