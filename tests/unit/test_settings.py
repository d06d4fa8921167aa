"""StackSettings: every bad context value fails synth with one line naming the value and the rule."""

from __future__ import annotations

import datetime
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lib.settings import NEWEST_RUNTIME, SUPPORTED_RUNTIMES, StackSettings, StackSettingsError

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_match_the_contract():
    settings = StackSettings.from_mapping({})
    assert settings.environment_suffix == "dev"
    assert settings.lambda_runtime == "python3.9"
    assert settings.alert_email is None
    assert settings.use_existing_config_recorder is False
    assert settings.report_object_lock == "off"
    assert (settings.alert_digest_threshold, settings.alert_digest_window_minutes) == (10, 5)
    assert settings.alert_resolved is False


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
        ({"alertDigestThreshold": "0"}, "alertDigestThreshold=0: must be 1-100"),
        ({"alertDigestThreshold": "101"}, "alertDigestThreshold=101: must be 1-100"),
        ({"alertDigestThreshold": "ten"}, "alertDigestThreshold='ten': must be a whole number"),
        ({"alertDigestThreshold": True}, "alertDigestThreshold=True: must be a whole number"),
        ({"alertDigestWindowMinutes": "0"}, "alertDigestWindowMinutes=0: must be 1-5"),
        ({"alertDigestWindowMinutes": 6}, "at most 300 seconds"),
        ({"alertResolved": "sometimes"}, "alertResolved='sometimes': must be true or false"),
    ],
)
def test_bad_values_name_the_value_and_the_rule(values, fragment):
    with pytest.raises(StackSettingsError) as error:
        StackSettings.from_mapping(values)
    message = str(error.value)
    assert fragment in message
    assert "\n" not in message


def test_alert_settings_accept_cli_strings_at_their_limits():
    low = StackSettings.from_mapping(
        {"alertDigestThreshold": "1", "alertDigestWindowMinutes": "1", "alertResolved": "true"}
    )
    high = StackSettings.from_mapping({"alertDigestThreshold": 100, "alertDigestWindowMinutes": 5})
    assert (low.alert_digest_threshold, low.alert_digest_window_minutes, low.alert_resolved) == (
        1,
        1,
        True,
    )
    assert (high.alert_digest_threshold, high.alert_digest_window_minutes) == (100, 5)


def test_flags_accept_cli_strings():
    assert StackSettings.from_mapping(
        {"useExistingConfigRecorder": "true"}
    ).use_existing_config_recorder
    assert not StackSettings.from_mapping(
        {"useExistingConfigRecorder": "false"}
    ).use_existing_config_recorder


CFN_LINT_LIFECYCLE = json.loads(
    (
        Path(importlib.util.find_spec("cfnlint").submodule_search_locations[0])
        / "data"
        / "AdditionalSpecs"
        / "LmbdRuntimeLifecycle.json"
    ).read_text()
)


def _cdk_python_runtimes() -> set[str]:
    from aws_cdk import aws_lambda

    return {
        getattr(aws_lambda.Runtime, name).name
        for name in dir(aws_lambda.Runtime)
        if name.startswith("PYTHON_3_")
    }


def _minor(runtime: str) -> int:
    return int(runtime.removeprefix("python3."))


def test_accepted_runtimes_are_the_python3_runtimes_both_cdk_and_cfn_lint_know():
    """From the contract's python3.9 up to the newest runtime both pinned tools know (python3.14 with
    aws-cdk-lib 2.275.0 and cfn-lint 1.58.0): CDK must be able to name it, cfn-lint to date it."""
    known = _cdk_python_runtimes() & {r for r in CFN_LINT_LIFECYCLE if r.startswith("python3.")}
    expected = sorted((r for r in known if _minor(r) >= 9), key=_minor)
    assert list(SUPPORTED_RUNTIMES) == expected
    assert SUPPORTED_RUNTIMES[0] == "python3.9"
    assert "python3.14" in SUPPORTED_RUNTIMES
    assert NEWEST_RUNTIME == expected[-1]
    assert StackSettings.from_mapping({"lambdaRuntime": NEWEST_RUNTIME}).lambda_runtime == (
        NEWEST_RUNTIME
    )
    with pytest.raises(StackSettingsError, match="lambdaRuntime='python3.8'"):
        StackSettings.from_mapping({"lambdaRuntime": "python3.8"})


@pytest.mark.parametrize("runtime", ["python3.9", "python3.10"])
def test_deprecated_runtimes_warn_with_cfn_lint_s_dates(runtime):
    dates = CFN_LINT_LIFECYCLE[runtime]
    deprecated = datetime.date.fromisoformat(dates["deprecated"])
    settings = StackSettings.from_mapping({"lambdaRuntime": runtime})

    warning = settings.runtime_warning(today=deprecated)

    assert warning is not None and "\n" not in warning
    assert f"lambdaRuntime={runtime} is deprecated since {dates['deprecated']}" in warning
    assert dates["create-block"] in warning and dates["update-block"] in warning
    assert f"-c lambdaRuntime={NEWEST_RUNTIME}" in warning
    assert settings.runtime_warning(today=deprecated - datetime.timedelta(days=1)) is None


def test_python39_warning_says_the_contract_keeps_it_and_newer_runtimes_do_not_warn():
    today = datetime.date(2026, 12, 1)
    assert "Kept because the contract requires it" in StackSettings.from_mapping(
        {}
    ).runtime_warning(today=today)
    assert "contract" not in StackSettings.from_mapping(
        {"lambdaRuntime": "python3.10"}
    ).runtime_warning(today=today)
    assert (
        StackSettings.from_mapping({"lambdaRuntime": NEWEST_RUNTIME}).runtime_warning(today=today)
        is None
    )


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
