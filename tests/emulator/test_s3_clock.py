"""S3's clock (tools/local_aws/s3_clock.py): moved ahead, it stamps what is written from then on and dates
every S3 answer, so a lease that rests on S3's times can run out without a test waiting for it."""

from email.utils import parsedate_to_datetime

import pytest

from tools.local_aws.client import LocalAwsError

BUCKET = "clock-test-bucket"


def _times(clients, key):
    headers = clients.s3.get_object(Bucket=BUCKET, Key=key)["ResponseMetadata"]["HTTPHeaders"]
    return parsedate_to_datetime(headers["last-modified"]), parsedate_to_datetime(headers["date"])


def test_moving_s3s_clock_ahead_dates_new_objects_and_every_answer(aws, clients):
    clients.s3.create_bucket(Bucket=BUCKET)
    clients.s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    clients.s3.put_object(Bucket=BUCKET, Key="before", Body=b"x")
    written_before, now = _times(clients, "before")
    assert abs((now - written_before).total_seconds()) <= 2

    assert aws.set_s3_clock(3600)["aheadSeconds"] == 3600
    clients.s3.put_object(Bucket=BUCKET, Key="after", Body=b"y")
    clients.s3.delete_object(Bucket=BUCKET, Key="before")

    written_after, answered = _times(clients, "after")
    assert 3598 <= (answered - written_before).total_seconds() <= 3605  # the answer's Date moved
    assert abs((answered - written_after).total_seconds()) <= 2  # and so did the new object's time
    versions = clients.s3.list_object_versions(Bucket=BUCKET, Prefix="before")
    (marker,) = versions["DeleteMarkers"]
    assert 3598 <= (marker["LastModified"] - written_before).total_seconds() <= 3605
    assert aws.s3_clock()["aheadSeconds"] == 3600


def test_a_reset_sets_s3s_clock_back_to_real_time(aws):
    aws.set_s3_clock(-120)
    aws.reset()

    assert aws.s3_clock()["aheadSeconds"] == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "aheadSeconds: required, seconds S3's clock runs ahead of real time"),
        ({"aheadSeconds": "10"}, "aheadSeconds: must be a number of seconds"),
        ({"aheadSeconds": True}, "aheadSeconds: must be a number of seconds"),
        ({"aheadSeconds": 10**9}, "aheadSeconds: must be within 31622400 seconds of real time"),
        ({"aheadSeconds": 1, "clock": 2}, "clock: unknown field (allowed: aheadSeconds)"),
    ],
)
def test_bad_input_is_one_line_naming_the_field(aws, body, message):
    with pytest.raises(LocalAwsError) as refused:
        aws.call("POST", "s3/clock", body)

    assert str(refused.value) == f"POST /_local_aws/s3/clock: {message}"
    assert refused.value.status == 400
    assert aws.s3_clock()["aheadSeconds"] == 0
