#!/usr/bin/env python3
"""Delete a deployed stack, after saying what will go and after the operator types the stack's name.

1. **Survey, then say.** Every bucket of the stack is surveyed (``bucket_contents.survey``): how many
   object versions and delete markers it holds, and whether S3 Object Lock protects any version
   (retention in force, or a legal hold). The plan is printed before anything is asked or deleted:
   how many report versions and delete markers will be deleted, and which bucket is kept.
2. **Confirm.** The operator types the stack name, or passes it as ``CONFIRM=ComplianceAudit-<suffix>``
   (``--confirm``) for a run without a terminal. Anything else deletes nothing.
3. **Empty** every bucket that is not kept (all versions and delete markers).
4. **Delete the stack**, keeping a locked bucket. CloudFormation cannot delete a bucket that still has
   objects: the first DeleteStack deletes everything else and ends ``DELETE_FAILED`` with the locked
   bucket ``DELETE_FAILED``. DeleteStack accepts ``RetainResources`` only for a stack in that state
   (DeleteStack API reference: "For stacks in the DELETE_FAILED state, a list of resource logical IDs
   ... you want to retain"), so the second DeleteStack names the locked bucket there, and deletes the
   stack while the bucket stays, untouched. A bucket that failed for another reason (S3 server access
   logs or Config deliveries arriving after it was emptied) is emptied again before the next
   DeleteStack; after ``MAX_ROUNDS`` or a resource that is not a bucket, the script stops and says what
   failed.
5. **Put the kept bucket's policy back.** Deleting the stack deletes the bucket's
   ``AWS::S3::BucketPolicy`` (it is a resource of its own, deleted before the bucket). The policy is
   TLS-only denies; the script puts the text it read in step 1 back on the kept bucket.

``cdk destroy`` is not used: it cannot pass RetainResources.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Optional

from botocore.exceptions import ClientError, WaiterError

from lib.stack_outputs import REPORT_BUCKET
from scripts import deployment
from scripts.bucket_contents import BucketSurvey, empty_bucket, survey
from scripts.deployment import Deployment, OpsError

# DeleteStack attempts: the second keeps a locked bucket; more empty again the buckets that late S3
# access logs or Config deliveries reached, and retain a kept bucket that an attempt left out.
MAX_ROUNDS = 5
# How long to wait for one DeleteStack: the stack's slowest deletes (the Lambda, the Config recorder)
# take a few minutes. botocore's waiter polls DescribeStacks every WAIT_DELAY_S seconds.
WAIT_DELAY_S = 10
WAIT_ATTEMPTS = 180


@dataclass(frozen=True)
class StackBucket:
    logical_id: str
    survey: BucketSurvey
    is_reports: bool

    @property
    def kept(self) -> bool:
        return self.survey.locked is not None


def stack_buckets(
    cloudformation: Any, s3: Any, deployed: Deployment, now: datetime
) -> list[StackBucket]:
    """Every S3 bucket of the stack, surveyed; the reports bucket first."""
    pages = cloudformation.get_paginator("list_stack_resources").paginate(
        StackName=deployed.stack_id
    )
    found = [
        (r["LogicalResourceId"], r["PhysicalResourceId"])
        for page in pages
        for r in page["StackResourceSummaries"]
        if r["ResourceType"] == "AWS::S3::Bucket"
        and r.get("PhysicalResourceId")
        and r.get("ResourceStatus") != "DELETE_COMPLETE"
    ]
    reports = deployed.outputs.get(REPORT_BUCKET.key)
    buckets = [StackBucket(lid, survey(s3, name, now), name == reports) for lid, name in found]
    return sorted(buckets, key=lambda b: (not b.is_reports, b.survey.name))


def plan_lines(deployed: Deployment, buckets: list[StackBucket]) -> list[str]:
    lines = [f"{deployed.stack_name} in {deployed.where} (status {deployed.status}):"]
    for bucket in buckets:
        s = bucket.survey
        what = "report object versions" if bucket.is_reports else "object versions"
        role = "reports bucket" if bucket.is_reports else "bucket"
        counts = f"{s.versions:,} {what} and {s.delete_markers:,} delete markers"
        if not s.exists:
            lines.append(f"  {role} {s.name}: already gone")
        elif bucket.kept and s.locked is not None:
            lines.append(
                f"  KEEP {role} {s.name}: Object Lock holds its versions ({s.locked.describe()}); "
                f"its {counts} are all kept, and the bucket stays after the stack is gone"
            )
        else:
            lines.append(f"  DELETE {counts}, then {role} {s.name}")
    lines.append("  DELETE the stack and every other resource in it")
    return lines


def confirm(stack: str, given: str, ask: Callable[[str], str]) -> None:
    """Go on only when the operator typed, or passed as CONFIRM, exactly the stack name."""
    if given:
        if given != stack:
            raise OpsError(f"CONFIRM={given} is not the stack name {stack}: nothing was deleted")
        return
    try:
        typed = ask(f"Type the stack name ({stack}) to delete it: ").strip()
    except EOFError:
        raise OpsError(
            f"no confirmation: type the stack name when asked, or pass CONFIRM={stack}; "
            "nothing was deleted"
        ) from None
    if typed != stack:
        raise OpsError(f"typed {typed!r}, not {stack}: nothing was deleted")


def delete_stack(
    cloudformation: Any, s3: Any, deployed: Deployment, buckets: list[StackBucket]
) -> list[StackBucket]:
    """Delete the stack, keeping the buckets under Object Lock; returns the buckets kept."""
    by_id = {b.logical_id: b for b in buckets}
    kept_ids = {b.logical_id for b in buckets if b.kept}
    retain: list[str] = []
    for _ in range(MAX_ROUNDS):
        cloudformation.delete_stack(
            StackName=deployed.stack_id, **({"RetainResources": retain} if retain else {})
        )
        status, reason = _wait(cloudformation, deployed.stack_id)
        if status == "DELETE_COMPLETE":
            return [b for b in buckets if b.logical_id in kept_ids]
        failed = _failed_resources(cloudformation, deployed.stack_id)
        retain = []
        for logical_id, resource_type, why in failed:
            bucket = by_id.get(logical_id)
            if resource_type != "AWS::S3::Bucket" or bucket is None:
                raise OpsError(
                    f"{deployed.stack_name} is {status}: {logical_id} ({resource_type}) could not be "
                    f"deleted: {why}; fix that, then run make destroy again"
                )
            if logical_id not in kept_ids:
                _, refused = empty_bucket(s3, bucket.survey.name)
                if refused:  # locked after all (e.g. no permission to read its lock status)
                    kept_ids.add(logical_id)
            if logical_id in kept_ids:
                retain.append(logical_id)
    raise OpsError(
        f"{deployed.stack_name} is still {status} after {MAX_ROUNDS} attempts ({reason}); "
        "run make destroy again"
    )


def _wait(cloudformation: Any, stack_id: str) -> tuple[str, str]:
    try:
        cloudformation.get_waiter("stack_delete_complete").wait(
            StackName=stack_id,
            WaiterConfig={"Delay": WAIT_DELAY_S, "MaxAttempts": WAIT_ATTEMPTS},
        )
    except WaiterError:
        pass  # DELETE_FAILED, or still running after the wait: the status says which
    stack = cloudformation.describe_stacks(StackName=stack_id)["Stacks"][0]
    return stack["StackStatus"], stack.get("StackStatusReason", "")


def _failed_resources(cloudformation: Any, stack_id: str) -> list[tuple[str, str, str]]:
    pages = cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_id)
    return [
        (r["LogicalResourceId"], r["ResourceType"], r.get("ResourceStatusReason", ""))
        for page in pages
        for r in page["StackResourceSummaries"]
        if r["ResourceStatus"] == "DELETE_FAILED"
    ]


def _restore_policy(s3: Any, bucket: BucketSurvey) -> Optional[str]:
    """Put the kept bucket's policy back; a line to print when that failed."""
    if not bucket.policy:
        return None
    try:
        s3.put_bucket_policy(Bucket=bucket.name, Policy=bucket.policy)
    except ClientError as e:
        return (
            f"warning: could not put the bucket policy back on {bucket.name} "
            f"({deployment.explain(e)}); it had: {bucket.policy}"
        )
    return None


