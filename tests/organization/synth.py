"""The organization shape synthesized once per test process, with example settings: an evidence
account, an organization, three member accounts' worth of Athena projection, two regions."""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from app import build_app
from scripts.validate import assembly_templates
from tests.unit.synth import make_app

EVIDENCE, MEMBER_A, MEMBER_B, OUTSIDER = (
    "111111111111",
    "222222222222",
    "333333333333",
    "444444444444",
)
ORGANIZATION_ID = "o-exampleorg1"
REGIONS = ("us-east-1", "eu-west-1")
SETTINGS = {
    "deployment": "organization",
    "evidenceAccount": EVIDENCE,
    "organizationId": ORGANIZATION_ID,
    "targetOrganizationalUnits": "ou-exam-pleunit1",
    "organizationAccounts": f"{EVIDENCE},{MEMBER_A},{MEMBER_B}",
    "deploymentRegions": ",".join(REGIONS),
    "alertEmail": "none",
}


@dataclass(frozen=True)
class Organization:
    outdir: Path
    templates: dict[str, Path]  # stack name -> template file

    def template(self, name: str) -> dict[str, Any]:
        return json.loads(self.templates[name].read_text())

    def path(self, name: str) -> Path:
        return self.templates[name]


def synthesize(**overrides: str) -> Organization:
    return _synthesize(tuple(sorted(overrides.items())))


@cache
def _synthesize(overrides: tuple[tuple[str, str], ...]) -> Organization:
    outdir = Path(tempfile.mkdtemp(prefix="cdk-org-"))
    atexit.register(shutil.rmtree, outdir, ignore_errors=True)
    app = make_app({**SETTINGS, **dict(overrides)}, outdir=str(outdir))
    build_app(app)
    app.synth()  # raises if a cdk-nag pack has an unacknowledged finding
    templates = {}
    for path in assembly_templates(outdir):
        manifest = json.loads((path.parent / "manifest.json").read_text())
        for artifact in manifest["artifacts"].values():
            if artifact.get("properties", {}).get("templateFile") == path.name:
                templates[artifact["displayName"].split("/")[-1]] = path
    return Organization(outdir, templates)
