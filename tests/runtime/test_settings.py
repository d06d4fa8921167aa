"""GIVEN the stack's environment WHEN settings load THEN they are typed, or one line names the bad one."""

import json

import pytest
from compliance_report.errors import SettingsError
from compliance_report.settings import MonitoredRule, load_settings

RULES = [
    {"name": "s3-bucket-sse-dev", "managedIdentifier": "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED"},
    {"name": "rds-storage-encrypted-dev", "managedIdentifier": "RDS_STORAGE_ENCRYPTED"},
]
GOOD = {
    "REPORT_BUCKET": "compliance-reports-dev",
    "ALERT_TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:compliance-alerts-dev",
    "MONITORED_RULES": json.dumps(RULES),
    "ENVIRONMENT_SUFFIX": "dev",
    "AWS_REGION": "eu-west-1",
}


def test_stack_environment_loads_with_defaults():
    settings = load_settings(GOOD)

    assert settings.report_prefix == "reports/"
    assert settings.chain_prefix == "chain/"
    assert settings.metrics_namespace == "ComplianceAudit"
    assert settings.alert_max_resources == 10
    assert settings.store_reserve_ms is None
    assert settings.max_attempts == 10
    assert settings.rules == (
        MonitoredRule("s3-bucket-sse-dev", "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED"),
        MonitoredRule("rds-storage-encrypted-dev", "RDS_STORAGE_ENCRYPTED"),
    )


def test_an_organization_members_trail_has_its_account_and_region_in_both_prefixes():
    env = dict(
        GOOD,
        REPORT_PREFIX="reports/210987654321/eu-west-1/",
        CHAIN_PREFIX="chain/210987654321/eu-west-1/",
    )

    settings = load_settings(env)

    assert settings.report_prefix == "reports/210987654321/eu-west-1/"
    assert settings.chain_prefix == "chain/210987654321/eu-west-1/"


@pytest.mark.parametrize(
    "change, fragment",
    [
        ({"REPORT_BUCKET": ""}, "REPORT_BUCKET is required"),
        ({"MONITORED_RULES": "not json"}, "MONITORED_RULES must be a JSON list"),
        ({"MONITORED_RULES": "[]"}, "non-empty JSON list"),
        ({"MONITORED_RULES": json.dumps([{"name": "a"}])}, "MONITORED_RULES[0] must be an object"),
        (
            {"MONITORED_RULES": json.dumps([{"name": "a", "managedIdentifier": "lower"}])},
            "MONITORED_RULES[0].managedIdentifier",
        ),
        ({"MONITORED_RULES": json.dumps(RULES + RULES[:1])}, "names must be unique"),
        ({"ENVIRONMENT_SUFFIX": "Dev_1"}, "ENVIRONMENT_SUFFIX 'Dev_1'"),
        ({"REPORT_PREFIX": "audit/"}, "REPORT_PREFIX 'audit/' must be 'reports/'"),
        ({"REPORT_PREFIX": "reports/12345/us-east-1/"}, "'reports/<12-digit account>/<region>/'"),
        ({"REPORT_PREFIX": "reports/210987654321/"}, "REPORT_PREFIX 'reports/210987654321/'"),
        ({"CHAIN_PREFIX": "reports/chain/"}, "CHAIN_PREFIX"),
        (
            {"REPORT_PREFIX": "reports/210987654321/eu-west-1/"},
            "CHAIN_PREFIX 'chain/' and REPORT_PREFIX 'reports/210987654321/eu-west-1/' must name "
            "the same trail",
        ),
        (
            {
                "REPORT_PREFIX": "reports/210987654321/eu-west-1/",
                "CHAIN_PREFIX": "chain/310987654321/eu-west-1/",
            },
            "must name the same trail",
        ),
        ({"ALERT_MAX_RESOURCES": "ten"}, "ALERT_MAX_RESOURCES must be an integer"),
        ({"ALERT_MAX_RESOURCES": "-1"}, "ALERT_MAX_RESOURCES must be between 0 and 1000"),
        ({"ALERT_TOPIC_ARN": "compliance-alerts"}, "ALERT_TOPIC_ARN"),
        ({"AWS_REGION": "Europe"}, "AWS_REGION 'Europe'"),
        ({"AWS_MAX_ATTEMPTS": "0"}, "AWS_MAX_ATTEMPTS must be between 1 and 20"),
        ({"AWS_MAX_ATTEMPTS": "many"}, "AWS_MAX_ATTEMPTS must be an integer"),
    ],
)
def test_bad_setting_is_one_line_naming_the_variable(change, fragment):
    env = dict(GOOD, **change)

    with pytest.raises(SettingsError) as caught:
        load_settings(env)

    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value)
