#!/usr/bin/env python3
"""Ask a deployed stack for a report now, and say where it will appear.

One message on the stack's FIFO request queue (its ``RequestQueueUrl`` output), in the queue's single
message group, so it runs after any report already in progress. The request carries an id chosen here,
when the request is made (``{"action": "generate-report", "note": …, "id": <a new UUID>}``): the runtime
names the request by it (``compliance_report.triggers``), so a retried delivery, or the same message
redriven from the dead-letter queue with a new SQS message id, still answers with one report. The
report id is derived from the request id, so the key the report will be stored under is known to the
character, apart from the sequence number it gets when it is written.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Optional

from lib.report_generator.runtime.compliance_report.environment import DEFAULT_REPORT_PREFIX
from lib.report_generator.runtime.compliance_report.triggers import (
    MAX_NOTE_LENGTH,
    ON_DEMAND_ACTION,
    report_id_for,
)
from lib.stack_outputs import REPORT_BUCKET, REQUEST_QUEUE

# The request queue's one message group (lib/report_generator/infrastructure.py: MESSAGE_GROUP; the
# unit test of this script checks the synthesized schedule target uses the same).
MESSAGE_GROUP = "report-generation"


@dataclass(frozen=True)
class Request:
    request_id: str  # the trigger id the report is keyed by
    message_id: str  # SQS's id of this message (a redrive gives the message a new one)


def request_report(
    sqs: Any, queue_url: str, note: str, request_id: Optional[str] = None
) -> Request:
    """Queue one on-demand request, with ``request_id`` (default: a new UUID) as its trigger id."""
    request_id = request_id or str(uuid.uuid4())
    response = sqs.send_message(
        QueueUrl=queue_url,
        MessageGroupId=MESSAGE_GROUP,
        # The request's own id: two deliberate requests within SQS's 5-minute deduplication window
        # are both kept, and one request sent twice is queued once.
        MessageDeduplicationId=request_id,
        MessageBody=json.dumps({"action": ON_DEMAND_ACTION, "note": note, "id": request_id}),
    )
    return Request(request_id, str(response["MessageId"]))


def where_it_appears(bucket: str, request_id: str, today: datetime) -> list[str]:
    """Lines telling the operator the report's key and how to find it."""
    day = f"{DEFAULT_REPORT_PREFIX}{today:%Y/%m/%d}/"
    report_id = report_id_for(request_id)
    return [
        f"the report will appear in s3://{bucket}/{day} as <sequence>-{report_id}.json",
        "  (dated by when it runs, UTC; usually within a minute, after any report in progress)",
        f"  find it: aws s3 ls s3://{bucket}/{day} | grep {report_id}",
        "  or read the newest report and what changed: make status ENV_SUFFIX=<suffix>",
    ]


def main(argv: Optional[list[str]] = None) -> int:
    # The operator commands' AWS helpers load the CDK app's settings; imported here, so that what a
    # test of the runtime needs (``request_report``, ``MESSAGE_GROUP``) imports on Lambda's Python.
    from scripts import deployment
    from scripts.deployment import OpsError

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suffix", required=True, help="environment suffix, e.g. prod")
    parser.add_argument("--note", default="on-demand report", help="why; stored in the report")
    args = parser.parse_args(argv)
    if len(args.note) > MAX_NOTE_LENGTH:
        raise OpsError(
            f"NOTE is {len(args.note)} characters: the report generator takes at most "
            f"{MAX_NOTE_LENGTH}"
        )
    aws = deployment.session()
    deployed = deployment.find(aws, args.suffix)
    queue_url = deployed.output(REQUEST_QUEUE)
    bucket = deployed.output(REPORT_BUCKET)
    request = request_report(deployment.client(aws, "sqs"), queue_url, args.note)
    print(
        f"requested a report from {deployed.stack_name} in {deployed.where} "
        f"(request {request.request_id}, message {request.message_id})"
    )
    lines = where_it_appears(bucket, request.request_id, datetime.now(timezone.utc))
    print("\n".join(lines).replace("<suffix>", args.suffix))
    return 0


if __name__ == "__main__":
    from scripts import deployment

    sys.exit(deployment.run(main))
