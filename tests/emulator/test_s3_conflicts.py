"""GIVEN conditional S3 writes WHEN a 409 is injected or a write races another write of the same key
THEN the emulator answers ``409 ConditionalRequestConflict`` as S3 documents (PutObject, If-None-Match /
If-Match: "If a conflicting operation occurs during the upload S3 returns a 409
ConditionalRequestConflict response"), stores nothing for it, and otherwise keeps compare-and-swap
atomic."""

from __future__ import annotations

import botocore
import pytest

from tools.local_aws.client import LocalAwsError
from tools.local_aws.uploads import SlowUpload, wait_in_progress

BUCKET = "conflicts"


@pytest.fixture
def s3(clients):
    clients.s3.create_bucket(Bucket=BUCKET)
    return clients.s3


def conflict(excinfo):
    error = excinfo.value.response
    return error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]


def test_injected_conflicts_hit_only_conditional_writes_under_the_prefix(aws, s3):
    aws.set_s3_conflicts(prefix="chain/", count=2)

    for _ in range(2):
        with pytest.raises(botocore.exceptions.ClientError) as refused:
            s3.put_object(Bucket=BUCKET, Key="chain/head.json", Body=b"1", IfNoneMatch="*")
        assert conflict(refused) == ("ConditionalRequestConflict", 409)
    s3.put_object(Bucket=BUCKET, Key="reports/a.json", Body=b"1", IfNoneMatch="*")
    s3.put_object(Bucket=BUCKET, Key="chain/other.json", Body=b"1")  # unconditional: untouched
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket=BUCKET, Key="chain/head.json")  # nothing stored by a 409
    s3.put_object(Bucket=BUCKET, Key="chain/head.json", Body=b"1", IfNoneMatch="*")  # count used up

    status = aws.s3_conflicts()
    assert status["inject"]["fired"] == 2 and status["inProgress"] == []
    assert aws.stats()["faults_fired"]["s3.PutObject"] == 2


def test_skip_lets_the_first_matching_writes_through(aws, s3):
    aws.set_s3_conflicts(prefix="chain/head.json", skip=1, count=1)

    etag = s3.put_object(Bucket=BUCKET, Key="chain/head.json", Body=b"v1", IfNoneMatch="*")["ETag"]
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        s3.put_object(Bucket=BUCKET, Key="chain/head.json", Body=b"v2", IfMatch=etag)
    assert conflict(refused) == ("ConditionalRequestConflict", 409)
    s3.put_object(Bucket=BUCKET, Key="chain/head.json", Body=b"v2", IfMatch=etag)
    assert aws.s3_conflicts()["inject"]["fired"] == 1


def test_an_injected_conflict_on_if_match_and_on_copy(aws, s3):
    etag = s3.put_object(Bucket=BUCKET, Key="chain/head.json", Body=b"v1")["ETag"]
    aws.set_s3_conflicts(prefix="chain/", bucket=BUCKET, count=1)

    with pytest.raises(botocore.exceptions.ClientError) as refused:
        s3.put_object(Bucket=BUCKET, Key="chain/head.json", Body=b"v2", IfMatch=etag)
    assert conflict(refused) == ("ConditionalRequestConflict", 409)
    assert s3.get_object(Bucket=BUCKET, Key="chain/head.json")["Body"].read() == b"v1"
    s3.put_object(Bucket=BUCKET, Key="chain/head.json", Body=b"v2", IfMatch=etag)
    aws.set_s3_conflicts(prefix="chain/copy", count=1)
    with pytest.raises(botocore.exceptions.ClientError) as copied:
        s3.copy_object(
            Bucket=BUCKET,
            Key="chain/copy.json",
            CopySource={"Bucket": BUCKET, "Key": "chain/head.json"},
            IfNoneMatch="*",
        )
    assert conflict(copied) == ("ConditionalRequestConflict", 409)


def test_a_conditional_write_racing_a_write_in_progress_is_a_conflict(aws, s3):
    aws.set_s3_conflicts(racing=True)
    with SlowUpload(aws.endpoint_url, BUCKET, "chain/head.json", b'{"slow": true}') as slow:
        wait_in_progress(aws, BUCKET, "chain/head.json")

        with pytest.raises(botocore.exceptions.ClientError) as raced:
            s3.put_object(Bucket=BUCKET, Key="chain/head.json", Body=b"{}", IfNoneMatch="*")
        assert conflict(raced) == ("ConditionalRequestConflict", 409)

        assert slow.finish()[0] == 200  # the unconditional write in progress goes on
    assert s3.get_object(Bucket=BUCKET, Key="chain/head.json")["Body"].read() == b'{"slow": true}'
    assert aws.s3_conflicts()["raced"] == 1


def test_a_conditional_write_in_progress_that_meets_another_write_is_a_conflict(aws, s3):
    etag = s3.put_object(Bucket=BUCKET, Key="chain/head.json", Body=b"v1")["ETag"]
    aws.set_s3_conflicts(racing=True)
    slow = SlowUpload(aws.endpoint_url, BUCKET, "chain/head.json", b"slow v2", if_match=etag)
    wait_in_progress(aws, BUCKET, "chain/head.json")

    s3.put_object(Bucket=BUCKET, Key="chain/head.json", Body=b"other v2")  # arrives meanwhile

    status, answer = slow.finish()
    assert status == 409 and b"<Code>ConditionalRequestConflict</Code>" in answer
    assert s3.get_object(Bucket=BUCKET, Key="chain/head.json")["Body"].read() == b"other v2"


def test_without_racing_a_conditional_write_does_not_conflict_with_one_in_progress(aws, s3):
    with SlowUpload(
        aws.endpoint_url, BUCKET, "chain/head.json", b"first", if_none_match="*"
    ) as slow:
        wait_in_progress(aws, BUCKET, "chain/head.json")
        s3.put_object(Bucket=BUCKET, Key="chain/head.json", Body=b"second", IfNoneMatch="*")
        status, answer = slow.finish()
    # Both conditions were checked atomically: the later writer found the key and got 412.
    assert status == 412 and b"PreconditionFailed" in answer
    assert s3.get_object(Bucket=BUCKET, Key="chain/head.json")["Body"].read() == b"second"


def test_the_control_names_bad_input_and_reset_clears_it(aws):
    with pytest.raises(LocalAwsError, match="inject.rate: must be a number from 0 to 1"):
        aws.set_s3_conflicts(prefix="chain/", rate=2)
    with pytest.raises(LocalAwsError, match="inject.count: must be null"):
        aws.set_s3_conflicts(prefix="chain/", count=0)
    with pytest.raises(LocalAwsError, match="racing: must be true or false"):
        aws.call("POST", "s3/conditional-conflicts", {"racing": "yes"})
    aws.set_s3_conflicts(prefix="", racing=True)
    aws.reset()
    assert aws.s3_conflicts() == {"inject": None, "racing": False, "raced": 0, "inProgress": []}
