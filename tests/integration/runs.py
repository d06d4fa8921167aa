"""What the integration tests read from a run's output, and more monitored rules for a run, in one
place (the fixtures stay in conftest.py)."""

from __future__ import annotations

import json
from typing import Any

from lib.report_generator import local_harness as harness


def run_output(capsys: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The JSON lines the handler wrote since the last read: its log lines, and its EMF documents."""
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    return [x for x in lines if "_aws" not in x], [x for x in lines if "_aws" in x]


def metric(docs: list[dict[str, Any]], name: str) -> list[Any]:
    """Every value of metric ``name`` in the EMF documents, in order."""
    return [doc[name] for doc in docs if name in doc]


ADMIN_KEY = (
    "testing"  # the emulator's admin access key: never evaluated (tools/local_aws/iam/README.md)
)


def monitor_rules(estate: Any, monkeypatch: Any, rules: list[dict[str, str]]) -> Any:
    """Create ``rules`` (AWS managed) in the emulated account, make them the function's
    MONITORED_RULES, and return a handler of its own that signs with the admin key.

    The function's policy names the stack's own rules, so AWS (and the emulator, enforcing it) would
    deny it rules the stack does not create; the runs that monitor more rules are about the runtime
    (many rules, retry budgets), not about IAM. A fresh handler module keeps its own client cache, so
    no other test's cached clients sign with this key."""
    for rule in rules:
        estate.config.put_config_rule(
            ConfigRule={
                "ConfigRuleName": rule["name"],
                "Source": {"Owner": "AWS", "SourceIdentifier": rule["managedIdentifier"]},
            }
        )
    monkeypatch.setenv("MONITORED_RULES", json.dumps(rules))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ADMIN_KEY)
    return harness.load_handler(f"report_generator_handler_{len(rules)}_rules")
