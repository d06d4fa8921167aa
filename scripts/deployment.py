#!/usr/bin/env python3
"""What every operator command needs first: AWS credentials that work, and the deployed stack.

``find`` answers "which account am I in, and is ComplianceAudit-<suffix> deployed there?" with the
stack's status and outputs, or an ``OpsError`` whose message is the one line the operator sees:

* no or unusable credentials: what is missing and how to sign in;
* the stack is not deployed: the account, region and stack looked for, and the ComplianceAudit
  stacks that are deployed there, so a wrong ENV_SUFFIX names the right one.

``run`` is every script's entry point: an ``OpsError``, a botocore error or Ctrl-C becomes one line on
stderr (``error: ...``) and exit status 1, never a traceback. Run alone, this module checks the
stack, which is what ``make diff`` does before ``cdk diff``::

    python -m scripts.deployment --suffix prod
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Optional

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    CredentialRetrievalError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
    SSOError,
    TokenRetrievalError,
)

from lib.settings import REGION
from lib.stack_outputs import STACK_NAME_PREFIX, StackOutput, stack_name

CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 8})

SIGN_IN = (
    "sign in first: `aws sso login --profile NAME` and AWS_PROFILE=NAME, or export "
    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; `aws sts get-caller-identity` must work"
)
# Error codes AWS answers when the credentials themselves are wrong or stale (STS, and any service).
_REJECTED = {
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "AuthFailure",
    "InvalidAccessKeyId",
}
_EXPIRED = {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"}
_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError"}
# Every CloudFormation stack status except DELETE_COMPLETE: the stacks that exist (ListStacks'
# StackStatusFilter; the API reference lists the values).
LIVE_STATUSES = [
    "CREATE_IN_PROGRESS",
    "CREATE_FAILED",
    "CREATE_COMPLETE",
    "ROLLBACK_IN_PROGRESS",
    "ROLLBACK_FAILED",
    "ROLLBACK_COMPLETE",
    "DELETE_IN_PROGRESS",
    "DELETE_FAILED",
    "UPDATE_IN_PROGRESS",
    "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
    "UPDATE_COMPLETE",
    "UPDATE_FAILED",
    "UPDATE_ROLLBACK_IN_PROGRESS",
    "UPDATE_ROLLBACK_FAILED",
    "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
    "UPDATE_ROLLBACK_COMPLETE",
    "REVIEW_IN_PROGRESS",
    "IMPORT_IN_PROGRESS",
    "IMPORT_COMPLETE",
    "IMPORT_ROLLBACK_IN_PROGRESS",
    "IMPORT_ROLLBACK_FAILED",
    "IMPORT_ROLLBACK_COMPLETE",
]


class OpsError(Exception):
    """A failure the operator acts on. The message is the one line printed after ``error: ``."""


@dataclass(frozen=True)
class Deployment:
    """A stack of this app as CloudFormation describes it, and where it was found."""

    account: str
    region: str
    stack_name: str
    stack_id: str
    status: str
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"account {self.account}, region {self.region}"

    @property
    def in_progress(self) -> bool:
        return self.status.endswith("_IN_PROGRESS")

    def output(self, wanted: StackOutput) -> str:
        """The output's value, or an OpsError saying why the stack has none."""
        value = self.outputs.get(wanted.key)
        if value:
            return value
        if self.status in ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED"):
            why = "its first deploy failed and was rolled back; `make destroy`, then deploy again"
        elif self.status == "REVIEW_IN_PROGRESS":
            why = "a change set was created but never executed; run `make deploy` again"
        elif self.in_progress:
            why = "an operation is in progress; wait for it to finish"
        else:
            why = "deployed from an older version of this app; run `make deploy` to add it"
        raise OpsError(
            f"stack {self.stack_name} in {self.where} has no output {wanted.key} "
            f"(status {self.status}): {why}"
        )


def session(region: str = REGION) -> boto3.session.Session:
    """A session in the stack's region with the standard credential chain (AWS_PROFILE and SSO
    profiles included)."""
    try:
        return boto3.session.Session(region_name=region)
    except ProfileNotFound as e:
        raise OpsError(f"{e}: check AWS_PROFILE and ~/.aws/config") from None


def client(aws: boto3.session.Session, service: str) -> Any:
    return aws.client(service, config=CLIENT_CONFIG)  # type: ignore[call-overload]


def caller_account(aws: boto3.session.Session) -> str:
    """The account the credentials belong to (GetCallerIdentity needs no permission)."""
    return str(client(aws, "sts").get_caller_identity()["Account"])


