#!/usr/bin/env python3
"""Checks ``make deploy`` runs before it synthesizes and deploys, each failing in one line:

1. **Settings.** The CDK context the deploy will use (``cdk.json``'s, then the ``-c key=value``
   arguments given after ``--``, as the CDK CLI merges them) is read with the stack's own
   ``StackSettings``, so a bad value fails here as it would in synth.
2. **Alert e-mail.** A deploy without ``alertEmail`` alerts nobody: refused unless an address is given
   or ``ALERT_EMAIL=none`` (``alertEmail=none``) says that is on purpose.
3. **Credentials**, and the account they belong to (GetCallerIdentity).
4. **The stack** is not in the middle of another operation.
5. **AWS Config.** A region has at most one customer managed configuration recorder and one delivery
   channel (Config API reference, PutConfigurationRecorder: "You can create only one customer managed
   configuration recorder for each account for each AWS Region"; beyond that it answers
   MaxNumberOfConfigurationRecordersExceededException, and PutDeliveryChannel
   MaxNumberOfDeliveryChannelsExceededException). A recorder or channel that is not this stack's own
   makes the stack's creation fail after minutes, so it is found now (DescribeConfigurationRecorders
   without names returns the customer managed recorder; DescribeDeliveryChannels) and the flag that
   fits is named: ``-c useExistingConfigRecorder=true``. The reverse is refused too: that flag in a
   region without a recorder would deploy rules that never evaluate.

A recorder is this stack's own when the deployed template of ComplianceAudit-<suffix> creates one with
that name; one created by another ComplianceAudit stack is named with its stack.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Optional

import boto3

from lib.settings import NO_ALERT_EMAIL, StackSettings, StackSettingsError
from lib.stack_outputs import stack_name
from scripts import deployment
from scripts.deployment import OpsError

ROOT = Path(__file__).resolve().parents[1]
USE_EXISTING = "useExistingConfigRecorder"
_RECORDER = "AWS::Config::ConfigurationRecorder"
_CHANNEL = "AWS::Config::DeliveryChannel"


def cdk_context(cdk_json: Path, arguments: list[str]) -> dict[str, Any]:
    """cdk.json's context, overridden by each ``-c key=value`` / ``--context key=value``."""
    context: dict[str, Any] = dict(json.loads(cdk_json.read_text()).get("context", {}))
    words = iter(arguments)
    for word in words:
        if word in ("-c", "--context"):
            pair = next(words, "")
        elif word.startswith("--context="):
            pair = word.removeprefix("--context=")
        else:
            continue
        key, sep, value = pair.partition("=")
        if not sep:
            raise OpsError(f"{word} {pair}: a context argument must be key=value")
        context[key] = value
    return context


def check_alert_email(settings: StackSettings, name: str) -> str:
    if settings.alert_email:
        return f"alerts to {settings.alert_email}"
    if settings.alert_email_declined:
        return "no alert e-mail, on purpose (ALERT_EMAIL=none)"
    raise OpsError(
        f"ALERT_EMAIL is not set: {name} would alert nobody; pass ALERT_EMAIL=security@example.com, "
        f"or ALERT_EMAIL={NO_ALERT_EMAIL} to deploy without e-mail on purpose"
    )


def stack_config_names(cloudformation: Any, stack: str) -> dict[str, set[str]]:
    """The recorder and channel names the stack's deployed template creates, by resource type."""
    body = cloudformation.get_template(StackName=stack)["TemplateBody"]
    template = json.loads(body) if isinstance(body, str) else body
    names: dict[str, set[str]] = {_RECORDER: set(), _CHANNEL: set()}
    for resource in (template.get("Resources") or {}).values():
        kind = resource.get("Type")
        name = (resource.get("Properties") or {}).get("Name")
        if kind in names and isinstance(name, str):
            names[kind].add(name)
    return names


