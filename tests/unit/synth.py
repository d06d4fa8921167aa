"""Synthesize the real app the way `cdk synth` does: cdk.json's context, plus the test's overrides.

A synth takes 10-40 s on this machine, so each distinct set of overrides is synthesized once per test
process, into a temporary cloud assembly that the unit and policy tests read.
"""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Mapping, Optional

import aws_cdk as cdk
from aws_cdk.assertions import Template

from app import build_app

ROOT = Path(__file__).resolve().parents[2]
CDK_CONTEXT = json.loads((ROOT / "cdk.json").read_text())["context"]


def make_app(
    overrides: Optional[Mapping[str, Any]] = None, outdir: Optional[str] = None
) -> cdk.App:
    context = {**CDK_CONTEXT, **(overrides or {})}
    return cdk.App(context=context, outdir=outdir)


@dataclass(frozen=True)
class Synthesis:
    """One synthesized cloud assembly's template: where it is on disk (the emulator's IAM switch and
    the IAM linter read the file) and its parsed contents."""

    template_path: Path
    template: dict[str, Any]


def synthesize(overrides: Optional[Mapping[str, Any]] = None) -> Synthesis:
    return _synthesize(tuple(sorted((overrides or {}).items())))


def synth_template(overrides: Optional[Mapping[str, Any]] = None) -> Template:
    return Template.from_json(synthesize(overrides).template)


@cache
def _synthesize(overrides: tuple[tuple[str, Any], ...]) -> Synthesis:
    outdir = Path(tempfile.mkdtemp(prefix="cdk-out-"))
    atexit.register(shutil.rmtree, outdir, ignore_errors=True)
    app = make_app(dict(overrides), outdir=str(outdir))
    stack = build_app(app)
    app.synth()  # raises if a cdk-nag pack has an unacknowledged finding
    path = outdir / f"{stack.stack_name}.template.json"
    return Synthesis(path, json.loads(path.read_text()))
