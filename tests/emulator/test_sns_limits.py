"""GIVEN SNS Publish WHEN the message and its attributes exceed the topic's limit in bytes THEN the
emulator answers InvalidParameter "Message too long" as SNS does (262,144 bytes by default, not
characters; body and attributes together), where moto alone counts characters of the body; and a
subject of 100 characters or more, or with a line break, is InvalidParameter too."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

LIMIT = 262_144


@pytest.fixture
def topic(clients):
    return clients.sns.create_topic(Name="alerts")["TopicArn"]


def refused(call):
    with pytest.raises(ClientError) as error:
        call()
    response = error.value.response
    return (
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


TOO_LONG = ("InvalidParameter", "Invalid parameter: Message too long", 400)
BAD_SUBJECT = ("InvalidParameter", "Invalid parameter: Subject", 400)


def test_the_limit_is_262144_bytes_of_utf8(clients, topic):
    sns = clients.sns
    sns.publish(TopicArn=topic, Message="x" * LIMIT)
    assert refused(lambda: sns.publish(TopicArn=topic, Message="x" * (LIMIT + 1))) == TOO_LONG
    # 140,000 characters, 280,000 bytes: under the limit in characters, over it in bytes.
    accented = "é" * 140_000
    assert len(accented) < LIMIT < len(accented.encode("utf-8"))
    assert refused(lambda: sns.publish(TopicArn=topic, Message=accented)) == TOO_LONG


def test_message_attributes_count_toward_the_limit(clients, topic):
    attributes = {"severity": {"DataType": "String", "StringValue": "NON_COMPLIANT"}}
    counted = len("severity") + len("String") + len("NON_COMPLIANT")
    sns = clients.sns
    sns.publish(TopicArn=topic, Message="x" * (LIMIT - counted), MessageAttributes=attributes)
    assert (
        refused(
            lambda: sns.publish(
                TopicArn=topic, Message="x" * (LIMIT - counted + 1), MessageAttributes=attributes
            )
        )
        == TOO_LONG
    )


def test_the_topics_maximum_message_size_is_the_limit(clients):
    small = clients.sns.create_topic(
        Name="small-messages", Attributes={"MaximumMessageSize": "1024"}
    )["TopicArn"]
    clients.sns.publish(TopicArn=small, Message="x" * 1024)
    assert refused(lambda: clients.sns.publish(TopicArn=small, Message="x" * 1025)) == TOO_LONG


@pytest.mark.parametrize(
    ("subject", "accepted"),
    [
        ("x" * 99, True),
        ("[NON_COMPLIANT] ec2-imdsv2-check prod: i-0abc (bastion)", True),
        ("x" * 100, False),  # "less than 100 characters long"
        ("two\nlines", False),  # "no line breaks or control characters"
        ("tab\there", False),
    ],
)
def test_a_subject_must_be_under_100_characters_without_control_characters(
    clients, topic, subject, accepted
):
    def publish():
        return clients.sns.publish(TopicArn=topic, Message="m", Subject=subject)

    if accepted:
        assert publish()["MessageId"]
    else:
        assert refused(publish) == BAD_SUBJECT