def check_config(
    aws: boto3.session.Session,
    settings: StackSettings,
    name: str,
    deployed: bool,
    where: str,
) -> str:
    config = deployment.client(aws, "config")
    cloudformation = deployment.client(aws, "cloudformation")
    recorders = [
        r["name"]
        for r in config.describe_configuration_recorders().get("ConfigurationRecorders", [])
        if not r.get("servicePrincipal")  # service-linked recorders do not count against the one
    ]
    channels = [c["name"] for c in config.describe_delivery_channels().get("DeliveryChannels", [])]
    owners: dict[tuple[str, str], str] = {}
    for stack in deployment.live_stacks(cloudformation):
        if stack != name or deployed:
            for kind, created in stack_config_names(cloudformation, stack).items():
                owners.update({(kind, n): stack for n in created})

    def foreign(kind: str, names: list[str]) -> list[str]:
        return [
            f"{n!r} (from stack {owners[(kind, n)]})" if (kind, n) in owners else repr(n)
            for n in names
            if owners.get((kind, n)) != name
        ]

    other_recorders = foreign(_RECORDER, recorders)
    other_channels = foreign(_CHANNEL, channels)
    if not settings.use_existing_config_recorder:
        if other_recorders or other_channels:
            found = " and ".join(
                part
                for part in (
                    other_recorders and f"configuration recorder {', '.join(other_recorders)}",
                    other_channels and f"delivery channel {', '.join(other_channels)}",
                )
                if part
            )
            raise OpsError(
                f"AWS Config in {where} already has {found}, and a region takes one of each: "
                f"deploy with the existing ones, "
                f'make deploy ... CDK_ARGS="-c {USE_EXISTING}=true" '
                "(or remove them if nothing else uses them)"
            )
        return "Config recorder and delivery channel: the stack's own"
    if not recorders:
        raise OpsError(
            f"{USE_EXISTING}=true, but AWS Config in {where} has no configuration recorder: the "
            f"rules would never evaluate; deploy without -c {USE_EXISTING}=true so the stack "
            "creates one"
        )
    if not other_recorders:
        raise OpsError(
            f"{USE_EXISTING}=true, but the only configuration recorder in {where} is {name}'s own "
            f"({', '.join(map(repr, recorders))}): this deploy would delete it and the rules would "
            f"stop evaluating; deploy without -c {USE_EXISTING}=true"
        )
    status = config.describe_configuration_recorder_status().get("ConfigurationRecordersStatus", [])
    idle = [s["name"] for s in status if not s.get("recording")]
    note = f" (not recording: {', '.join(idle)}; start it)" if idle else ""
    return f"Config: uses the existing recorder {', '.join(other_recorders)}{note}"


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="The checks make deploy runs before it deploys.")
    parser.add_argument("--suffix", required=True, help="environment suffix, e.g. prod")
    parser.add_argument(
        "cdk_args", nargs=argparse.REMAINDER, help="after --: the -c key=value arguments of cdk"
    )
    args = parser.parse_args(argv)
    cdk_args = [a for a in args.cdk_args if a != "--"]
    context = cdk_context(ROOT / "cdk.json", cdk_args)
    context["environmentSuffix"] = args.suffix
    try:
        settings = StackSettings.from_mapping(context)
    except StackSettingsError as e:
        raise OpsError(str(e)) from None
    name = stack_name(settings.environment_suffix)
    email = check_alert_email(settings, name)

    aws = deployment.session()
    account, stack = deployment.describe(aws, settings.environment_suffix)
    where = f"account {account}, region {aws.region_name}"
    if stack is not None and stack["StackStatus"].endswith("_IN_PROGRESS"):
        raise OpsError(
            f"{name} in {where} is {stack['StackStatus']}: wait for that operation to finish"
        )
    config = check_config(aws, settings, name, stack is not None, where)

    state = f"update ({stack['StackStatus']})" if stack is not None else "new stack"
    print(f"preflight: {name} in {where}: {state}; {email}; {config}")
    if stack is None:
        others = deployment.live_stacks(deployment.client(aws, "cloudformation"))
        if others:
            print(f"preflight: also deployed there: {', '.join(others)}")
    return 0


if __name__ == "__main__":
    sys.exit(deployment.run(main))
