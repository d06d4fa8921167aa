"""The organization shape's stacks, in the order they are built and deployed.

1. The member part, in the ``Member`` stage, synthesized first: its template is an asset of the
   evidence stack (the StackSet's ``TemplateURL``), so it must exist when that stack is built. It is a
   stage's stack, so `cdk deploy` of the app's stacks never deploys it on its own.
2. One ``ComplianceAuditEvidence-<suffix>-<region>`` per deployment region (asset bucket, alert topic).
3. ``ComplianceAuditEvidence-<suffix>`` (us-east-1), which depends on the regional stacks: the StackSet
   it creates deploys members that need their region's bucket (with the code, uploaded in
   between: README, Organization) and topic.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk

from lib.organization import layout
from lib.organization.evidence import EvidenceStack, RegionalEvidenceStack
from lib.organization.member import MemberStack
from lib.settings import StackSettings

MEMBER_STAGE = "Member"


@dataclass(frozen=True)
class OrganizationStacks:
    member: MemberStack
    member_template: str  # the synthesized member template's path
    regional: tuple[RegionalEvidenceStack, ...]
    evidence: EvidenceStack

    @property
    def all(self) -> tuple[cdk.Stack, ...]:
        return (self.member, *self.regional, self.evidence)


def build_organization(app: cdk.App, settings: StackSettings) -> OrganizationStacks:
    org = settings.organization
    if org is None:
        raise ValueError("deployment=organization needs the organization settings")
    suffix = settings.environment_suffix
    stage = cdk.Stage(app, MEMBER_STAGE)
    member = MemberStack(
        stage,
        layout.member_stack_name(suffix),
        settings=settings,
        description="Continuous compliance auditing, member part: one account and region of the "
        "organization",
    )
    template = stage.synth().get_stack_artifact(member.artifact_id).template_full_path
    regional = tuple(
        RegionalEvidenceStack(
            app,
            layout.regional_stack_name(suffix, region),
            settings=settings,
            region=region,
            description=f"Compliance audit evidence account, {region}: member code, alert topic",
        )
        for region in org.deployment_regions
    )
    evidence = EvidenceStack(
        app,
        layout.evidence_stack_name(suffix),
        settings=settings,
        member_template=template,
        description="Compliance audit evidence account: central reports, Athena, aggregator, "
        "StackSet",
    )
    for stack in regional:
        evidence.node.add_dependency(stack)
    return OrganizationStacks(member, template, regional, evidence)
