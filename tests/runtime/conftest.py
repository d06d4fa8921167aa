"""Shared fixtures of the runtime unit tests: recorded events, and the report schema validator every
produced report must pass. The runtime folder is on pytest's pythonpath (pyproject.toml).

Runs on the development Python and on CPython 3.9 (the Lambda runtime).
"""

import json
from pathlib import Path

import botocore.parsers
import botocore.session
import pytest
from jsonschema import Draft202012Validator

REPO = Path(__file__).resolve().parents[2]
EVENTS = Path(__file__).resolve().parent / "events"
SCHEMA = REPO / "schema" / "compliance-report.v1.schema.json"


@pytest.fixture(scope="session")
def load_event():
    """Loader of a recorded event under tests/runtime/events/."""

    def load(name: str):
        return json.loads((EVENTS / name).read_text(encoding="utf-8"))

    return load


@pytest.fixture(scope="session")
def load_config_response():
    """Loader of a recorded AWS Config response, parsed by botocore as a real client would parse it
    (timestamps become datetimes)."""
    session = botocore.session.get_session()

    def load(name: str, operation: str):
        model = session.get_service_model("config").operation_model(operation)
        raw = (EVENTS / name).read_bytes()
        return botocore.parsers.JSONParser().parse(
            {"body": raw, "headers": {}, "status_code": 200}, model.output_shape
        )

    return load


@pytest.fixture(scope="session")
def report_validator():
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


@pytest.fixture
def assert_valid_report(report_validator):
    def check(report):
        errors = sorted(report_validator.iter_errors(report), key=lambda e: list(e.path))
        assert not errors, "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
        assert report["complete"] == (not report["errors"])
        assert report["monitoring"]["healthy"] == (not report["monitoring"]["problems"])
        return report

    return check
