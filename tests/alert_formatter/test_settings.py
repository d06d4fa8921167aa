"""GIVEN the function's environment WHEN a variable is missing or out of range THEN the function refuses
to run with one line naming the variable and the rule."""

import pytest
from realtime_alerts.errors import SettingsError
from realtime_alerts.settings import load_settings

from lib.alert_formatter import local_harness as harness
from tests.alert_formatter.conftest import RULES, TOPIC

GOOD = harness.function_environment(topic_arn=TOPIC, suffix="prod", rules=RULES)


def test_the_stack_s_environment_is_read_with_its_defaults():
    settings = load_settings(GOOD)

    assert (settings.digest_threshold, settings.digest_window_seconds) == (10, 300)
    assert settings.send_resolved is False and settings.health_check_minutes == 15
    assert [r.managed_identifier for r in settings.rules] == [
        "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED",
        "RDS_STORAGE_ENCRYPTED",
        "EC2_IMDSV2_CHECK",
    ]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DIGEST_THRESHOLD", "0", "DIGEST_THRESHOLD must be between 1 and 100, got 0"),
        ("DIGEST_THRESHOLD", "ten", "DIGEST_THRESHOLD must be an integer, got 'ten'"),
        (
            "DIGEST_WINDOW_SECONDS",
            "301",
            "DIGEST_WINDOW_SECONDS must be between 1 and 300, got 301",
        ),
        ("SEND_RESOLVED", "yes", "SEND_RESOLVED must be true or false, got 'yes'"),
        ("MONITORED_RULES", "[]", "MONITORED_RULES must be a non-empty JSON list"),
        ("ALERT_TOPIC_ARN", "", "environment variable ALERT_TOPIC_ARN is required"),
        ("ENVIRONMENT_SUFFIX", "Prod", "ENVIRONMENT_SUFFIX 'Prod' must be 1-16 lower-case"),
    ],
)
def test_a_bad_variable_is_one_line_naming_it(name, value, message):
    with pytest.raises(SettingsError) as caught:
        load_settings({**GOOD, name: value})
    assert message in str(caught.value) and "\n" not in str(caught.value)
