#!/usr/bin/env python3
"""CDK entry point: read and validate context once, build the stack. No AWS calls at synth."""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Optional

import aws_cdk as cdk

from lib.compliance_stack import ComplianceAuditStack
from lib.config_monitoring.infrastructure import exception_rules
from lib.exceptions.register import RegisterError
from lib.exceptions.source import DEFAULT_FILE, load_register
from lib.nag_plugins import add_nag_plugins
from lib.organization.build import build_organization
from lib.settings import ORGANIZATION, REGION, StackSettings, StackSettingsError
from lib.stack_outputs import stack_name

# A warning nobody may miss in synth output: framed, and on stderr, where cdk shows it.
_BANNER = "!" * 100
# The exceptions register, reviewed like the code beside it.
EXCEPTIONS_FILE = Path(__file__).resolve().parent / DEFAULT_FILE


def build_app(app: cdk.App, today: Optional[date] = None) -> cdk.Stack:
    """The stacks of the shape the context asks for; returns the single stack, or the organization's
    evidence stack (``build_organization`` returns every stack of that shape). ``today`` is the synth
    date the exceptions register is checked against (default: today in UTC)."""
    settings = StackSettings.from_context(app.node.try_get_context)
    register = load_register(
        EXCEPTIONS_FILE,
        today=today or datetime.now(timezone.utc).date(),
        rules=exception_rules(),
    )
    settings = replace(settings, exceptions=register)
    # Before any stack: the organization shape synthesizes its member stage while it builds.
    add_nag_plugins(app)
    stack: cdk.Stack
    if settings.deployment == ORGANIZATION:
        stack = build_organization(app, settings).evidence
    else:
        stack = ComplianceAuditStack(
            app,
            stack_name(settings.environment_suffix),
            settings=settings,
            env=cdk.Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=REGION),
            description="Continuous compliance auditing: AWS Config rules, alerts, hash-chained "
            "reports",
        )
    warning = settings.runtime_warning()
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    no_email = settings.alert_email_warning()
    if no_email:
        print(f"{_BANNER}\nWARNING: {no_email}\n{_BANNER}", file=sys.stderr)
    return stack


def main() -> int:
    app = cdk.App()
    try:
        build_app(app)
    except StackSettingsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except RegisterError as e:
        for line in e.lines:
            print(f"error: {line}", file=sys.stderr)
        return 2
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
