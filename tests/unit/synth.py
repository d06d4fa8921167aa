"""Synthesize the real app the way `cdk synth` does: cdk.json's context, plus the test's overrides."""

from __future__ import annotations

import json
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


def synth_template(overrides: Optional[Mapping[str, Any]] = None) -> Template:
    app = make_app(overrides)
    stack = build_app(app)
    return Template.from_stack(stack)