def _ask(prompt: str) -> str:
    answer = input(prompt)
    if not sys.stdin.isatty():
        print()  # the typed line's newline was not echoed: end the prompt's line
    return answer


def main(argv: Optional[list[str]] = None, ask: Callable[[str], str] = _ask) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suffix", required=True, help="environment suffix, e.g. prod")
    parser.add_argument(
        "--confirm", default="", help="the stack name, to delete without being asked (CONFIRM=)"
    )
    args = parser.parse_args(argv)
    aws = deployment.session()
    deployed = deployment.find(aws, args.suffix)
    if deployed.in_progress:
        raise OpsError(
            f"{deployed.stack_name} in {deployed.where} is {deployed.status}: wait for that "
            "operation to finish, then run make destroy again"
        )
    cloudformation = deployment.client(aws, "cloudformation")
    s3 = deployment.client(aws, "s3")
    buckets = stack_buckets(cloudformation, s3, deployed, datetime.now(timezone.utc))
    print("\n".join(plan_lines(deployed, buckets)), flush=True)

    confirm(deployed.stack_name, args.confirm, ask)

    for bucket in buckets:
        if bucket.survey.exists and not bucket.kept:
            deleted, refused = empty_bucket(s3, bucket.survey.name)
            print(f"emptied {bucket.survey.name}: {deleted:,} object versions and delete markers")
            if refused:
                print(f"  {len(refused)} refused, the bucket is kept: {', '.join(refused[:3])}")
    print(f"deleting {deployed.stack_name} (a few minutes)...", flush=True)
    kept = delete_stack(cloudformation, s3, deployed, buckets)
    print(f"deleted {deployed.stack_name} from {deployed.where}")
    for bucket in kept:
        warning = _restore_policy(s3, bucket.survey)
        if warning:
            print(warning, file=sys.stderr)
        print(
            f"kept {bucket.survey.name}: under Object Lock, in no stack now; delete it once its "
            "retention has ended (README: Removing the platform)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(deployment.run(main))
