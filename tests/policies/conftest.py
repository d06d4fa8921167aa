"""Run the policies in policies/ with the pinned cfn-guard and read its JSON verdicts.

Every test goes through :func:`run_policies`: one cfn-guard process per template, all rule files
at once, the way ``make validate`` runs them. cfn-guard's structured JSON output lists each rule
as compliant, not compliant or not applicable, so a test can name the exact rules it expects to
fail and the messages they gave, not just read the exit code.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, FrozenSet, Iterator, Mapping, Set, Tuple

import pytest

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "policies"
GUARD = ROOT / ".tools" / "bin" / "cfn-guard"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# cfn-guard 3 exits 0 when every rule passes or is skipped and 19 when a rule fails.
GUARD_PASS, GUARD_FAIL = 0, 19


@dataclass(frozen=True)
class PolicyReport:
    """cfn-guard's verdict on one template: rule name -> PASS / FAIL / SKIP."""

    statuses: Mapping[str, str]
    messages: Mapping[str, FrozenSet[str]] = field(default_factory=dict)

    def named(self, status: str) -> Set[str]:
        return {rule for rule, s in self.statuses.items() if s == status}

    @property
    def failed(self) -> Set[str]:
        return self.named("FAIL")

    @property
    def skipped(self) -> Set[str]:
        return self.named("SKIP")

    @property
    def passed(self) -> Set[str]:
        return self.named("PASS")

    def explain(self) -> str:
        """The failing rules and their messages, for assertion output."""
        lines = [
            f"{rule}: {'; '.join(sorted(self.messages.get(rule, ())))}"
            for rule in sorted(self.failed)
        ]
        return "\n".join(lines) or "no rule failed"


def _custom_messages(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "custom_message" and isinstance(value, str) and value.strip():
                yield value.strip()
            else:
                yield from _custom_messages(value)
    elif isinstance(node, list):
        for value in node:
            yield from _custom_messages(value)


def _report(result: Mapping[str, Any]) -> PolicyReport:
    statuses: Dict[str, str] = {}
    messages: Dict[str, FrozenSet[str]] = {}
    for name in result["compliant"]:
        statuses[name] = "PASS"
    for name in result["not_applicable"]:
        statuses[name] = "SKIP"
    for entry in result["not_compliant"]:
        rule = entry["Rule"]
        statuses[rule["name"]] = "FAIL"
        messages[rule["name"]] = frozenset(_custom_messages(rule))
    return PolicyReport(statuses=statuses, messages=messages)


@pytest.fixture(scope="session")
def guard_binary() -> Path:
    if not GUARD.is_file():
        pytest.fail(
            f"cfn-guard not found at {GUARD.relative_to(ROOT)}: run `make bootstrap`", pytrace=False
        )
    return GUARD


@pytest.fixture(scope="session")
def run_policies_on_many(
    guard_binary: Path, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[Mapping[str, Mapping[str, Any]]], Dict[str, PolicyReport]]:
    """Validate templates (name -> template dict) against every rule file in policies/, in one
    cfn-guard process."""

    def run(templates: Mapping[str, Mapping[str, Any]]) -> Dict[str, PolicyReport]:
        workdir = tmp_path_factory.mktemp("templates")
        paths = {}
        for name, template in templates.items():
            paths[name] = workdir / f"{name}.json"
            paths[name].write_text(json.dumps(template))
        proc = subprocess.run(
            [
                str(guard_binary),
                "validate",
                "--rules",
                str(POLICIES),
                "--data",
                str(workdir),
                "--output-format",
                "json",
                "--structured",
                "--show-summary",
                "none",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode not in (GUARD_PASS, GUARD_FAIL):
            raise AssertionError(
                f"cfn-guard could not evaluate the policies (exit {proc.returncode}): {proc.stderr.strip()}"
            )
        by_path = {
            Path(result["name"]).resolve(): _report(result) for result in json.loads(proc.stdout)
        }
        reports = {name: by_path[path.resolve()] for name, path in paths.items()}
        any_failed = any(report.failed for report in reports.values())
        assert proc.returncode == (GUARD_FAIL if any_failed else GUARD_PASS), (
            f"cfn-guard exited {proc.returncode}, which disagrees with its own report"
        )
        return reports

    return run


@pytest.fixture(scope="session")
def run_policies(run_policies_on_many) -> Callable[[Mapping[str, Any]], PolicyReport]:
    """Validate one template (a dict) against every rule file in policies/."""

    def run(template: Mapping[str, Any]) -> PolicyReport:
        return run_policies_on_many({"template": template})["template"]

    return run


_RULE_HEADER = re.compile(r"^rule\s+([A-Za-z0-9_]+)", re.MULTILINE)


@pytest.fixture(scope="session")
def declared_rules() -> Dict[str, Tuple[str, str]]:
    """Rule name -> (rule file, rule text) for every ``rule`` written in policies/*.guard.

    A rule's text runs from its header to the next top-level ``rule`` or ``let`` or the end of
    the file.
    """
    rules: Dict[str, Tuple[str, str]] = {}
    for path in sorted(POLICIES.glob("*.guard")):
        text = path.read_text()
        headers = list(_RULE_HEADER.finditer(text))
        for i, header in enumerate(headers):
            end = headers[i + 1].start() if i + 1 < len(headers) else len(text)
            next_let = re.search(r"^let\s", text[header.end() : end], re.MULTILINE)
            if next_let:
                end = header.end() + next_let.start()
            name = header.group(1)
            if name in rules:
                raise AssertionError(f"rule {name} is declared in {rules[name][0]} and {path.name}")
            rules[name] = (path.name, text[header.start() : end])
    return rules


@pytest.fixture(scope="session")
def _compliant_text() -> str:
    return (FIXTURES / "compliant.json").read_text()


@pytest.fixture
def compliant(_compliant_text: str) -> Dict[str, Any]:
    """A fresh copy of the smallest template that satisfies every rule."""
    return copy.deepcopy(json.loads(_compliant_text))


# ---- the real app ------------------------------------------------------------------------------
# Each in-process synth takes ~10 s, so each variant is built at most once per session (per
# xdist worker) and only when a test asks for it.
SYNTH_VARIANTS: Mapping[str, Mapping[str, Any]] = {
    "default": {},
    "alert-email": {"alertEmail": "security@example.com"},
    "existing-config-recorder": {"useExistingConfigRecorder": True},
}


@pytest.fixture(scope="session")
def synthesized() -> Callable[[str], Dict[str, Any]]:
    from tests.unit.synth import synth_template

    cache: Dict[str, Dict[str, Any]] = {}

    def get(variant: str) -> Dict[str, Any]:
        if variant not in cache:
            cache[variant] = synth_template(SYNTH_VARIANTS[variant]).to_json()
        return cache[variant]

    return get
