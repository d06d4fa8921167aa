"""GIVEN more compliance changes in one batch than DIGEST_THRESHOLD WHEN the function processes them
THEN the team gets one digest listing them, and at or under the threshold one e-mail each; a digest
never passes SNS's 256 KiB limit, however many changes a batch (up to 10,000 records) holds."""

import copy

import pytest
from realtime_alerts import messages
from realtime_alerts.process import process

from tests.alert_formatter.conftest import ec2_item, load_event, make_settings

BASE = load_event("compliance_change_ec2_non_compliant.json")


def changes(count, id_length=19):
    out = []
    for index in range(count):
        event = copy.deepcopy(BASE)
        event["id"] = f"event-{index:05d}"
        resource_id = f"i-{index:0{id_length - 2}x}"
        detail = event["detail"]
        detail["resourceId"] = resource_id
        qualifier = detail["newEvaluationResult"]["evaluationResultIdentifier"]
        qualifier["evaluationResultQualifier"]["resourceId"] = resource_id
        out.append((f"record-{index:05d}", event))
    return out


@pytest.mark.parametrize("threshold", [1, 3, 10])
def test_at_the_threshold_each_change_is_its_own_e_mail(stubbed, threshold):
    stubbed.names([])
    stubbed.accept(threshold)

    out = process(
        changes(threshold), make_settings(digest_threshold=threshold), stubbed.config, stubbed.sns
    )

    assert len(stubbed.published) == threshold and out.digest is False
    assert all(p["Subject"].startswith("[NON_COMPLIANT] ") for p in stubbed.published)


@pytest.mark.parametrize("threshold", [1, 3, 10])
def test_one_more_than_the_threshold_is_one_digest_listing_every_change(stubbed, threshold):
    batch = changes(threshold + 1)
    stubbed.names([ec2_item("i-00000000000000000", "bastion")])
    stubbed.accept()

    out = process(batch, make_settings(digest_threshold=threshold), stubbed.config, stubbed.sns)

    (sent,) = stubbed.published
    assert out.digest is True and out.failed == []
    assert sent["Subject"] == (
        f"[DIGEST] prod: {threshold + 1} compliance changes within 5 min "
        f"({threshold + 1} NON_COMPLIANT)"
    )
    listed = [line for line in sent["Message"].splitlines() if "  NON_COMPLIANT  " in line]
    assert len(listed) == threshold + 1
    assert "AWS::EC2::Instance i-00000000000000000 (bastion)" in listed[0]
    assert f"more than the {threshold} that are sent one e-mail each" in sent["Message"]
    attributes = sent["MessageAttributes"]
    assert attributes["kind"]["StringValue"] == "digest"
    assert attributes["rule"] == {
        "DataType": "String.Array",
        "StringValue": '["ec2-imdsv2-check-prod"]',
    }


def test_the_window_in_the_words_is_the_queue_s_batching_window(stubbed):
    stubbed.names([])
    stubbed.accept()
    settings = make_settings(digest_threshold=1, digest_window_seconds=90)

    process(changes(2), settings, stubbed.config, stubbed.sns)

    assert "within 90 s" in stubbed.published[0]["Subject"]


def test_a_digest_that_sns_refuses_hands_every_record_back(stubbed):
    stubbed.names([])
    stubbed.refuse()

    out = process(changes(4), make_settings(digest_threshold=3), stubbed.config, stubbed.sns)

    assert out.failed == [f"record-{i:05d}" for i in range(4)]


def test_names_are_asked_for_in_calls_of_100_resources(stubbed):
    batch = changes(250)
    for start, count in ((0, 100), (100, 100), (200, 50)):
        keys = [
            {"resourceType": "AWS::EC2::Instance", "resourceId": f"i-{i:017x}"}
            for i in range(start, start + count)
        ]
        stubbed.names([], keys)
    stubbed.accept()

    out = process(batch, make_settings(), stubbed.config, stubbed.sns)

    assert out.name_lookups == 3 and out.digest


def test_keys_config_left_unprocessed_are_asked_for_once_more(stubbed):
    keys = [{"resourceType": "AWS::EC2::Instance", "resourceId": f"i-{i:017x}"} for i in range(2)]
    stubbed.names([ec2_item("i-00000000000000000", "a")], keys, unprocessed=[keys[1]])
    stubbed.names([ec2_item("i-00000000000000001", "b")], [keys[1]])
    stubbed.accept(2)

    process(changes(2), make_settings(), stubbed.config, stubbed.sns)

    assert [p["Subject"].rsplit(" ", 1)[1] for p in stubbed.published] == ["(a)", "(b)"]


def test_the_largest_batch_with_the_longest_ids_stays_within_sns_limit_and_says_what_it_left_out(
    stubbed,
):
    # 10,000 records (the event source mapping's largest batch) with 768-character resource ids
    # (the longest ResourceId AWS Config allows) cannot all be listed in 262,144 bytes.
    batch = changes(10_000, id_length=768)
    for _ in range(100):
        stubbed.names([])
    stubbed.accept()

    process(batch, make_settings(), stubbed.config, stubbed.sns)

    (sent,) = stubbed.published
    size = len(sent["Message"].encode()) + messages.attributes_bytes(sent["MessageAttributes"])
    assert size <= messages.MESSAGE_MAX_BYTES
    listed = sum(1 for line in sent["Message"].splitlines() if "  NON_COMPLIANT  " in line)
    last = sent["Message"].splitlines()[-1]
    assert 0 < listed < 10_000
    assert last == (
        f"  ... and {10_000 - listed} more, left out at SNS's 256 KiB message limit: tomorrow's "
        "report lists every finding"
    )
    assert sent["Subject"].startswith("[DIGEST] prod: 10000 compliance changes")
