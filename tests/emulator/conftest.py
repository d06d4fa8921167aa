"""One emulator for the whole session; every test starts from an empty estate with no faults."""

from __future__ import annotations

import pytest

from tools.local_aws import LocalAws, estate


@pytest.fixture(scope="session")
def aws():
    with LocalAws(host="127.0.0.1", port=0) as running:
        yield running


@pytest.fixture(autouse=True)
def _clean(aws):
    aws.reset()
    yield
    aws.reset()


@pytest.fixture(scope="session")
def clients(aws):
    return estate.clients(aws.endpoint_url)


@pytest.fixture
def rules(clients):
    """The three managed rules under the names the stack uses, and a recorder that is recording."""
    names = estate.put_managed_rules(
        clients.config, "s3-encryption-dev", "rds-encryption-dev", "ec2-imdsv2-dev"
    )
    estate.create_bucket(clients.s3, "config-delivery-bucket")
    estate.start_recording(clients.config, "config-delivery-bucket")
    return names


def _results(config, rule_name, types=None):
    """Every evaluation result of a rule as {resource id: (compliance, result)} via all pages."""
    kwargs = {"ConfigRuleName": rule_name, "Limit": 100}
    if types:
        kwargs["ComplianceTypes"] = types
    out = {}
    while True:
        page = config.get_compliance_details_by_config_rule(**kwargs)
        for r in page["EvaluationResults"]:
            q = r["EvaluationResultIdentifier"]["EvaluationResultQualifier"]
            out[q["ResourceId"]] = (r["ComplianceType"], r)
        if "NextToken" not in page:
            return out
        kwargs["NextToken"] = page["NextToken"]


@pytest.fixture
def results():
    return _results


@pytest.fixture
def compliance():
    def read(config, rule_name):
        return {rid: c for rid, (c, _) in _results(config, rule_name).items()}

    return read
