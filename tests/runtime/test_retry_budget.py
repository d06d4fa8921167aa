"""GIVEN a client whose retry quota a storm of failures spent WHEN its budget is renewed (once per
invocation) THEN its calls retry again, with botocore's own rules and attempt count.

Without a network: every request is answered 500 (retryable) by a botocore hook.
"""

from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from compliance_report.clients import client_config
from compliance_report.retry_budget import RetryBudget


class _Raw:
    def stream(self, **_):
        yield b"<Error><Code>InternalError</Code><Message>m</Message></Error>"


def _failing_s3(max_attempts):
    session = boto3.session.Session(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 (never sent anywhere)
        region_name="eu-west-1",
    )
    s3 = session.client("s3", endpoint_url="http://127.0.0.1:9", config=client_config(max_attempts))
    budget = RetryBudget(s3, max_attempts)
    s3.meta.events.register(
        "before-send.s3", lambda request, **_: AWSResponse(request.url, 500, {}, _Raw())
    )
    return s3, budget


def _attempts(s3):
    try:
        s3.get_object(Bucket="b", Key="k")
    except ClientError as e:
        return e.response["ResponseMetadata"]["RetryAttempts"] + 1
    raise AssertionError("a 500 was taken for an answer")


def test_a_renewed_budget_retries_again_after_a_storm_spent_the_quota():
    s3, budget = _failing_s3(2)

    assert _attempts(s3) == 2  # botocore's rule: a 500 is retried, up to the configured attempts
    # 500 tokens, 5 to 14 a retry by botocore version; in parallel, as a run's reads are, since older
    # botocore waits up to 1 s before any retry.
    with ThreadPoolExecutor(max_workers=64) as pool:
        list(pool.map(lambda _: _attempts(s3), range(128)))
    assert _attempts(s3) == 1, "the storm never spent the quota: the test proves nothing"
    budget.renew()

    assert _attempts(s3) == 2
