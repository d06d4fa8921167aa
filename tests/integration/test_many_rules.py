"""GIVEN more monitored rules than one Describe call may name (25, the API model's limit of
ConfigRuleNames) WHEN a run reads them THEN every rule's overall compliance and evaluation status is
read and the report is complete."""

from tests.integration.runs import monitor_rules

RULES = [
    {"name": f"many-rules-{i:02d}", "managedIdentifier": "S3_BUCKET_VERSIONING_ENABLED"}
    for i in range(30)
]


def test_thirty_monitored_rules_are_read_in_full(
    estate, monkeypatch, context_factory, make_scheduled_event, verify_trail
):
    handler_module = monitor_rules(estate, monkeypatch, RULES)

    handler_module.handler(make_scheduled_event(), context_factory())

    (report,) = verify_trail(estate)
    assert report["errors"] == [] and report["complete"] is True
    assert [r["name"] for r in report["rules"]] == [r["name"] for r in RULES]
    assert all(r["evaluationStatus"] is not None for r in report["rules"])
    assert not [p for p in report["monitoring"]["problems"] if p["code"] == "RULE_MISSING"]
