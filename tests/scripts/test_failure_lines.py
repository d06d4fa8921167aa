"""Every operator command fails with one line, no traceback: missing credentials, a stack that is not
deployed, a wrong ENV_SUFFIX (naming the account, region and stack it looked for). Run through make,
as the operator runs them; make's own ``make: *** [...] Error 1`` trailer is not the command's."""

from __future__ import annotations

import sys

import pytest
from botocore.exceptions import ClientError, NoCredentialsError, TokenRetrievalError

from scripts.deployment import explain, run
from tests.scripts.conftest import own_lines, run_make

NO_CREDENTIALS = (
    "error: no AWS credentials found (environment, ~/.aws files, SSO, instance role): sign in "
    "first: `aws sso login --profile NAME` and AWS_PROFILE=NAME, or export AWS_ACCESS_KEY_ID and "
    "AWS_SECRET_ACCESS_KEY; `aws sts get-caller-identity` must work"
)
NOT_DEPLOYED = (
    "error: stack ComplianceAudit-qa is not deployed in account 123456789012, region us-east-1, "
    "and no ComplianceAudit-* stack is: check that AWS_PROFILE points at the intended account, or "
    "deploy it with `make deploy ENV_SUFFIX=qa`"
)
WRONG_SUFFIX = (
    "error: stack ComplianceAudit-qa is not deployed in account 123456789012, region us-east-1; "
    "deployed there: ComplianceAudit-prod (ENV_SUFFIX=prod)"
)
# The commands that work on a deployed stack, with what each needs besides ENV_SUFFIX. status is
# given an executable as its auditor: the failure comes before it would run.
ON_A_STACK = {
    "outputs": [],
    "report-now": [],
    "status": [f"AUDITOR={sys.executable}"],
    "destroy": [],
    "diff": [],
}


def _assert_one_line(result, expected: str) -> None:
    assert result.returncode != 0
    assert own_lines(result) == [expected]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("target", [*ON_A_STACK, "deploy", "preflight"])
def test_missing_credentials(target, no_credentials):
    extra = ON_A_STACK.get(target, ["ALERT_EMAIL=none"])
    _assert_one_line(run_make(target, "ENV_SUFFIX=qa", *extra, env=no_credentials), NO_CREDENTIALS)


@pytest.mark.parametrize("target", ON_A_STACK)
def test_stack_not_deployed(target, account):
    result = run_make(target, "ENV_SUFFIX=qa", *ON_A_STACK[target], env=account.env)
    _assert_one_line(result, NOT_DEPLOYED)


@pytest.mark.parametrize("target", ON_A_STACK)
def test_wrong_suffix_names_the_stacks_that_are_deployed(target, account):
    account.deploy("prod")
    result = run_make(target, "ENV_SUFFIX=qa", *ON_A_STACK[target], env=account.env)
    _assert_one_line(result, WRONG_SUFFIX)


def _client_error(code: str, message: str, operation: str = "DescribeStacks") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


@pytest.mark.parametrize(
    "error, line",
    [
        (
            _client_error("ExpiredToken", "The security token included in the request is expired"),
            "the AWS credentials have expired (ExpiredToken on DescribeStacks): sign in first:",
        ),
        (
            _client_error(
                "InvalidClientTokenId", "The security token is invalid.", "GetCallerIdentity"
            ),
            "AWS rejected the credentials (InvalidClientTokenId on GetCallerIdentity: The security "
            "token is invalid.): sign in first:",
        ),
        (
            _client_error(
                "AccessDenied", "User: arn:aws:iam::1:user/x is not authorized\nto do it"
            ),
            "access denied on DescribeStacks: User: arn:aws:iam::1:user/x is not authorized to do it",
        ),
        (
            TokenRetrievalError(provider="sso", error_msg="Token has expired and refresh failed"),
            "the AWS SSO session cannot be used (Error when retrieving token from sso: Token has "
            "expired and refresh failed): run `aws sso login`",
        ),
    ],
)
def test_credential_and_permission_errors_read_as_one_line(error, line):
    assert explain(error).startswith(line)
    assert "\n" not in explain(error)


def test_run_prints_the_line_and_returns_1(capsys):
    def fails(argv):
        raise NoCredentialsError()

    assert run(fails, []) == 1
    assert capsys.readouterr().err == NO_CREDENTIALS + "\n"
