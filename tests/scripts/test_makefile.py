"""`make help` lists every command the Makefile has, each with its description."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAKEFILE = ROOT / "Makefile"


def phony_targets(text: str) -> set[str]:
    """The names in .PHONY, which may continue over backslash-ended lines."""
    match = re.search(r"^\.PHONY:((?:.*\\\n)*.*)$", text, re.MULTILINE)
    assert match, "the Makefile declares .PHONY"
    return set(match.group(1).replace("\\\n", " ").split())


def help_lines(makefile: Path) -> dict[str, str]:
    """`make help` of ``makefile``: target -> description."""
    result = subprocess.run(
        ["make", "--no-print-directory", "-s", "-f", str(makefile), "help"],
        cwd=makefile.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    listed = {}
    for line in result.stdout.splitlines():
        name, _, description = line.strip().removeprefix("make ").partition(" ")
        listed[name] = description.strip()
    return listed


def test_help_lists_exactly_the_phony_targets_each_with_a_description():
    listed = help_lines(MAKEFILE)
    assert set(listed) == phony_targets(MAKEFILE.read_text())
    undescribed = sorted(name for name, text in listed.items() if text == "(no description)")
    assert undescribed == [], (
        f"add `## what it does` after these targets' prerequisites: {undescribed}"
    )


@pytest.mark.parametrize(
    "rule, expected",
    [
        ("shiny: bootstrap ## makes things shiny\n\t@true\n", "makes things shiny"),
        ("shiny: bootstrap\n\t@true\n", "(no description)"),
    ],
)
def test_a_new_target_is_listed_with_its_description_or_flagged(tmp_path, rule, expected):
    makefile = tmp_path / "Makefile"
    makefile.write_text(MAKEFILE.read_text() + "\n" + rule)
    assert help_lines(makefile)["shiny"] == expected
