"""The outputs the operator scripts read (lib/stack_outputs.py) are the template's, and synth warns
loudly when nobody would be alerted, unless alertEmail=none says so."""

from __future__ import annotations

from app import build_app
from lib.report_generator.infrastructure import MESSAGE_GROUP
from lib.settings import StackSettings
from lib.stack_outputs import OUTPUTS, stack_name
from scripts.request_report import MESSAGE_GROUP as REQUEST_MESSAGE_GROUP
from tests.unit.synth import make_app


def test_the_template_has_exactly_the_outputs_the_scripts_read(template):
    outputs = template.to_json()["Outputs"]

    assert set(outputs) == {output.key for output in OUTPUTS}
    for output in OUTPUTS:
        assert outputs[output.key]["Description"] == output.description
        assert "Export" not in outputs[output.key], "nothing imports them; an export blocks destroy"


def test_report_now_uses_the_schedules_message_group():
    assert REQUEST_MESSAGE_GROUP == MESSAGE_GROUP


def test_stack_name_carries_the_suffix():
    assert stack_name("prod-eu1") == "ComplianceAudit-prod-eu1"


def test_synth_without_alert_email_warns_loudly(capsys):
    stack = build_app(make_app({"environmentSuffix": "loud"}))

    err = capsys.readouterr().err
    lines = err.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("WARNING: no alertEmail"))
    assert lines[at - 1] == lines[at + 1] == "!" * 100
    assert "nobody is subscribed to compliance-alerts-loud" in lines[at]
    assert "ALERT_EMAIL=none" in lines[at]
    assert stack.stack_name == "ComplianceAudit-loud"


def test_alert_email_none_is_quiet_and_subscribes_nobody(capsys):
    build_app(make_app({"environmentSuffix": "quiet", "alertEmail": "none"}))

    assert "alertEmail" not in capsys.readouterr().err
    settings = StackSettings.from_mapping({"alertEmail": "None"})
    assert settings.alert_email is None and settings.alert_email_declined
    assert settings.alert_email_warning() is None


def test_an_address_needs_no_warning():
    settings = StackSettings.from_mapping({"alertEmail": "team@example.com"})
    assert settings.alert_email_warning() is None and not settings.alert_email_declined
