"""Compare what the auditor computed from the bucket with what the scenario says must have happened."""

from __future__ import annotations

from typing import Any

from .scenario import KINDS, MANAGED_RULES, Expectation


def timeline_differences(
    timeline: dict[str, Any],
    expectation: Expectation,
    rule_names: dict[str, str],
    resource_ids: dict[tuple[str, str, int], str],
) -> list[str]:
    """Every disagreement between the auditor's timeline JSON and the expectation, one line each.

    ``rule_names`` maps a kind to its rule name; ``resource_ids`` maps a finding id (kind, name,
    generation) to the AWS Config resource id the emulator gave it.
    """
    problems: list[str] = []
    days = timeline["days"]
    if len(days) != len(expectation.days):
        problems.append(f"timeline has {len(days)} days, the scenario {len(expectation.days)}")
    for got, want in zip(days, expectation.days):
        when = want.date.isoformat()
        if got["date"] != when:
            problems.append(f"day {got['date']}: expected date {when}")
            continue
        state = "reported" if want.reported else "carried"
        if got["state"] != state or got["gap"] == want.reported:
            problems.append(f"{when}: state {got['state']} gap {got['gap']}, expected {state}")
        for kind in KINDS:
            count = got["byRule"].get(rule_names[kind], 0)
            if count != want.by_kind[kind]:
                problems.append(
                    f"{when}: {rule_names[kind]} has {count} open, expected {want.by_kind[kind]}"
                )
        if got["total"] != want.total:
            problems.append(f"{when}: total {got['total']}, expected {want.total}")
        for kind in KINDS:
            count = got.get("exceptedByRule", {}).get(rule_names[kind], 0)
            if count != want.excepted_by_kind.get(kind, 0):
                problems.append(
                    f"{when}: {rule_names[kind]} has {count} excepted, expected "
                    f"{want.excepted_by_kind.get(kind, 0)}"
                )

    expected_windows = sorted(
        (
            rule_names[w.finding[0]],
            resource_ids[w.finding],
            w.opened.isoformat(),
            None if w.resolved is None else w.resolved.isoformat(),
        )
        for w in expectation.windows
    )
    got_windows = sorted(
        (e["rule"], e["resourceId"], w["opened"], w["resolved"])
        for e in timeline["exposures"]
        for w in e["windows"]
    )
    for extra in sorted(set(got_windows) - set(expected_windows)):
        problems.append(f"unexpected exposure window {extra}")
    for missing in sorted(set(expected_windows) - set(got_windows)):
        problems.append(f"missing exposure window {missing}")

    stats = {s["rule"]: s for s in timeline["ruleStats"]}
    for kind in KINDS:
        rule = rule_names[kind]
        s = stats.get(rule, {"opened": 0, "resolved": 0})
        want = (expectation.opened(kind), expectation.resolved(kind))
        if (s["opened"], s["resolved"]) != want:
            problems.append(
                f"{rule}: opened/resolved {s['opened']}/{s['resolved']}, expected {want[0]}/{want[1]}"
            )
    return problems


def rule_names_by_kind(rules: list[dict[str, str]]) -> dict[str, str]:
    by_identifier = {r["managedIdentifier"]: r["name"] for r in rules}
    return {kind: by_identifier[identifier] for kind, identifier in MANAGED_RULES.items()}
