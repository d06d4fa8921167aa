"""The organization shape's templates, synthesized once per process; the emulator for its IAM tests."""

from __future__ import annotations

import pytest

from tools.local_aws import LocalAws


@pytest.fixture(scope="session")
def organization():
    from tests.organization.synth import synthesize

    return synthesize()


@pytest.fixture(scope="session")
def aws():
    with LocalAws(host="127.0.0.1", port=0) as running:
        yield running


@pytest.fixture(autouse=True)
def _clean(request):
    if "aws" not in request.fixturenames:
        yield
        return
    aws = request.getfixturevalue("aws")
    aws.reset()
    yield
    aws.reset()
