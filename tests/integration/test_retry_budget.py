"""GIVEN warm clients that a storm of failures left without retry quota (botocore's standard retry mode
keeps one quota per client: 500 tokens, a retry costs 5 to 14, a call that succeeds first time gives 1
back) WHEN the next invocation meets a few throttles THEN it retries them: every invocation starts with
a full retry budget.

Two invocations of one loaded handler module, so the second runs on the clients the first warmed, as in
a warm Lambda execution environment.
"""

import pytest

from tests.integration.runs import monitor_rules

RULES = [
    {"name": f"retry-budget-{i:02d}", "managedIdentifier": "S3_BUCKET_VERSIONING_ENABLED"}
    for i in range(40)
]


@pytest.fixture
def handler_module(estate, monkeypatch):
    """40 rules: 84 Config calls a run, enough for a storm to spend any client's quota in one run
    (at 3 attempts a call, 168 retries wanted; 36 to 100 spend the quota, by botocore version)."""
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "3")
    return monitor_rules(estate, monkeypatch, RULES)


def test_after_a_storm_spends_the_retry_quota_the_next_invocation_still_retries(
    emulator, handler_module, context_factory, make_scheduled_event
):
    emulator.set_faults(
        [{"service": "config", "operation": "*", "error": "InternalError", "status": 500}]
    )
    storm = handler_module.handler(make_scheduled_event(), context_factory())
    assert storm["complete"] is False  # every read failed after its retries, or without any
    # The next day: 20 of the 80 result reads are throttled once each.
    emulator.set_faults(
        [
            {
                "service": "config",
                "operation": "GetComplianceDetailsByConfigRule",
                "error": "ThrottlingException",
                "count": 20,
            }
        ]
    )
    emulator.reset_stats()

    after = handler_module.handler(make_scheduled_event(), context_factory())

    assert emulator.stats()["faults_fired"] == {"config.GetComplianceDetailsByConfigRule": 20}
    assert after["complete"] is True, "throttled reads were not retried: the quota was still spent"
    assert after["sequence"] == 1
