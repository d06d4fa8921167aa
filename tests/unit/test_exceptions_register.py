"""GIVEN an exceptions.yaml WHEN it is validated at synth THEN each kind of bad entry is refused with one
line naming the entry and the rule it broke, and a good register has the contract's canonical bytes and
content-addressed key (docs/report-format.md, "Exceptions (schema 1.1)")."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import pytest

from lib.config_monitoring.infrastructure import exception_rules
from lib.exceptions.register import Register, RegisterError, validate
from lib.exceptions.source import load_register

SYNTH_DATE = date(2026, 7, 1)
RULES = exception_rules()


def entry(**changes):
    good = {
        "id": "EXC-2026-001",
        "rule": "rds-storage-encrypted",
        "resourceType": "AWS::RDS::DBInstance",
        "resourceId": "db-ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "reason": "Decommissioned on 2026-10-15 (migration to the encrypted cluster)",
        "approver": "jane.doe@example.com",
        "ticket": "RISK-1234",
        "created": "2026-07-01",
        "expires": "2026-09-15",
    }
    good.update(changes)
    return {k: v for k, v in good.items() if v is not None}


def refused(*entries, **top) -> list[str]:
    with pytest.raises(RegisterError) as caught:
        validate({**top, "exceptions": list(entries)}, today=SYNTH_DATE, rules=RULES)
    return list(caught.value.lines)


def test_the_stack_rules_are_the_three_managed_rules_with_their_types():
    assert RULES == {
        "s3-bucket-sse-enabled": ("AWS::S3::Bucket",),
        "rds-storage-encrypted": ("AWS::RDS::DBInstance",),
        "ec2-imdsv2-check": ("AWS::EC2::Instance",),
    }


# Each kind of bad entry: the entry as written, and what the one line must say.
BAD = {
    "unknown rule": (entry(rule="rds-encrypted"), "unknown rule 'rds-encrypted'"),
    "rule with the suffix": (
        entry(rule="rds-storage-encrypted-dev"),
        "unknown rule 'rds-storage-encrypted-dev'",
    ),
    "type the rule does not evaluate": (
        entry(resourceType="AWS::S3::Bucket"),
        "rule rds-storage-encrypted does not evaluate resource type 'AWS::S3::Bucket'",
    ),
    "expiry in the past": (
        entry(created="2026-05-01", expires="2026-06-30"),
        "expires 2026-06-30 is in the past (synth date 2026-07-01)",
    ),
    "expiry beyond maxDays": (
        entry(expires="2027-07-02"),
        "expires 2027-07-02 is 366 days after created 2026-07-01, beyond maxDays 365",
    ),
    "expires before created": (
        entry(created="2026-09-16"),
        "expires 2026-09-15 is before created 2026-09-16",
    ),
    "missing approver": (entry(approver=None), "missing approver"),
    "missing reason": (entry(reason=None), "missing reason"),
    "missing ticket": (entry(ticket=None), "missing ticket"),
    "missing created": (entry(created=None), "missing created"),
    "missing expires": (entry(expires=None), "missing expires"),
    "blank approver": (entry(approver="  "), "approver must be non-blank text"),
    "approver longer than a label holds": (
        entry(approver="a" * 257),
        "approver must be non-blank text of at most 256 characters",
    ),
    "malformed id": (entry(id="EXC 2026/001"), "malformed id 'EXC 2026/001'"),
    "id over 64 characters": (entry(id="E" * 65), "malformed id"),
    "malformed date": (entry(expires="2026-9-15"), "malformed expires '2026-9-15'"),
    "impossible date": (entry(created="2026-02-30"), "malformed created '2026-02-30'"),
    "unknown field": (entry(owner="x"), "unknown field(s) owner"),
}


@pytest.mark.parametrize("kind", sorted(BAD))
def test_each_kind_of_bad_entry_is_one_line_naming_the_entry_and_the_rule(kind):
    bad, says = BAD[kind]
    good = entry(id="EXC-2026-000", resourceId="db-OTHER")

    lines = refused(good, bad)

    assert len(lines) == 1, lines
    named = f"exceptions[1] ({bad['id']})" if "malformed id" not in says else "exceptions[1]"
    assert lines[0].startswith(f"exceptions.yaml: {named}"), lines[0]
    assert says in lines[0], lines[0]


def test_a_duplicate_id_names_both_entries():
    (line,) = refused(entry(), entry(resourceId="db-OTHER"))

    assert line.startswith("exceptions.yaml: exceptions[1] (EXC-2026-001): ")
    assert "duplicate id (also exceptions[0])" in line


def test_a_duplicate_finding_under_two_ids_names_both_entries():
    (line,) = refused(entry(), entry(id="EXC-2026-002"))

    assert line.startswith("exceptions.yaml: exceptions[1] (EXC-2026-002): ")
    assert (
        "duplicate (rule, resourceType, resourceId) rds-storage-encrypted AWS::RDS::DBInstance "
        "db-ABCDEFGHIJKLMNOPQRSTUVWXYZ (also exceptions[0])"
    ) in line


def test_every_bad_entry_gets_its_line_and_good_ones_none():
    lines = refused(
        entry(id="A", resourceId="db-1"),
        entry(id="B", resourceId="db-2", approver=None),
        entry(id="C", resourceId="db-3"),
        entry(id="D", resourceId="db-4", rule="nope", expires="2020-01-01"),
    )

    assert [line.split(":")[1].strip() for line in lines] == [
        "exceptions[1] (B)",
        "exceptions[3] (D)",
    ]
    assert "unknown rule 'nope'" in lines[1] and "is in the past" in lines[1]


def test_an_exception_ending_on_the_synth_date_is_still_accepted():
    register = validate(
        {"exceptions": [entry(expires="2026-07-01")]}, today=SYNTH_DATE, rules=RULES
    )
    assert register.entries[0].expires == "2026-07-01"


def test_max_days_is_configurable_and_checked():
    assert "beyond maxDays 30" in refused(entry(), maxDays=30)[0]
    (line,) = refused(entry(), maxDays=0)
    assert line == "exceptions.yaml: maxDays 0 must be a whole number of days from 1 to 2557"


def test_the_canonical_bytes_are_sorted_compact_and_content_addressed():
    register = validate(
        {
            "maxDays": 200,
            "exceptions": [
                entry(id="EXC-2026-002", resourceId="db-2"),
                entry(id="EXC-2026-001", resourceId="db-1", reason="Vendor — décommissionné"),
            ],
        },
        today=SYNTH_DATE,
        rules=RULES,
    )

    raw = register.canonical_bytes()
    data = json.loads(raw)
    assert raw == (
        json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
    ).encode("utf-8")
    assert "décommissionné".encode() in raw  # UTF-8, not \\u escapes
    assert data["format"] == "compliance-exceptions/1" and data["maxDays"] == 200
    assert [e["id"] for e in data["exceptions"]] == ["EXC-2026-001", "EXC-2026-002"]
    assert register.key == f"exceptions/{hashlib.sha256(raw).hexdigest()}.json"


def test_the_contract_example_gives_the_documented_bytes():
    """docs/report-format.md shows the example entry's register bytes; the code must agree."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "report-format.md").read_text()
    documented = next(line for line in doc.splitlines() if line.startswith('{"exceptions":[{'))
    register = validate({"exceptions": [entry()]}, today=SYNTH_DATE, rules=RULES)

    assert register.canonical_bytes() == (documented + "\n").encode()


