"""`make destroy`: says what goes first, asks for the stack name, and keeps a bucket under Object Lock
while deleting the stack (DeleteStack, then DeleteStack with RetainResources), against the emulator."""

from __future__ import annotations

import json

import pytest

import scripts.destroy as destroy
from tests.scripts.conftest import logs_bucket, own_lines, reports_bucket, run_make, run_script

SUFFIX = "qa"
STACK = "ComplianceAudit-qa"
# A bucket policy for the kept bucket to get back. (Not the stack's TLS-only one: moto evaluates
# bucket policies, and the emulator is plain HTTP.)
POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": "s3:PutObjectAcl",
                "Resource": [f"arn:aws:s3:::{reports_bucket(SUFFIX)}/*"],
            }
        ],
    }
)


def _deploy(account, locked: bool = False) -> str:
    """ComplianceAudit-qa with 12 report versions and 3 delete markers, and 2 access-log objects;
    ``locked``: the reports bucket under Object Lock, default retention 1 day (S3 takes the
    configuration on an empty bucket)."""
    stack_id = account.deploy(SUFFIX)
    if locked:
        account.lock(reports_bucket(SUFFIX))
    account.put_reports(reports_bucket(SUFFIX), count=12, deletes=3)
    account.put_reports(logs_bucket(SUFFIX), count=2)
    return stack_id


@pytest.fixture
def deployed(account):
    return _deploy(account)


def test_plan_comes_first_and_a_wrong_name_deletes_nothing(account, deployed):
    result = run_script(
        "destroy", "--suffix", SUFFIX, env=account.env, stdin="ComplianceAudit-prod\n"
    )

    assert result.returncode == 1
    plan = result.stdout.splitlines()
    assert plan[0] == f"{STACK} in account 123456789012, region us-east-1 (status CREATE_COMPLETE):"
    assert plan[1] == (
        f"  DELETE 12 report object versions and 3 delete markers, then reports bucket "
        f"{reports_bucket(SUFFIX)}"
    )
    assert (
        plan[2]
        == f"  DELETE 2 object versions and 0 delete markers, then bucket {logs_bucket(SUFFIX)}"
    )
    assert plan[3] == "  DELETE the stack and every other resource in it"
    assert plan[4] == f"Type the stack name ({STACK}) to delete it: "
    assert (
        result.stderr == f"error: typed 'ComplianceAudit-prod', not {STACK}: nothing was deleted\n"
    )
    assert account.stack_status(deployed) == "CREATE_COMPLETE"
    assert account.versions(reports_bucket(SUFFIX)) == 15


def test_without_a_terminal_or_confirm_nothing_is_deleted(account, deployed):
    result = run_script("destroy", "--suffix", SUFFIX, env=account.env, stdin="")

    assert result.returncode == 1
    assert result.stderr == (
        f"error: no confirmation: type the stack name when asked, or pass CONFIRM={STACK}; "
        "nothing was deleted\n"
    )
    assert account.versions(reports_bucket(SUFFIX)) == 15


def test_a_confirm_for_another_stack_deletes_nothing(account, deployed):
    result = run_make(
        "destroy", f"ENV_SUFFIX={SUFFIX}", "CONFIRM=ComplianceAudit-prod", env=account.env
    )

    assert result.returncode != 0
    assert own_lines(result)[-1] == (
        f"error: CONFIRM=ComplianceAudit-prod is not the stack name {STACK}: nothing was deleted"
    )
    assert account.stack_status(deployed) == "CREATE_COMPLETE"


def test_typed_name_deletes_every_version_and_the_stack(account, deployed):
    result = run_script("destroy", "--suffix", SUFFIX, env=account.env, stdin=f"{STACK}\n")

    assert result.returncode == 0, result.stderr
    assert f"deleted {STACK} from account 123456789012, region us-east-1" in result.stdout
    assert account.stack_status(deployed) == "DELETE_COMPLETE"
    assert not {reports_bucket(SUFFIX), logs_bucket(SUFFIX)} & account.buckets()


def test_a_bucket_under_object_lock_is_kept_untouched_and_the_stack_still_goes(account):
    # GIVEN the reports bucket under Object Lock (default retention: 1 day) and a bucket policy
    deployed = _deploy(account, locked=True)
    bucket = reports_bucket(SUFFIX)
    account.s3.put_bucket_policy(Bucket=bucket, Policy=POLICY)

    # WHEN make destroy runs with CONFIRM
    result = run_make("destroy", f"ENV_SUFFIX={SUFFIX}", f"CONFIRM={STACK}", env=account.env)

    # THEN the plan said so before anything happened, the stack is gone, the locked bucket stays
    # with every version and its policy, and the other bucket is gone
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1].startswith(f"  KEEP reports bucket {bucket}: Object Lock holds its versions (")
    assert "COMPLIANCE retention until" in lines[1]
    assert "its 12 report object versions and 3 delete markers are all kept" in lines[1]
    assert lines[-1].startswith(f"kept {bucket}: under Object Lock, in no stack now")
    assert account.stack_status(deployed) == "DELETE_COMPLETE"
    assert account.versions(bucket) == 15
    assert json.loads(account.s3.get_bucket_policy(Bucket=bucket)["Policy"]) == json.loads(POLICY)
    assert logs_bucket(SUFFIX) not in account.buckets()
    events = account.cloudformation.describe_stack_events(StackName=deployed)["StackEvents"]
    assert [e["ResourceStatus"] for e in events if e["LogicalResourceId"] == STACK][:3] == [
        "DELETE_COMPLETE",
        "DELETE_IN_PROGRESS",
        "DELETE_FAILED",
    ]


def test_objects_arriving_after_the_bucket_was_emptied_are_emptied_again(
    account, deployed, monkeypatch
):
    # GIVEN an access-log delivery that lands just after the first emptying of the logs bucket
    empty = destroy.empty_bucket
    late = {"delivered": False}

    def empty_then_deliver(s3, bucket):
        answer = empty(s3, bucket)
        if bucket == logs_bucket(SUFFIX) and not late["delivered"]:
            late["delivered"] = True
            s3.put_object(Bucket=bucket, Key="reports-bucket/late-log", Body=b"GET")
        return answer

    monkeypatch.setattr(destroy, "empty_bucket", empty_then_deliver)
    for name, value in account.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)

    # WHEN it is destroyed
    status = destroy.main(["--suffix", SUFFIX, "--confirm", STACK], ask=pytest.fail)

    # THEN the first DeleteStack failed on that bucket, which was emptied again, and the stack went
    assert status == 0 and late["delivered"]
    assert account.stack_status(deployed) == "DELETE_COMPLETE"
    assert logs_bucket(SUFFIX) not in account.buckets()


def test_a_stack_already_in_delete_failed_is_finished(account):
    # GIVEN an earlier plain delete that failed on the locked reports bucket
    deployed = _deploy(account, locked=True)
    account.cloudformation.delete_stack(StackName=deployed)
    assert account.stack_status(deployed) == "DELETE_FAILED"

    result = run_script("destroy", "--suffix", SUFFIX, "--confirm", STACK, env=account.env)

    assert result.returncode == 0, result.stderr
    assert "(status DELETE_FAILED):" in result.stdout.splitlines()[0]
    assert account.stack_status(deployed) == "DELETE_COMPLETE"
    assert reports_bucket(SUFFIX) in account.buckets()
