"""CloudFormation DeleteStack as AWS runs it when a bucket in the stack still holds objects.

moto 5.2.5 deletes such a stack anyway: its S3 model quietly skips a bucket that is not empty, the
stack reports DELETE_COMPLETE and the bucket is left behind, in no stack. AWS fails that resource
instead, and offers a second DeleteStack that keeps it (DeleteStack API reference, RetainResources:
"Retaining resources is useful when you can't delete a resource, such as a non-empty S3 bucket, but
you want to delete the stack"). ``make destroy`` (scripts/destroy.py) depends on exactly that, so
here the emulator does it too:

* DeleteStack deletes what it can. A bucket still holding an object version or a delete marker
  fails with S3's message and stays in the stack, ``DELETE_FAILED`` in ListStackResources (with
  ``ResourceStatusReason``), and the stack ends ``DELETE_FAILED``.
* DeleteStack with RetainResources is refused unless the stack is ``DELETE_FAILED`` and every
  resource named is still in it (AWS's ValidationError texts); it deletes the rest and the stack,
  and the retained resources stay as they are.

Like moto's, a deletion is finished when DeleteStack returns. Unlike AWS, the resources a failed one
depends on are deleted too (moto deletes in no dependency order), and ListStackResources of a
``DELETE_FAILED`` stack lists only the resources still in it.
"""

from __future__ import annotations

from typing import Any

BUCKET_NOT_EMPTY = (
    "The bucket you tried to delete is not empty. You must delete all versions in the bucket."
)
_FAILED = "_local_aws_delete_failed"  # on a moto Stack: {logical id: reason} of its failed deletes


class BucketNotEmpty(Exception):
    pass


class _SettledOutputs(dict):  # type: ignore[type-arg]
    """A stack's outputs and exports as they were when its deletion began. moto resolves both from
    the stack's resources on every read; a stack left DELETE_FAILED keeps its outputs, as in AWS."""

    def __init__(self, output_map: Any) -> None:
        super().__init__(output_map.items())
        self.exports = list(output_map.exports)


def patch_delete_stack() -> None:
    """Replace moto's DeleteStack, its bucket delete and ListStackResources (once per process)."""
    from moto.cloudformation.models import CloudFormationBackend
    from moto.cloudformation.responses import CloudFormationResponse
    from moto.s3.models import FakeBucket

    FakeBucket.delete_from_cloudformation_json = classmethod(_delete_bucket)  # type: ignore[method-assign,assignment]
    CloudFormationBackend.delete_stack = _delete_stack  # type: ignore[method-assign]
    CloudFormationResponse.delete_stack = _delete_stack_response  # type: ignore[method-assign]
    CloudFormationResponse.list_stack_resources = _list_stack_resources  # type: ignore[method-assign]


def _delete_bucket(
    cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
) -> None:
    from moto.s3.exceptions import MissingBucket
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition

    try:
        deleted = s3_backends[account_id][get_partition(region_name)].delete_bucket(resource_name)
    except MissingBucket:
        return  # already gone: CloudFormation counts that as deleted
    if deleted is None:  # moto's answer for a bucket that still has keys
        raise BucketNotEmpty(BUCKET_NOT_EMPTY)


def _delete_stack(self: Any, name_or_stack_id: str, retain_resources: Any = None) -> None:
    from moto.cloudformation.exceptions import ValidationError

    stack = next(
        (s for s in self.stacks.values() if name_or_stack_id in (s.stack_id, s.name)), None
    )
    if stack is None:
        return  # DeleteStack of a stack that does not exist succeeds, as moto's does
    resources: dict[str, Any] = stack.resource_map._resource_json_map
    retain = list(retain_resources or [])
    if retain and stack.status != "DELETE_FAILED":
        raise ValidationError(
            stack.stack_id,
            message=f"Invalid operation on stack {stack.stack_id}. When you delete a stack, specify "
            "which resources to retain only when the stack is in the DELETE_FAILED state.",
        )
    if any(logical_id not in resources for logical_id in retain):
        raise ValidationError(
            stack.stack_id,
            message="The specified resources to retain must be in a valid state. Do not specify "
            "resources that are in the DELETE_COMPLETE state.",
        )
    export_names = [export.name for export in stack.exports]
    stack.output_map = _SettledOutputs(stack.output_map)
    stack._add_stack_event("DELETE_IN_PROGRESS", resource_status_reason="User Initiated")
    for logical_id in retain:
        del resources[logical_id]  # out of moto's sight: kept as they are
    try:
        stack.resource_map.delete()
    except Exception as e:  # noqa: BLE001 (any resource moto fails to delete fails the stack, as in AWS)
        _fail(stack, resources, e)
        return
    for name in export_names:
        self.exports.pop(name, None)
    self.stacks.pop(stack.stack_id, None)
    stack._add_stack_event("DELETE_COMPLETE")
    stack.status = "DELETE_COMPLETE"
    stack.status_reason = None
    setattr(stack, _FAILED, {})
    self.deleted_stacks[stack.stack_id] = stack


def _fail(stack: Any, resources: dict[str, Any], error: Exception) -> None:
    """Leave the stack DELETE_FAILED with the resources moto could not delete."""
    from moto.s3.models import FakeBucket

    parsed = stack.resource_map._parsed_resources
    failed = {}
    for logical_id in list(resources):
        resource = parsed.get(logical_id)
        if resource is None or isinstance(resource, str):
            # Deleted, or never created (a type moto does not model). Dropped from the map, else
            # moto would create it again the next time the stack's resources are listed.
            del resources[logical_id]
            continue
        failed[logical_id] = BUCKET_NOT_EMPTY if isinstance(resource, FakeBucket) else str(error)
    setattr(stack, _FAILED, failed)
    stack.status = "DELETE_FAILED"
    stack.status_reason = (  # DescribeStacks' StackStatusReason
        f"The following resource(s) failed to delete: [{', '.join(sorted(failed))}]. "
    )
    stack._add_stack_event("DELETE_FAILED", resource_status_reason=stack.status_reason)


def _delete_stack_response(self: Any) -> Any:
    from moto.core.responses import EmptyResult

    self.cloudformation_backend.delete_stack(
        self._get_param("StackName"), self._get_param("RetainResources", [])
    )
    return EmptyResult()


def _list_stack_resources(self: Any) -> Any:
    from moto.core.responses import ActionResult

    stack, resources = self.cloudformation_backend.list_stack_resources(
        self._get_param("StackName")
    )
    failed = getattr(stack, _FAILED, {})
    summaries = []
    for resource in resources:
        if resource is None:  # a type moto does not model
            continue
        logical_id = getattr(resource, "logical_resource_id", "")
        summary = {
            "LogicalResourceId": logical_id,
            "PhysicalResourceId": getattr(resource, "physical_resource_id", ""),
            "ResourceType": getattr(resource, "cf_resource_type", ""),
            "LastUpdatedTimestamp": stack.creation_time,
            "ResourceStatus": "DELETE_FAILED" if logical_id in failed else "CREATE_COMPLETE",
        }
        if logical_id in failed:
            summary["ResourceStatusReason"] = failed[logical_id]
        summaries.append(summary)
    return ActionResult({"StackResourceSummaries": summaries})
