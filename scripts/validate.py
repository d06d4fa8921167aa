#!/usr/bin/env python3
"""Validation summary of a synthesized template: cfn-lint, cfn-guard, cdk-nag and the IAM linter.

cdk-nag runs inside synth (its packs are CDK validation plugins), so reaching this script means the packs
had no unacknowledged finding; this prints what was acknowledged, per pack. Exit 0 when everything
passed, 1 when a check failed, 2 when a check could not run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# The one warning cfn-lint is expected to raise: python3.9 is deprecated, and the contract keeps it.
EXPECTED_WARNINGS = {"W2531"}


def cfn_lint(template: Path) -> tuple[bool, str]:
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--format", "json", "--", str(template)],
        capture_output=True,
        text=True,
    )
    if proc.returncode not in (0, 2, 4, 6, 8, 10, 12, 14):
        return False, f"cfn-lint could not run: {proc.stderr.strip().splitlines()[-1:]}"
    matches = json.loads(proc.stdout or "[]")
    levels = Counter(m["Level"] for m in matches)
    unexpected = [
        m
        for m in matches
        if m["Level"] != "Informational" and m["Rule"]["Id"] not in EXPECTED_WARNINGS
    ]
    expected = sorted({m["Rule"]["Id"] for m in matches} & EXPECTED_WARNINGS)
    line = f"cfn-lint    {levels.get('Error', 0)} errors, {levels.get('Warning', 0)} warnings" + (
        f" ({', '.join(expected)}: python3.9 deprecation, expected)" if expected else ""
    )
    for m in unexpected:
        line += f"\n            {m['Rule']['Id']} {m['Message']} ({m['Location']['Path']})"
    return not unexpected, line


def cfn_guard(template: Path, guard: Path) -> tuple[bool, str]:
    if not guard.exists():
        return False, f"cfn-guard   not installed at {guard}: run make bootstrap"
    rules = sorted((ROOT / "policies").glob("*.guard"))
    if not rules:
        return False, "cfn-guard   no policies/*.guard files"
    proc = subprocess.run(
        [
            str(guard),
            "validate",
            "-d",
            str(template),
            "-r",
            str(ROOT / "policies"),
            "--output-format",
            "json",
            "--show-summary",
            "none",
            "--structured",
        ],
        capture_output=True,
        text=True,
    )
    if proc.returncode not in (0, 19):
        return (
            False,
            f"cfn-guard   could not run (exit {proc.returncode}): {proc.stderr.strip()[:300]}",
        )
    (result,) = json.loads(proc.stdout)
    failed = [_rule_name(r) for r in result["not_compliant"]]
    line = (
        f"cfn-guard   {len(rules)} policy files: {len(result['compliant'])} rules passed, "
        f"{len(failed)} failed, {len(result['not_applicable'])} not applicable"
    )
    for name in failed:
        line += f"\n            FAIL {name}"
    return proc.returncode == 0 and not failed, line


def _rule_name(failure: object) -> str:
    if isinstance(failure, dict):
        rule = failure.get("Rule", failure)
        return str(rule.get("name", json.dumps(failure)[:120]))
    return str(failure)


def nag_summary(template: Path) -> tuple[bool, str]:
    from lib.nag_acknowledgements import ACKS
    from lib.nag_plugins import PACKS

    tree = json.loads((template.parent / "tree.json").read_text())
    stack_name = template.name.removesuffix(".template.json")
    stack = tree["tree"]["children"][stack_name]

    def exists(path: str) -> bool:
        node = stack
        for part in path.split("/"):
            node = node.get("children", {}).get(part)
            if node is None:
                return False
        return True

    applied = [a for a in ACKS if exists(a.path)]
    per_pack: Counter[str] = Counter()
    for a in applied:
        pack = next((p for p in PACKS if a.finding.startswith(p + "-")), "other")
        per_pack[pack] += 1
    parts = ", ".join(f"{p} {per_pack.get(p, 0)}" for p in PACKS)
    return True, f"cdk-nag     0 unacknowledged findings; acknowledged with reasons: {parts}"


def iam_lint(template: Path) -> tuple[bool, str]:
    """Every policy against the Service Authorization Reference (tools/local_aws/iam/lint.py)."""
    from tools.local_aws.iam.lint import check_template

    return check_template(template)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", type=Path, required=True)
    parser.add_argument("--guard", type=Path, default=ROOT / ".tools/bin/cfn-guard")
    args = parser.parse_args()
    if not args.template.is_file():
        print(f"error: {args.template}: no such template; run make synth first", file=sys.stderr)
        return 2
    resources = json.loads(args.template.read_text())["Resources"]
    print(f"template    {args.template} ({len(resources)} resources)")
    ok = True
    for check in (cfn_lint, nag_summary):
        passed, line = check(args.template)
        ok &= passed
        print(line)
    passed, line = cfn_guard(args.template, args.guard)
    ok &= passed
    print(line)
    passed, line = iam_lint(args.template)
    ok &= passed
    print(line)
    print("validation  " + ("PASSED" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
