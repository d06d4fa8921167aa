"""GIVEN the synthesized stack WHEN its exceptions layer and functions are read THEN both functions read
the repository's register from one arm64 python3.9 layer, named with the suffix, whose asset holds the
register's canonical bytes at exceptions/register.json, under the same two variables; and a bad
exceptions.yaml stops synth with one line per bad entry."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import aws_cdk as cdk
import pytest

from app import EXCEPTIONS_FILE, build_app, main
from lib.alert_formatter.runtime.realtime_alerts import environment as formatter_variables
from lib.config_monitoring.infrastructure import exception_rules
from lib.exceptions.infrastructure import REGISTER_PATH, stage
from lib.exceptions.register import Register
from lib.exceptions.source import load_register
from lib.report_generator.runtime.compliance_report import environment as variables
from tests.unit.synth import make_app, synthesize


def layers(template):
    return template.find_resources("AWS::Lambda::LayerVersion")


def functions(template):
    return template.find_resources("AWS::Lambda::Function").values()


def test_one_layer_arm64_python39_named_with_the_suffix_and_destroyed_with_the_stack(template):
    ((_, layer),) = layers(template).items()
    props = layer["Properties"]
    assert props["LayerName"] == "compliance-exceptions-dev"
    assert props["CompatibleArchitectures"] == ["arm64"]
    assert props["CompatibleRuntimes"] == ["python3.9"]
    assert layer["DeletionPolicy"] == "Delete"


def test_both_functions_use_the_layer_and_name_the_same_register(template):
    ((layer_id, _),) = layers(template).items()
    register = load_register(EXCEPTIONS_FILE, today=date.today(), rules=exception_rules())

    for function in functions(template):
        props = function["Properties"]
        env = props["Environment"]["Variables"]
        assert props["Layers"] == [{"Ref": layer_id}], props["FunctionName"]
        assert env[variables.EXCEPTIONS_REGISTER_KEY] == register.key
        assert env[variables.EXCEPTIONS_REGISTER_PATH] == REGISTER_PATH
    # The two runtimes spell the names apart (neither imports the other); they must agree.
    assert (variables.EXCEPTIONS_REGISTER_KEY, variables.EXCEPTIONS_REGISTER_PATH) == (
        formatter_variables.EXCEPTIONS_REGISTER_KEY,
        formatter_variables.EXCEPTIONS_REGISTER_PATH,
    )
    assert REGISTER_PATH == "/opt/exceptions/register.json"
    # The formatter's own default (its harness without a stack) is the same file.
    assert formatter_variables.REGISTER_LAYER_PATH == REGISTER_PATH


def test_the_layer_asset_holds_the_canonical_bytes_at_the_path_lambda_mounts():
    synthesis = synthesize()
    ((_, layer),) = (
        (k, r)
        for k, r in synthesis.template["Resources"].items()
        if r["Type"] == "AWS::Lambda::LayerVersion"
    )
    asset = (
        synthesis.template_path.parent
        / f"asset.{Path(layer['Properties']['Content']['S3Key']).stem}"
    )
    raw = (asset / "exceptions" / "register.json").read_bytes()
    key = next(
        f["Properties"]["Environment"]["Variables"][variables.EXCEPTIONS_REGISTER_KEY]
        for f in synthesis.template["Resources"].values()
        if f["Type"] == "AWS::Lambda::Function"
    )

    assert key == f"exceptions/{hashlib.sha256(raw).hexdigest()}.json"
    assert sorted(p.relative_to(asset).as_posix() for p in asset.rglob("*") if p.is_file()) == [
        "exceptions/register.json"
    ]


def test_staging_writes_only_the_register(tmp_path):
    register = Register.empty(30)
    folder = stage(register)
    assert (folder / "exceptions" / "register.json").read_bytes() == register.canonical_bytes()


def test_a_bad_register_stops_synth_with_one_line_per_entry(tmp_path, monkeypatch, capsys):
    bad = tmp_path / "exceptions.yaml"
    bad.write_text(
        "exceptions:\n"
        "  - id: EXC-1\n    rule: s3-bucket-sse-enabled\n    resourceType: AWS::S3::Bucket\n"
        "    resourceId: legacy-logs\n    reason: old SIEM\n    ticket: RISK-1\n"
        "    created: 2026-01-01\n    expires: 2026-02-01\n"
    )
    monkeypatch.setattr("app.EXCEPTIONS_FILE", bad)
    app = make_app()
    monkeypatch.setattr(cdk, "App", lambda: app)

    assert main() == 2

    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == (
        "error: exceptions.yaml: exceptions[0] (EXC-1): missing approver; expires 2026-02-01 is in "
        f"the past (synth date {date.today()}): remove or renew it"
    )


def test_the_synth_date_is_injectable(monkeypatch, tmp_path):
    path = tmp_path / "exceptions.yaml"
    path.write_text(
        "exceptions:\n"
        "  - id: EXC-1\n    rule: s3-bucket-sse-enabled\n    resourceType: AWS::S3::Bucket\n"
        "    resourceId: legacy-logs\n    reason: old SIEM\n    approver: a@example.com\n"
        "    ticket: RISK-1\n    created: 2026-01-01\n    expires: 2026-02-01\n"
    )
    monkeypatch.setattr("app.EXCEPTIONS_FILE", path)
    with pytest.raises(Exception, match="is in the past"):
        build_app(make_app(), today=date(2026, 2, 2))
    stack = build_app(make_app(), today=date(2026, 2, 1))
    assert stack.stack_name == "ComplianceAudit-dev"