def live_stacks(cloudformation: Any) -> list[str]:
    """Names of this app's stacks that exist in the client's account and region."""
    pages = cloudformation.get_paginator("list_stacks").paginate(StackStatusFilter=LIVE_STATUSES)
    return sorted(
        s["StackName"]
        for page in pages
        for s in page["StackSummaries"]
        if s["StackName"].startswith(STACK_NAME_PREFIX)
    )


def not_deployed(name: str, account: str, region: str, others: Sequence[str]) -> str:
    """The one line for a stack that is not there, naming the ones that are."""
    where = f"stack {name} is not deployed in account {account}, region {region}"
    if others:
        suffixes = ", ".join(o.removeprefix(STACK_NAME_PREFIX) for o in others)
        return f"{where}; deployed there: {', '.join(others)} (ENV_SUFFIX={suffixes})"
    return (
        f"{where}, and no {STACK_NAME_PREFIX}* stack is: check that AWS_PROFILE points at the "
        f"intended account, or deploy it with `make deploy ENV_SUFFIX={name.removeprefix(STACK_NAME_PREFIX)}`"
    )


def describe(aws: boto3.session.Session, suffix: str) -> tuple[str, Optional[dict[str, Any]]]:
    """(account, the stack's DescribeStacks entry or None when it does not exist)."""
    account = caller_account(aws)
    cloudformation = client(aws, "cloudformation")
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name(suffix))["Stacks"]
    except ClientError as e:
        # DescribeStacks answers ValidationError "Stack with id X does not exist" for a stack that
        # is not there (or only in DELETE_COMPLETE, which a name no longer finds).
        if _code(e) == "ValidationError" and "does not exist" in _message(e):
            return account, None
        raise
    return account, stacks[0]


def find(aws: boto3.session.Session, suffix: str) -> Deployment:
    """The deployed stack ComplianceAudit-<suffix>, or an OpsError naming what was looked for."""
    name = stack_name(suffix)
    account, stack = describe(aws, suffix)
    region = aws.region_name
    if stack is None:
        others = live_stacks(client(aws, "cloudformation"))
        raise OpsError(not_deployed(name, account, region, others))
    return Deployment(
        account=account,
        region=region,
        stack_name=name,
        stack_id=stack["StackId"],
        status=stack["StackStatus"],
        outputs={o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])},
    )


# -- one line per failure ------------------------------------------------------------------------
def _code(e: ClientError) -> str:
    return str(e.response.get("Error", {}).get("Code", ""))


def _message(e: ClientError) -> str:
    return str(e.response.get("Error", {}).get("Message", ""))


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def explain(e: BaseException) -> str:
    """The one line for an AWS failure: what went wrong and what to do."""
    if isinstance(e, NoCredentialsError):
        return (
            f"no AWS credentials found (environment, ~/.aws files, SSO, instance role): {SIGN_IN}"
        )
    if isinstance(e, PartialCredentialsError):
        return f"incomplete AWS credentials ({_one_line(str(e))}): {SIGN_IN}"
    if isinstance(e, (TokenRetrievalError, SSOError)):
        return f"the AWS SSO session cannot be used ({_one_line(str(e))}): run `aws sso login`"
    if isinstance(e, CredentialRetrievalError):
        return f"{_one_line(str(e))}: {SIGN_IN}"
    if isinstance(e, ProfileNotFound):
        return f"{_one_line(str(e))}: check AWS_PROFILE and ~/.aws/config"
    if isinstance(e, EndpointConnectionError):
        return f"cannot reach AWS ({_one_line(str(e))}): check the network or proxy"
    if isinstance(e, ClientError):
        code, message = _code(e), _one_line(_message(e))
        operation = e.operation_name
        if code in _EXPIRED:
            return f"the AWS credentials have expired ({code} on {operation}): {SIGN_IN}"
        if code in _REJECTED:
            return f"AWS rejected the credentials ({code} on {operation}: {message}): {SIGN_IN}"
        if code in _DENIED:
            return f"access denied on {operation}: {message}"
        return f"{operation} failed: {code}: {message}"
    if isinstance(e, BotoCoreError):
        return _one_line(str(e))
    return _one_line(f"{type(e).__name__}: {e}")


def run(main: Callable[[Optional[list[str]]], int], argv: Optional[list[str]] = None) -> int:
    """Run a script's ``main``; every failure it can meet becomes one line on stderr and status 1."""
    try:
        return main(argv)
    except OpsError as e:
        print(f"error: {e}", file=sys.stderr)
    except (BotoCoreError, ClientError) as e:
        print(f"error: {explain(e)}", file=sys.stderr)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
    return 1


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Check that the stack is deployed, and say where.")
    parser.add_argument("--suffix", required=True, help="environment suffix, e.g. prod")
    args = parser.parse_args(argv)
    deployment = find(session(), args.suffix)
    print(f"{deployment.stack_name} in {deployment.where}: {deployment.status}")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
