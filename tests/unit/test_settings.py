"""StackSettings: every bad context value fails synth with one line naming the value and the rule."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lib.settings import StackSettings, StackSettingsError

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_match_the_contract():
    settings = StackSettings.from_mapping({})
    assert settings.environment_suffix == "dev"
    assert settings.lambda_runtime == "python3.9"
    assert settings.alert_email is None
    assert settings.use_existing_config_recorder is False
    assert settings.report_object_lock == "off"


@pytest.mark.parametrize(
    "values, fragment",
    [
        ({"environmentSuffix": "Prod"}, "environmentSuffix='Prod'"),
        ({"environmentSuffix": "has_underscore"}, "lowercase letters, digits and hyphens"),
        ({"environmentSuffix": "-leading"}, "starting and ending"),
        ({"environmentSuffix": "x" * 17}, "1-16"),
        ({"environmentSuffix": ""}, "environmentSuffix=''"),
        (
            {"environmentSuffix": "dlq-prod"},
            "environmentSuffix='dlq-prod': must not start with 'dlq-'",
        ),
        ({"alertEmail": "not-an-address"}, "alertEmail='not-an-address'"),
        ({"lambdaRuntime": "python2.7"}, "lambdaRuntime='python2.7': must be one of"),
        ({"lambdaRuntime": "nodejs20.x"}, "must be one of"),
        ({"reportObjectLock": "forever"}, "reportObjectLock='forever'"),
        ({"useExistingConfigRecorder": "maybe"}, "useExistingConfigRecorder='maybe'"),
    ],
)
def test_bad_values_name_the_value_and_the_rule(values, fragment):
    with pytest.raises(StackSettingsError) as error:
        StackSettings.from_mapping(values)
    message = str(error.value)
    assert fragment in message
    assert "\n" not in message


def test_flags_accept_cli_strings():
    assert StackSettings.from_mapping(
        {"useExistingConfigRecorder": "true"}
    ).use_existing_config_recorder
    assert not StackSettings.from_mapping(
        {"useExistingConfigRecorder": "false"}
    ).use_existing_config_recorder


def test_python39_warning_gives_the_deprecation_dates():
    warning = StackSettings.from_mapping({}).runtime_warning()
    assert "2025-12-15" in warning and "2027-02-01" in warning and "2027-03-03" in warning
    assert StackSettings.from_mapping({"lambdaRuntime": "python3.13"}).runtime_warning() is None


def _run_app(context: dict, outdir: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, CDK_CONTEXT_JSON=json.dumps(context), CDK_OUTDIR=str(outdir))
    return subprocess.run(
        [sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_invalid_suffix_fails_synth_with_one_line_and_no_traceback(tmp_path):
    result = _run_app({"environmentSuffix": "Bad_Suffix"}, tmp_path)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert lines == [
        "error: environmentSuffix='Bad_Suffix': must be 1-16 lowercase letters, digits and hyphens, "
        "starting and ending with a letter or digit"
    ]
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.glob("*.template.json")), "nothing is half-written"
