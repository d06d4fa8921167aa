"""The cdk-nag packs every synth runs: AWS Solutions, PCI DSS 3.2.1 and NIST 800-53 rev 5."""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, NIST80053R5Checks, PCIDSS321Checks

PACKS = ("AwsSolutions", "PCI.DSS.321", "NIST.800.53.R5")


def add_nag_plugins(app: cdk.App) -> None:
    cdk.Validations.of(app).add_plugins(
        AwsSolutionsChecks(app, verbose=True),
        PCIDSS321Checks(app, verbose=True),
        NIST80053R5Checks(app, verbose=True),
    )
