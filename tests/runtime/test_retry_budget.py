"""GIVEN a client whose retry quota a storm of failures spent WHEN its budget is renewed (once per
invocation) THEN its calls retry again, with botocore's own rules and attempt count.

Without a network: every request is answered 500 (retryable) by a botocore hook.
"""

from concurrent.futures import ThreadPoolExecutor

from botocore.exceptions import ClientError
from compliance_report.retry_budget import RetryBudget

from tests.runtime.offline import failing_s3


def _failing_s3(max_attempts):
    s3, _ = failing_s3(max_attempts)
    return s3, RetryBudget(s3, max_attempts)


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