def test_no_file_and_an_empty_list_are_the_empty_register(tmp_path):
    missing = load_register(tmp_path / "exceptions.yaml", today=SYNTH_DATE, rules=RULES)
    (tmp_path / "exceptions.yaml").write_text("exceptions: []\n")
    empty = load_register(tmp_path / "exceptions.yaml", today=SYNTH_DATE, rules=RULES)

    assert missing == empty == Register.empty()
    assert missing.canonical_bytes() == (
        b'{"exceptions":[],"format":"compliance-exceptions/1","maxDays":365}\n'
    )


def test_yaml_dates_are_read_as_written(tmp_path):
    """YAML 1.1 would read 2026-9-1 as a date; the register refuses it as malformed instead."""
    path = tmp_path / "exceptions.yaml"
    path.write_text(
        "exceptions:\n"
        "  - id: EXC-1\n    rule: ec2-imdsv2-check\n    resourceType: AWS::EC2::Instance\n"
        "    resourceId: i-0123456789abcdef0\n    reason: vendor appliance\n"
        "    approver: sam.lee@example.com\n    ticket: RISK-1240\n"
        "    created: 2026-07-01\n    expires: 2026-9-1\n"
    )
    with pytest.raises(RegisterError) as caught:
        load_register(path, today=SYNTH_DATE, rules=RULES)
    (line,) = caught.value.lines
    assert line == "exceptions.yaml: exceptions[0] (EXC-1): malformed expires '2026-9-1' " + (
        "(a calendar date YYYY-MM-DD)"
    )


def test_a_key_given_twice_and_bad_yaml_are_one_line(tmp_path):
    path = tmp_path / "exceptions.yaml"
    path.write_text("exceptions:\n  - id: A\n    id: B\n")
    with pytest.raises(RegisterError) as twice:
        load_register(path, today=SYNTH_DATE, rules=RULES)
    path.write_text("exceptions: [\n")
    with pytest.raises(RegisterError) as broken:
        load_register(path, today=SYNTH_DATE, rules=RULES)

    assert twice.value.lines == (
        "exceptions.yaml line 3: not readable YAML (key 'id' given twice)",
    )
    (line,) = broken.value.lines
    assert line.startswith("exceptions.yaml line 2: not readable YAML")


def test_the_repository_register_validates_today():
    from app import EXCEPTIONS_FILE

    register = load_register(EXCEPTIONS_FILE, today=date.today(), rules=RULES)
    assert register.key.startswith("exceptions/")
