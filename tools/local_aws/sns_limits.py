"""SNS Publish's limits, counted as SNS counts them: the size in bytes of body and message attributes
together, and the subject's length and characters.

Amazon SNS API Reference, Publish ``Message`` (botocore's SNS model carries the text): "messages must be
UTF-8 encoded strings. By default, a message can be at most 256 KiB in size (262,144 bytes, not 262,144
characters). When you publish to a topic, the maximum size is determined by the topic's
MaximumMessageSize attribute ... Amazon SNS validates the combined size of the message body and message
attributes against this value and returns an InvalidParameter error if the limit is exceeded."
``MessageAttributeValue``: "All parts of the message attribute, including name, type, and value, are
included in the message size restriction."

moto 5.2.5 compares ``len(message)`` (characters, attributes left out) with 262,144, so a body of
multi-byte characters or a body near the limit plus attributes passes there and fails in AWS. This
check runs before moto and answers as AWS does: ``InvalidParameter``, HTTP 400.

``Subject`` (same reference): "Subjects must be UTF-8 text with no line breaks or control characters,
and less than 100 characters long". moto 5.2.5 refuses only more than 100 characters, with a 500, and
accepts line breaks; here a subject of 100 characters or more, or with a control character, is
``InvalidParameter`` too.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from .calls import AwsCall

DEFAULT_MAXIMUM_MESSAGE_SIZE = (
    262_144  # bytes; a topic's MaximumMessageSize may set 1,024-1,048,576
)
TOO_LONG = "Invalid parameter: Message too long"
BAD_SUBJECT = "Invalid parameter: Subject"
SUBJECT_LIMIT = 100  # characters; a subject must be shorter
_ATTRIBUTE = "MessageAttributes.entry."


def message_size(params: dict[str, Any]) -> int:
    """Bytes of a Publish request that count toward the limit: the UTF-8 body, and each attribute's
    name, data type and value (a binary value by its decoded length)."""
    size = len(str(params.get("Message", "")).encode("utf-8"))
    entries = {
        name[len(_ATTRIBUTE) :].split(".", 1)[0] for name in params if name.startswith(_ATTRIBUTE)
    }
    for entry in entries:
        prefix = f"{_ATTRIBUTE}{entry}."
        for part in ("Name", "Value.DataType", "Value.StringValue"):
            size += len(str(params.get(prefix + part, "")).encode("utf-8"))
        binary = params.get(prefix + "Value.BinaryValue")
        if binary:
            try:
                size += len(base64.b64decode(str(binary), validate=True))
            except (binascii.Error, ValueError):
                size += len(str(binary))
    return size


def maximum_message_size(topic_arn: str) -> int:
    """The topic's MaximumMessageSize attribute if it has one, else SNS's default."""
    from moto.sns.models import sns_backends

    parts = topic_arn.split(":")
    if len(parts) != 6:
        return DEFAULT_MAXIMUM_MESSAGE_SIZE
    try:
        topic = sns_backends[parts[4]][parts[3]].topics.get(topic_arn)
    except KeyError:
        return DEFAULT_MAXIMUM_MESSAGE_SIZE
    # moto keeps CreateTopic's attributes under snake_case names, SetTopicAttributes' as given.
    value = None
    for name in ("MaximumMessageSize", "maximum_message_size"):
        value = getattr(topic, name, None) if value is None else value
    try:
        return int(value) if value is not None else DEFAULT_MAXIMUM_MESSAGE_SIZE
    except (TypeError, ValueError):
        return DEFAULT_MAXIMUM_MESSAGE_SIZE


def too_long(call: AwsCall) -> bool:
    """Whether an SNS Publish exceeds its topic's size limit (SMS, with its own limit, excepted)."""
    if call.service != "sns" or call.operation != "Publish" or call.params.get("PhoneNumber"):
        return False
    target = str(call.params.get("TopicArn") or call.params.get("TargetArn") or "")
    return message_size(call.params) > maximum_message_size(target)


def bad_subject(call: AwsCall) -> bool:
    """Whether an SNS Publish's Subject breaks the documented rules."""
    if call.service != "sns" or call.operation != "Publish" or "Subject" not in call.params:
        return False
    subject = str(call.params["Subject"])
    return len(subject) >= SUBJECT_LIMIT or any(ord(c) < 32 or 127 <= ord(c) < 160 for c in subject)
