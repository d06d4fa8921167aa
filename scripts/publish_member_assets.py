#!/usr/bin/env python3
"""Publish the member part's Lambda code to the evidence account's asset bucket of every StackSet
region (dry run unless --execute).

A service-managed StackSet deploys one template to every account and region in scope, and Lambda
creates a function only from code in a bucket of the function's own region ("S3Bucket: An Amazon S3
bucket in the same AWS Region as your function. The bucket can be in a different AWS account", AWS
Lambda API Reference, FunctionCode; AWS::Lambda::Function Code says the same). CDK stages a stack's
assets in its own bootstrap bucket, which a StackSet's member accounts cannot read and which exists
in the bootstrapped regions only; so the member template (``lib/organization/member.py``,
``RegionalAssetsSynthesizer``) names ``<bucket prefix>-${AWS::Region}`` and a key made of the asset's
content hash (CDK's source hash: ``<hash>.zip``), and lists its assets in ``member-assets.json``
beside the template. The same convention as cdklabs' cdk-stacksets: one bucket per target region,
named ``<prefix>-<region>``. ``RegionalEvidenceStack`` creates those buckets, readable by the
organization.

This command reads the synthesized member template and its asset list from the cloud assembly,
checks that they agree (every function's code is a listed asset in ``<prefix>-${AWS::Region}``),
takes the regions from the StackSet of the evidence stack (or ``--regions``), zips each asset folder
reproducibly, and uploads it to every region's bucket under its key, written once (``If-None-Match:
*``: a key that is already there holds the same content, since the key is the content's hash, and is
left as it is). Without ``--execute`` it prints what it would upload and touches nothing.

    python -m scripts.publish_member_assets --suffix prod [--assembly cdk.out] [--execute]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import re
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from botocore.exceptions import ClientError

from lib.organization import layout
from lib.organization.layout import ASSET_MANIFEST
from scripts import deployment
from scripts.deployment import OpsError

# Reproducible zips: every entry dated 1980-01-01 (the earliest a zip can hold), files 0644 and
# folders 0755, in sorted order; so one folder always makes the same bytes.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644 << 16
DIR_MODE = (0o040755 << 16) | 0x10
# The report schema's region pattern, as lib/settings.py checks deploymentRegions.
REGION_NAME = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-[0-9]$")


@dataclass(frozen=True)
class Asset:
    source: Path  # a folder (zipped) or a file of the cloud assembly
    key: str  # the object key the template names: <content hash>.zip or <hash><extension>
    packaging: str  # "zip" | "file"


@dataclass(frozen=True)
class Plan:
    template: Path
    bucket_prefix: str
    regions: tuple[str, ...]
    assets: tuple[Asset, ...]

    def bucket(self, region: str) -> str:
        return f"{self.bucket_prefix}-{region}"


def _json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OpsError(f"{path}: not found ({what}); run make synth SHAPE=organization") from None
    except (OSError, ValueError) as e:
        raise OpsError(f"{path}: unreadable {what} ({e})") from None


def _stacks(assembly: Path) -> dict[str, Path]:
    """Stack name -> template of a cloud assembly, nested assemblies (the member stage) included."""
    manifest = _json(assembly / "manifest.json", "the cloud assembly's manifest")
    found: dict[str, Path] = {}
    for artifact in manifest.get("artifacts", {}).values():
        props = artifact.get("properties", {})
        if artifact.get("type") == "aws:cloudformation:stack":
            found[str(artifact.get("displayName", "")).split("/")[-1]] = (
                assembly / props["templateFile"]
            )
        elif artifact.get("type") == "cdk:cloud-assembly":
            found.update(_stacks(assembly / props["directoryName"]))
    return found


def stack_set_regions(evidence_template: Path) -> tuple[str, ...]:
    """The regions of the evidence stack's StackSet (its StackInstancesGroup)."""
    template = _json(evidence_template, "the evidence stack's template")
    regions: list[str] = []
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") == "AWS::CloudFormation::StackSet":
            for group in resource["Properties"].get("StackInstancesGroup", []):
                regions += [r for r in group.get("Regions", []) if r not in regions]
    if not regions:
        raise OpsError(f"{evidence_template}: no StackSet with regions in the evidence stack")
    return tuple(regions)


def read_plan(assembly: Path, suffix: str, regions: Optional[tuple[str, ...]] = None) -> Plan:
    """What to upload where, from the cloud assembly; an ``OpsError`` names what does not agree."""
    stacks = _stacks(assembly)
    member_name = layout.member_stack_name(suffix)
    if member_name not in stacks:
        found = ", ".join(sorted(stacks)) or "none"
        raise OpsError(
            f"{assembly}: no member stack {member_name} (stacks: {found}); synthesize the "
            f"organization shape for suffix {suffix!r}: make synth SHAPE=organization "
            f"ENV_SUFFIX={suffix}"
        )
    template_path = stacks[member_name]
    manifest_path = template_path.parent / ASSET_MANIFEST
    manifest = _json(manifest_path, "the member part's asset list")
    prefix = manifest.get("bucketPrefix")
    entries = manifest.get("assets")
    if not isinstance(prefix, str) or not prefix or not isinstance(entries, list):
        raise OpsError(f"{manifest_path}: must have bucketPrefix (text) and assets (a list)")
    assets = []
    for index, entry in enumerate(entries):
        where = f"{manifest_path}: assets[{index}]"
        if not isinstance(entry, dict) or not {"path", "objectKey", "packaging"} <= set(entry):
            raise OpsError(f"{where}: must have path, objectKey and packaging")
        source = (template_path.parent / str(entry["path"])).resolve()
        packaging = entry["packaging"]
        if packaging not in ("zip", "file"):
            raise OpsError(f"{where}: packaging {packaging!r} must be zip or file")
        if not (source.is_dir() if packaging == "zip" else source.is_file()):
            kind = "folder" if packaging == "zip" else "file"
            raise OpsError(f"{where}: {source} is not a {kind}; synthesize again")
        assets.append(Asset(source, str(entry["objectKey"]), packaging))
    _check_template(template_path, prefix, {a.key for a in assets})
    if regions is None:
        evidence = stacks.get(layout.evidence_stack_name(suffix))
        if evidence is None:
            raise OpsError(
                f"{assembly}: no {layout.evidence_stack_name(suffix)} to take the StackSet's "
                "regions from; give --regions"
            )
        regions = stack_set_regions(evidence)
    return Plan(template_path, prefix, regions, tuple(assets))


