"""What the integration tests read from a run's output, and more monitored rules for a run, in one
place (the fixtures stay in conftest.py)."""

from __future__ import annotations

import json
from typing import Any


def run_output(capsys: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The JSON lines the handler wrote since the last read: its log lines, and its EMF documents."""
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    return [x for x in lines if "_aws" not in x], [x for x in lines if "_aws" in x]


def metric(docs: list[dict[str, Any]], name: str) -> list[Any]:
    """Every value of metric ``name`` in the EMF documents, in order."""
    return [doc[name] for doc in docs if name in doc]


def monitor_rules(estate: Any, monkeypatch: Any, rules: list[dict[str, str]]) -> None:
    """Create ``rules`` (AWS managed) in the emulated account and make them the function's
    MONITORED_RULES."""
    for rule in rules:
        estate.config.put_config_rule(
            ConfigRule={
                "ConfigRuleName": rule["name"],
                "Source": {"Owner": "AWS", "SourceIdentifier": rule["managedIdentifier"]},
            }
        )
    monkeypatch.setenv("MONITORED_RULES", json.dumps(rules))
