"""The report schema's two versions, as the Python side validates them: the hand-built mixed trail
the auditor's tests also read (auditor/tests/fixtures/mixed-trail/: two 1.0 reports, three 1.1
reports and their exceptions registers) validates, and each field of 1.1 is required in a 1.1 report
and refused in a 1.0 one (docs/report-format.md, "Exceptions")."""

import copy
import hashlib
import json
from pathlib import Path

import pytest

TRAIL = Path(__file__).resolve().parents[2] / "auditor" / "tests" / "fixtures" / "mixed-trail"
REPORTS = sorted((TRAIL / "reports").rglob("*.json"))
REGISTERS = sorted((TRAIL / "exceptions").glob("*.json"))


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def errors(validator, report) -> list:
    return [e.message for e in validator.iter_errors(report)]


def test_the_fixture_holds_both_versions():
    versions = [load(p)["schemaVersion"] for p in REPORTS]
    assert versions == ["1.0", "1.0", "1.1", "1.1", "1.1"]
    assert len(REGISTERS) == 2


@pytest.mark.parametrize("path", REPORTS, ids=lambda p: p.name[:8])
def test_every_fixture_report_validates(path, assert_valid_report):
    assert_valid_report(load(path))


def v11() -> dict:
    return load(REPORTS[-1])


def v10() -> dict:
    return load(REPORTS[0])


def with_(report: dict, edit) -> dict:
    changed = copy.deepcopy(report)
    edit(changed)
    return changed


def label(report: dict) -> dict:
    return report["rules"][1]["nonCompliant"][0]["exception"]


REFUSED = {
    "1.1 fields in a report that says 1.0": (v11, lambda r: r.update(schemaVersion="1.0")),
    "a label in a 1.0 report": (
        v10,
        lambda r: r["rules"][0]["nonCompliant"][0].update(
            exception={"id": "EXC-1", "approver": "a", "expires": "2026-09-15"}
        ),
    ),
    "exceptionRegister in a 1.0 report, even null": (
        v10,
        lambda r: r.update(exceptionRegister=None),
    ),
    "counts.excepted in a 1.0 report": (v10, lambda r: r["rules"][0]["counts"].update(excepted=0)),
    "a 1.1 report without exceptionRegister": (v11, lambda r: r.pop("exceptionRegister")),
    "a 1.1 report without counts.excepted": (
        v11,
        lambda r: r["rules"][0]["counts"].pop("excepted"),
    ),
    "a 1.1 report without summary.totalExcepted": (
        v11,
        lambda r: r["summary"].pop("totalExcepted"),
    ),
    "a 1.1 report without summary.exceptedByRule": (
        v11,
        lambda r: r["summary"].pop("exceptedByRule"),
    ),
    "an exception id with a space": (v11, lambda r: label(r).update(id="EXC 1")),
    "an exception id over 64 characters": (v11, lambda r: label(r).update(id="E" * 65)),
    "an expiry that is not YYYY-MM-DD": (v11, lambda r: label(r).update(expires="2026-9-15")),
    "an empty approver": (v11, lambda r: label(r).update(approver="")),
    "a label with a field the contract does not name": (v11, lambda r: label(r).update(reason="x")),
    "a register key outside exceptions/": (
        v11,
        lambda r: r["exceptionRegister"].update(key="chain/" + "0" * 64 + ".json"),
    ),
    "a register SHA-256 in upper case": (
        v11,
        lambda r: r["exceptionRegister"].update(sha256="A" * 64),
    ),
    "an empty version id": (v11, lambda r: r["exceptionRegister"].update(versionId="")),
    "a schema version this file does not define": (v11, lambda r: r.update(schemaVersion="1.2")),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_the_schema_refuses(case, report_validator):
    base, edit = REFUSED[case]
    assert errors(report_validator, with_(base(), edit)), case


def test_a_1_1_report_without_a_register_configured_validates(assert_valid_report):
    def no_register(r):
        r["exceptionRegister"] = None
        for rule in r["rules"]:
            rule["counts"]["excepted"] = 0
            for f in rule["nonCompliant"]:
                f.pop("exception", None)
        r["summary"]["totalExcepted"] = 0
        r["summary"]["exceptedByRule"] = {k: 0 for k in r["summary"]["exceptedByRule"]}

    assert_valid_report(with_(v11(), no_register))


@pytest.mark.parametrize("path", REGISTERS, ids=lambda p: p.name[:8])
def test_each_register_is_content_addressed_canonical_json(path):
    raw = path.read_bytes()
    assert path.stem == hashlib.sha256(raw).hexdigest()
    register = json.loads(raw)
    canonical = json.dumps(register, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert raw == (canonical + "\n").encode()
    assert register["format"] == "compliance-exceptions/1"
    ids = [e["id"] for e in register["exceptions"]]
    assert ids == sorted(ids)


def test_each_1_1_report_names_a_register_in_the_trail():
    for path in REPORTS[2:]:
        ref = load(path)["exceptionRegister"]
        stored = TRAIL / ref["key"]
        assert hashlib.sha256(stored.read_bytes()).hexdigest() == ref["sha256"]
        assert len(load(stored)["exceptions"]) == ref["entries"]
