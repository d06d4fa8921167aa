"""Synthesized templates shared by the CDK unit tests: each variant is synthesized once per session."""

from __future__ import annotations

import os

import pytest
from aws_cdk.assertions import Template

from tests.unit.synth import synth_template

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

VARIANTS = {
    "default": {},
    "email": {"environmentSuffix": "prod-eu1", "alertEmail": "security@example.com"},
    "existing-recorder": {"environmentSuffix": "ct", "useExistingConfigRecorder": "true"},
    "object-lock": {"environmentSuffix": "locked", "reportObjectLock": "compliance"},
    "new-runtime": {"environmentSuffix": "py314", "lambdaRuntime": "python3.14"},
    "alerts": {
        "environmentSuffix": "alerts",
        "alertDigestThreshold": "25",
        "alertDigestWindowMinutes": "2",
        "alertResolved": "true",
    },
}


@pytest.fixture(scope="session")
def templates() -> dict[str, Template]:
    return {}


def variant(templates: dict[str, Template], name: str) -> Template:
    if name not in templates:
        templates[name] = synth_template(VARIANTS[name])
    return templates[name]


@pytest.fixture(scope="session")
def template(templates) -> Template:
    return variant(templates, "default")


@pytest.fixture(scope="session", params=sorted(VARIANTS))
def any_template(request, templates) -> tuple[str, Template]:
    return request.param, variant(templates, request.param)
