"""cdk-nag packs and cfn-lint on the synthesized app: zero unacknowledged findings, zero lint errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3

from app import build_app
from lib.nag_acknowledgements import ACKS
from lib.settings import StackSettings
from tests.unit.conftest import VARIANTS
from tests.unit.synth import make_app

CFN_LINT = str(Path(sys.executable).parent / "cfn-lint")


def synth_to(tmp_path: Path, overrides: dict, extra=None):
    app = make_app(overrides, outdir=str(tmp_path))
    stack = build_app(app)
    if extra:
        extra(stack)
    app.synth()
    return tmp_path / f"{stack.stack_name}.template.json"


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_packs_pass_and_cfn_lint_has_no_errors(tmp_path, name):
    template = synth_to(
        tmp_path, VARIANTS[name]
    )  # raises if any pack has an unacknowledged finding
    report = json.loads((tmp_path / "validation-report.json").read_text())
    nag_reports = [
        p for p in report["pluginReports"] if p["pluginName"] != "CloudFormation Validate"
    ]
    assert all(p["conclusion"] == "success" for p in nag_reports)

    lint = subprocess.run(
        [CFN_LINT, "--format", "json", "--", str(template)], capture_output=True, text=True
    )
    findings = json.loads(lint.stdout or "[]")
    assert [f for f in findings if f["Level"] == "Error"] == []
    warnings = sorted({f["Rule"]["Id"] for f in findings if f["Level"] == "Warning"})
    # cfn-lint warns W2531 for a runtime deprecated today, from the same data the settings read.
    settings = StackSettings.from_mapping(VARIANTS[name])
    assert warnings == (["W2531"] if settings.runtime_warning() else [])


def test_an_unacknowledged_finding_fails_synth(tmp_path):
    """Proof the gate can close: an unencrypted, unversioned bucket added to the stack fails synth."""

    def add_bad_bucket(stack):
        s3.CfnBucket(stack, "Careless")

    with pytest.raises(RuntimeError, match="ValidationFailed"):
        synth_to(tmp_path, {}, add_bad_bucket)
    report = json.loads((tmp_path / "validation-report.json").read_text())
    violated = {
        v["ruleName"]
        for p in report["pluginReports"]
        for v in p["violations"]
        if any(c["constructPath"].endswith("/Careless") for c in v["violatingConstructs"])
    }
    assert "AwsSolutions-S1" in violated  # no server access logs


def test_every_acknowledgement_gives_a_reason_naming_a_requirement_or_fact():
    for ack in ACKS:
        assert len(ack.reason) > 60, ack
        assert ack.finding.split("-", 1)[0] in {"AwsSolutions", "PCI.DSS.321", "NIST.800.53.R5"}


def test_all_three_packs_are_registered():
    app = make_app()
    build_app(app)
    assert cdk.Validations.of(app) is not None
    from lib.nag_plugins import PACKS

    assert PACKS == ("AwsSolutions", "PCI.DSS.321", "NIST.800.53.R5")
