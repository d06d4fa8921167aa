#!/usr/bin/env python3
"""Validation summary of synthesized templates: cfn-lint, cfn-guard, cdk-nag and the IAM linter.

cdk-nag runs inside synth (its packs are CDK validation plugins), so reaching this script means the packs
had no unacknowledged finding; this prints what was acknowledged, per pack. Exit 0 when everything
passed, 1 when a check failed, 2 when a check could not run. ``--assembly cdk.out`` checks every
stack of the app (the organization shape's evidence, regional and member templates), one block each.
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


def _construct_path(template: Path) -> list[str]:
    """The stack's construct path, from the cloud assembly's manifest (a stage's stack lives in a nested
    assembly under a file named by its artifact id); a template outside an assembly is named by it."""
    manifest = template.parent / "manifest.json"
    if manifest.is_file():
        for artifact in json.loads(manifest.read_text()).get("artifacts", {}).values():
            props = artifact.get("properties", {})
            if (
                artifact.get("type") == "aws:cloudformation:stack"
                and props.get("templateFile") == template.name
            ):
                return str(artifact.get("displayName", "")).split("/")
    return [template.name.removesuffix(".template.json")]


def nag_summary(template: Path) -> tuple[bool, str]:
    from lib.nag_acknowledgements import acks_for_stack
    from lib.nag_plugins import PACKS

    folder = template.parent
    while not (folder / "tree.json").is_file() and folder != folder.parent:
        folder = folder.parent
    tree = json.loads((folder / "tree.json").read_text())
    path = _construct_path(template)
    stack = tree["tree"]
    for part in path:
        stack = stack["children"][part]
    ACKS = acks_for_stack(path[-1])

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


def assembly_templates(assembly: Path) -> list[Path]:
    """Every stack template of a cloud assembly, nested assemblies (stages) included, in manifest order."""
    manifest = json.loads((assembly / "manifest.json").read_text())
    out: list[Path] = []
    for artifact in manifest.get("artifacts", {}).values():
        props = artifact.get("properties", {})
        if artifact.get("type") == "aws:cloudformation:stack":
            out.append(assembly / props["templateFile"])
        elif artifact.get("type") == "cdk:cloud-assembly":
            out += assembly_templates(assembly / props["directoryName"])
    return out


def validate(template: Path, guard: Path) -> bool:
    resources = json.loads(template.read_text())["Resources"]
    print(f"template    {template} ({len(resources)} resources)")
    ok = True
    for check in (cfn_lint, nag_summary):
        passed, line = check(template)
        ok &= passed
        print(line)
    passed, line = cfn_guard(template, guard)
    ok &= passed
    print(line)
    passed, line = iam_lint(template)
    ok &= passed
    print(line)
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--template", type=Path, action="append", help="a template (repeatable)")
    target.add_argument(
        "--assembly", type=Path, help="a cloud assembly (cdk.out): every stack template in it"
    )
    parser.add_argument("--guard", type=Path, default=ROOT / ".tools/bin/cfn-guard")
    args = parser.parse_args()
    if args.assembly is not None:
        if not (args.assembly / "manifest.json").is_file():
            print(
                f"error: {args.assembly}: no cloud assembly; run make synth first", file=sys.stderr
            )
            return 2
        templates = assembly_templates(args.assembly)
    else:
        templates = args.template
    missing = next((t for t in templates if not t.is_file()), None)
    if missing is not None:
        print(f"error: {missing}: no such template; run make synth first", file=sys.stderr)
        return 2
    ok = True
    for template in templates:
        ok &= validate(template, args.guard)
    print("validation  " + ("PASSED" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
