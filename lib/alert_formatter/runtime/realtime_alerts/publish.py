"""Publishing an alert to the topic, within SNS's limits (see ``messages.py`` for the rules)."""

from __future__ import annotations

from typing import Any

from .messages import MESSAGE_MAX_BYTES, SUBJECT_MAX, Alert, attributes_bytes


def publish(sns: Any, topic_arn: str, alert: Alert) -> str:
    """Publish ``alert``; returns SNS's message id. An alert outside the limits is a bug in
    ``messages.py``, caught here before SNS refuses it on every retry."""
    if (
        len(alert.subject) > SUBJECT_MAX
        or not alert.subject.isascii()
        or not alert.subject.isprintable()
    ):
        raise ValueError(f"subject {alert.subject!r} breaks SNS's subject rules")
    size = len(alert.body.encode("utf-8")) + attributes_bytes(alert.attributes)
    if size > MESSAGE_MAX_BYTES:
        raise ValueError(f"alert {alert.subject!r} is {size} bytes, over SNS's {MESSAGE_MAX_BYTES}")
    answer = sns.publish(
        TopicArn=topic_arn,
        Subject=alert.subject,
        Message=alert.body,
        MessageAttributes=alert.attributes,
    )
    return str(answer["MessageId"])
