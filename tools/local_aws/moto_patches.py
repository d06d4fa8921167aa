"""Small corrections to moto 5.2.5, applied once per process when an emulator is built.

Each one exists because AWS behaviour our code depends on needs it; each is documented in README.md.
"""

from __future__ import annotations

import base64
import uuid

from .accounts import patch_moto_accounts
from .cloudformation_delete import patch_delete_stack
from .configservice.resources import MOTO_SHARED_DBI_RESOURCE_ID

_applied = False


def patch_moto() -> None:
    global _applied
    if _applied:
        return
    _applied = True
    _unique_dbi_resource_ids()
    _bucket_versioning_root()
    _dead_letter_sources()
    patch_delete_stack()  # a bucket that is not empty fails DeleteStack, as in AWS
    _whole_events_to_targets()
    patch_moto_accounts()  # an organization's accounts by access key (accounts.py)


def _unique_dbi_resource_ids() -> None:
    """moto gives every DB instance the DbiResourceId db-M5ENSHXFPU6XHZ4G4ZEI5QIO2U; AWS Config
    names DB instances by that id, so two instances would collapse into one finding. Give each its
    own."""
    from moto.rds.models import DBInstance

    original = DBInstance.__init__

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        original(self, *args, **kwargs)
        if getattr(self, "dbi_resource_id", None) == MOTO_SHARED_DBI_RESOURCE_ID:
            self.dbi_resource_id = "db-" + base64.b32encode(uuid.uuid4().bytes).decode()[:26]

    DBInstance.__init__ = __init__  # type: ignore[method-assign]


def _dead_letter_sources() -> None:
    """moto moves a message to the dead-letter queue inside ReceiveMessage and forgets where it came
    from; StartMessageMoveTask without a destination redrives each message "back to their respective
    original source queues" (Amazon SQS API Reference), so note the source queue on the message."""
    from moto.sqs.models import SQSBackend

    from .sqs_redrive import SOURCE_ATTRIBUTE

    original = SQSBackend.receive_message

    def receive_message(self, queue_name, *args, **kwargs):  # type: ignore[no-untyped-def]
        queue = self.queues.get(queue_name)
        dead_letter = getattr(queue, "dead_letter_queue", None)
        waiting = {id(m): m for m in queue._messages} if dead_letter is not None else {}
        try:
            return original(self, queue_name, *args, **kwargs)
        finally:
            if dead_letter is not None:
                for message in dead_letter._messages:
                    if waiting.get(id(message)) is message:
                        setattr(message, SOURCE_ATTRIBUTE, queue.queue_arn)

    SQSBackend.receive_message = receive_message  # type: ignore[method-assign]


def _bucket_versioning_root() -> None:
    """moto 5.2.5 answers GetBucketVersioning with a <GetBucketVersioningResponse> root; the S3 API
    Reference (GetBucketVersioning, "Response Syntax") gives <VersioningConfiguration>, with no
    <Status> at all for a bucket whose versioning was never set. The AWS SDK for Rust refuses the
    other root, so the auditor could not tell a versioned bucket from an unversioned one."""
    from moto.s3.responses import S3Response

    original = S3Response.get_bucket_versioning

    def get_bucket_versioning(self):  # type: ignore[no-untyped-def]
        status, headers, body = original(self)
        if isinstance(body, bytes):
            body = body.decode("utf-8")
        body = body.replace("GetBucketVersioningResponse", "VersioningConfiguration")
        return status, headers, body

    S3Response.get_bucket_versioning = get_bucket_versioning  # type: ignore[method-assign]


def _whole_events_to_targets() -> None:
    """A target with no Input, InputPath or InputTransformer receives the matched event itself, with
    its top-level ``account`` field (Amazon EventBridge User Guide, "Amazon EventBridge events": the
    fields every event has); moto 5.2.5 rebuilds it from a template that leaves ``account`` out.
    Put it back."""
    from moto.events.utils import EventTemplateParser

    template = EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE
    if '"account"' not in template:
        EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE = template.replace(
            '"region": "<region>"', '"account": "<account>", "region": "<region>"'
        )
