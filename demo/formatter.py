"""Run the real alert formatter Lambda handler in this process, against the emulator, as its SQS event
source mappings would: once a simulated day, over what that day put on its queues.

The handler, the event source mapping's delivery and the function's environment come from the
formatter's local harness (``lib/alert_formatter/local_harness.py``), as the tests get them; the
function signs as its role (``deployment.formatter_environment``), and the queues are read as that role
too, as Lambda polls them with the function's role. One delivery takes everything queued: the demo's
day stands in for the changes queue's batching window (5 minutes in AWS). The handler's structured log
lines go to a log file.
"""

from __future__ import annotations

import contextlib
from typing import Any, TextIO

import boto3
from botocore.config import Config

from lib.alert_formatter import local_harness as harness
from tools.local_aws.deployment import Deployment

# A record the handler handed back is delivered again at once; after this many deliveries of one
# queue in a day the demo stops (in AWS the queue's redrive policy moves it to the dead-letter queue).
ROUNDS = 3


class AlertFormatterRun:
    def __init__(
        self, deployment: Deployment, endpoint_url: str, queue_urls: dict[str, str], log: TextIO
    ) -> None:
        self.deployment = deployment
        self.env = deployment.formatter_environment(endpoint_url)
        self.log = log
        self.queue_urls = queue_urls  # queue name -> URL
        self.module = harness.load_handler("demo_alert_formatter")
        self.sqs = boto3.client(
            "sqs",
            endpoint_url=endpoint_url,
            region_name=deployment.region,
            aws_access_key_id=deployment.access_key("alertFormatter"),
            aws_secret_access_key="emulator",  # noqa: S106 (the emulator checks no signature)
            config=Config(retries={"mode": "standard", "max_attempts": 3}),
        )

    def run(self) -> list[harness.Delivery]:
        """Deliver the monitoring queue, then the changes queue, until each is empty."""
        deliveries = []
        for queue in (self.deployment.monitoring_queue, self.deployment.changes_queue):
            for _ in range(ROUNDS):
                delivery = self._deliver(queue)
                if delivery is None:
                    break
                deliveries.append(delivery)
        return deliveries

    def _deliver(self, queue: str) -> Any:
        def context() -> harness.LambdaContext:
            return harness.LambdaContext(self.deployment.formatter_name)

        with harness.environment(self.env), contextlib.redirect_stdout(self.log):
            return harness.deliver(
                self.sqs,
                self.queue_urls[queue],
                self.module,
                context,
                self.deployment.changes_batch.get("BatchSize", 10_000),
            )
