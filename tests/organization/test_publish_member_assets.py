"""GIVEN the organization shape synthesized (member template, its asset list, the StackSet's regions)
and the evidence account's asset bucket of each region in the emulator WHEN `python -m
scripts.publish_member_assets` runs as the operator runs it THEN a dry run uploads nothing and says
what it would, --execute puts every asset under the key the member template names in every region's
bucket (a zip Lambda can run: the handler at its root), a second run changes nothing, and an assembly
whose template and asset list disagree is one line naming the function."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from lib.organization import layout
from tests.organization.synth import EVIDENCE, REGIONS
from tools.local_aws import estate
from tools.local_aws.accounts import admin_key

ROOT = Path(__file__).resolve().parents[2]
SUFFIX = "dev"


def publish(aws, assembly, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        PYTHONPATH=str(ROOT),
        AWS_ACCESS_KEY_ID=admin_key(EVIDENCE),  # the evidence account's administrator
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_ENDPOINT_URL=aws.endpoint_url,
        AWS_EC2_METADATA_DISABLED="true",
    )
    return subprocess.run(
        [sys.executable, "-m", "scripts.publish_member_assets", "--suffix", SUFFIX]
        + ["--assembly", str(assembly), *args],
        cwd=str(ROOT),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def member_code(organization):
    """(function logical id, object key) of every function of the member template."""
    template = organization.template(layout.member_stack_name(SUFFIX))
    return {
        lid: r["Properties"]["Code"]["S3Key"]
        for lid, r in template["Resources"].items()
        if r["Type"] == "AWS::Lambda::Function"
    }


def member_layers(organization):
    """(layer logical id, object key) of every layer of the member template (the exceptions
    register): a StackSet instance reads it from the same regional bucket as the functions' code."""
    template = organization.template(layout.member_stack_name(SUFFIX))
    return {
        lid: r["Properties"]["Content"]["S3Key"]
        for lid, r in template["Resources"].items()
        if r["Type"] == "AWS::Lambda::LayerVersion"
    }


@pytest.fixture
def buckets(aws):
    """The regional evidence stacks' asset buckets, in the evidence account."""
    names = {}
    for region in REGIONS:
        s3 = estate.clients(aws.endpoint_url, region, access_key=admin_key(EVIDENCE)).s3
        names[region] = estate.create_bucket(s3, layout.asset_bucket_name(SUFFIX, EVIDENCE, region))
    return names


def objects(aws, region, bucket):
    s3 = estate.clients(aws.endpoint_url, region, access_key=admin_key(EVIDENCE)).s3
    found = s3.list_object_versions(Bucket=bucket).get("Versions", [])
    return s3, sorted((v["Key"], v["VersionId"]) for v in found)


def test_a_dry_run_says_what_it_would_upload_and_uploads_nothing(aws, organization, buckets):
    run = publish(aws, organization.outdir)

    assert run.returncode == 0, run.stderr
    keys = set(member_code(organization).values()) | set(member_layers(organization).values())
    assert member_layers(organization), "the member template has its exceptions layer"
    planned = [line for line in run.stdout.splitlines() if line.startswith("would upload ")]
    assert len(planned) == len(keys) * len(REGIONS)
    for region, bucket in buckets.items():
        for key in keys:
            assert any(line.endswith(f"s3://{bucket}/{key}") for line in planned)
        assert objects(aws, region, bucket)[1] == []
    assert "dry run: " in run.stdout.splitlines()[-1]


def test_execute_puts_each_function_code_where_the_template_names_it(aws, organization, buckets):
    run = publish(aws, organization.outdir, "--execute")

    assert run.returncode == 0, run.stderr
    codes = member_code(organization)
    layers = member_layers(organization)
    every = set(codes.values()) | set(layers.values())
    for region, bucket in buckets.items():
        s3, stored = objects(aws, region, bucket)
        assert sorted(k for k, _ in stored) == sorted(every)
        for key in layers.values():
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            with zipfile.ZipFile(io.BytesIO(body)) as archive:
                files = [n for n in archive.namelist() if not n.endswith("/")]
            assert files == ["exceptions/register.json"]  # Lambda extracts it to /opt/exceptions/
        for key in codes.values():
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            with zipfile.ZipFile(io.BytesIO(body)) as archive:
                names = archive.namelist()
            assert "handler.py" in names  # Lambda's handler setting is handler.handler
            assert not any("__pycache__" in n for n in names)
    assert f"{len(buckets) * len(every)} uploaded, 0 already there" in run.stdout


def test_a_second_run_leaves_every_object_as_it_is(aws, organization, buckets):
    assert publish(aws, organization.outdir, "--execute").returncode == 0
    before = {r: objects(aws, r, b)[1] for r, b in buckets.items()}

    again = publish(aws, organization.outdir, "--execute")

    assert again.returncode == 0, again.stderr
    assert {r: objects(aws, r, b)[1] for r, b in buckets.items()} == before
    assert f"0 uploaded, {sum(len(v) for v in before.values())} already there" in again.stdout


def test_the_zip_is_the_same_bytes_every_time(organization):
    from scripts.publish_member_assets import package, read_plan

    plan = read_plan(organization.outdir, SUFFIX)
    assert plan.regions == REGIONS
    for asset in plan.assets:
        assert package(asset) == package(asset)


def test_a_missing_bucket_is_one_line(aws, organization):
    run = publish(aws, organization.outdir, "--execute", "--regions", "eu-west-1")

    assert run.returncode == 1
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("error: ")
    assert "NoSuchBucket" in run.stderr or "does not exist" in run.stderr


@pytest.mark.parametrize(
    "spoil, fragment",
    [
        (lambda t, m: t["Resources"].update(), None),
        (lambda t, m: m["assets"].pop(), "is not in member-assets.json"),
        (lambda t, m: m.update(bucketPrefix="elsewhere"), "reads its code from"),
        (
            lambda t, m: m["assets"][0].update(packaging="tar"),
            "packaging 'tar' must be zip or file",
        ),
        (lambda t, m: m.pop("assets"), "must have bucketPrefix (text) and assets (a list)"),
    ],
)
def test_an_assembly_that_does_not_agree_with_itself_is_one_line(
    tmp_path, aws, organization, spoil, fragment
):
    copy = tmp_path / "cdk.out"
    shutil.copytree(organization.outdir, copy, symlinks=True)
    template_path = copy / organization.path(layout.member_stack_name(SUFFIX)).relative_to(
        organization.outdir
    )
    manifest_path = template_path.parent / layout.ASSET_MANIFEST
    template, manifest = (
        json.loads(template_path.read_text()),
        json.loads(manifest_path.read_text()),
    )
    spoil(template, manifest)
    template_path.write_text(json.dumps(template))
    manifest_path.write_text(json.dumps(manifest))

    run = publish(aws, copy)

    if fragment is None:  # unchanged: the copy itself is fine
        assert run.returncode == 0, run.stderr
        return
    assert run.returncode == 1
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("error: ")
    assert fragment in run.stderr


def test_bad_regions_and_an_unknown_suffix_are_one_line(aws, organization):
    run = publish(aws, organization.outdir, "--regions", "Europe")
    assert run.returncode == 1 and "--regions 'Europe': must be region names" in run.stderr
    env_run = subprocess.run(
        [sys.executable, "-m", "scripts.publish_member_assets", "--suffix", "prod"]
        + ["--assembly", str(organization.outdir)],
        cwd=str(ROOT),
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert env_run.returncode == 1
    assert "no member stack ComplianceAuditMember-prod" in env_run.stderr