def _check_template(template_path: Path, prefix: str, keys: set[str]) -> None:
    """Every function of the member template reads its code from ``<prefix>-${AWS::Region}`` under a
    listed key: else the template and the list are from different syntheses."""
    template = _json(template_path, "the member template")
    expected_bucket = {"Fn::Sub": f"{prefix}-${{AWS::Region}}"}
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::Lambda::Function":
            continue
        code = resource["Properties"].get("Code", {})
        if code.get("S3Bucket") != expected_bucket:
            raise OpsError(
                f"{template_path}: {logical_id} reads its code from {code.get('S3Bucket')!r}, not "
                f"{prefix}-${{AWS::Region}}"
            )
        if code.get("S3Key") not in keys:
            raise OpsError(
                f"{template_path}: {logical_id}'s code {code.get('S3Key')!r} is not in "
                f"{ASSET_MANIFEST}; synthesize again"
            )


def package(asset: Asset) -> bytes:
    """The bytes uploaded for ``asset``: a reproducible zip of the folder, or the file as it is."""
    if asset.packaging == "file":
        return asset.source.read_bytes()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(asset.source.rglob("*")):
            if "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            name = path.relative_to(asset.source).as_posix()
            info = zipfile.ZipInfo(name + ("/" if path.is_dir() else ""), date_time=ZIP_DATE)
            info.external_attr = DIR_MODE if path.is_dir() else FILE_MODE
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, b"" if path.is_dir() else path.read_bytes())
    return buffer.getvalue()


def publish(plan: Plan, execute: bool, s3_for: Any, out: Any = sys.stdout) -> dict[str, int]:
    """Upload (or, without ``execute``, print) every asset to every region's bucket. ``s3_for(region)``
    gives an S3 client of that region. Returns the counts of uploaded, present and planned objects."""
    counts = {"uploaded": 0, "present": 0, "planned": 0}
    packages = {asset.key: package(asset) for asset in plan.assets}
    for region in plan.regions:
        bucket = plan.bucket(region)
        s3 = s3_for(region) if execute else None
        for asset in plan.assets:
            body = packages[asset.key]
            what = (
                f"{asset.source.name} ({len(body):,} bytes, sha256 "
                f"{hashlib.sha256(body).hexdigest()[:16]}...) -> s3://{bucket}/{asset.key}"
            )
            if s3 is None:
                counts["planned"] += 1
                print(f"would upload {what}", file=out)
                continue
            try:
                s3.put_object(Bucket=bucket, Key=asset.key, Body=body, IfNoneMatch="*")
            except ClientError as e:
                # 412: the key is there; its name is its content's hash, so it is this content.
                if e.response.get("Error", {}).get("Code") != "PreconditionFailed":
                    raise
                counts["present"] += 1
                print(f"present  {what}", file=out)
                continue
            counts["uploaded"] += 1
            print(f"uploaded {what}", file=out)
    return counts


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suffix", required=True, help="environment suffix, e.g. prod")
    parser.add_argument(
        "--assembly", type=Path, default=Path("cdk.out"), help="cloud assembly (default cdk.out)"
    )
    parser.add_argument(
        "--regions", help="comma-separated regions (default: the StackSet's, from the assembly)"
    )
    parser.add_argument(
        "--execute", action="store_true", help="upload; without it, print what would be uploaded"
    )
    args = parser.parse_args(argv)
    regions = None
    if args.regions is not None:
        regions = tuple(r.strip() for r in args.regions.split(",") if r.strip())
        bad = next((r for r in regions if not REGION_NAME.match(r)), None)
        if bad is not None or not regions:
            raise OpsError(f"--regions {args.regions!r}: must be region names like eu-west-1")
    plan = read_plan(args.assembly, args.suffix, regions)
    print(
        f"{len(plan.assets)} assets of {plan.template.name} x {len(plan.regions)} regions "
        f"({', '.join(plan.regions)}) -> {plan.bucket_prefix}-<region>"
    )
    counts = publish(
        plan, args.execute, lambda region: deployment.client(deployment.session(region), "s3")
    )
    if args.execute:
        print(f"{counts['uploaded']} uploaded, {counts['present']} already there")
    else:
        print(f"dry run: {counts['planned']} uploads planned; --execute (EXECUTE=1) uploads them")
    return 0


if __name__ == "__main__":
    sys.exit(deployment.run(main))
