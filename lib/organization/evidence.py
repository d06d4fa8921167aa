"""The evidence part, in the audit (or log-archive) account:

* ``EvidenceStack`` (us-east-1): the central reports bucket (the single shape's ``ReportStorage``: versioned,
  SSE-S3, 7-year lifecycle, optional Object Lock, access-logged) with the policy that gives each member
  account its own prefixes; an organization AWS Config aggregator for the live view; the Glue table and
  Athena queries; and the StackSet that deploys the member part;
* ``RegionalEvidenceStack`` (one per deployment region): the bucket the member template's Lambda code is
  read from in that region, and the organization's alert topic of that region, to which the members of
  the region publish their report summaries (with the witness line) and real-time alerts.

**Witnesses.** As in the single shape, each report's alert carries the new head (``witness: <sequence>
<key> <sha256>``); in this shape every member publishes its own trail's heads, named by key, so the
topics' subscribers (the security mailbox, a SIEM) hold witnesses per trail that no member account can
rewrite, and the evidence account's administrators cannot rewrite either once delivered. A witness kept
in the member account (the SSM-parameter witness being added to the report generator) is written by
each member in its own account: it then cannot be rewritten from the evidence account, which holds the
reports, nor the reports from the member.
"""

from __future__ import annotations

from typing import Optional

from aws_cdk import CfnOutput, Environment, Stack
from aws_cdk import aws_cloudformation as cloudformation
from aws_cdk import aws_config as config
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from lib.alerting.infrastructure import Alerting
from lib.compliance_stack import finish, tag
from lib.defaults import physical_name, secure_bucket
from lib.nag_acknowledgements import EVIDENCE_ACKS, REGIONAL_ACKS
from lib.organization import layout
from lib.organization.analytics import OrganizationAnalytics
from lib.report_storage.infrastructure import ReportStorage
from lib.settings import REGION, OrganizationSettings, StackSettings

# Every key of a member's trail, for the bucket policy: the member's own account, whoever it is. IAM
# substitutes "any available single-valued condition key" in a Resource or condition value ("Single-
# valued vs. multivalued condition keys", IAM User Guide), and aws:PrincipalAccount is single-valued
# and present in every signed request ("AWS global condition context keys").
OWN_ACCOUNT = "${aws:PrincipalAccount}"
# AWS managed policy for an organization aggregator's role ("Setting Up an Aggregator Using the
# Console", AWS Config Developer Guide: AWSConfigRoleForOrganizations).
AGGREGATOR_POLICY = "service-role/AWSConfigRoleForOrganizations"


def central_bucket_statements(
    bucket: s3.IBucket, organization_id: str, evidence_account: str
) -> list[iam.PolicyStatement]:
    """What the organization may do in the central bucket, besides the TLS-only deny every bucket has.

    * A principal of the organization (``aws:PrincipalOrgID``) may write and read objects under
      ``reports/<its account>/`` and ``chain/<its account>/`` only, and list only those prefixes
      (objects and their versions). Across
      accounts both the member's identity policy and this policy must allow ("Cross-account policy
      evaluation logic", IAM User Guide); the member's role narrows it further to its region.
    * Reports are written once: a PutObject under ``reports/`` without ``If-None-Match`` is denied to
      everyone ("Enforce conditional writes on Amazon S3 buckets", Amazon S3 User Guide:
      ``s3:if-none-match``), and with it S3 refuses an existing key (412), so no one overwrites a
      report, their own included. CopyObject and multipart uploads under ``reports/`` are refused with
      it (S3 says so of the same policy); the generator makes a single PUT. The chain's trigger records
      are rewritten in place (their ``alert`` field), so ``chain/`` is not write-once; the head is
      replaced by conditional writes, which S3 versions keep.
    * No principal of another account may delete anything, whatever its own policies say.
    """
    org = {"StringEquals": {"aws:PrincipalOrgID": organization_id}}
    own_objects = [
        bucket.arn_for_objects(f"{layout.REPORTS}{OWN_ACCOUNT}/*"),
        bucket.arn_for_objects(f"{layout.CHAIN}{OWN_ACCOUNT}/*"),
    ]
    anyone = [iam.AnyPrincipal()]
    return [
        iam.PolicyStatement(
            sid="MembersReadWriteOwnTrails",
            principals=anyone,
            actions=["s3:GetObject", "s3:PutObject"],
            resources=own_objects,
            conditions=org,
        ),
        iam.PolicyStatement(
            sid="MembersListOwnTrails",
            principals=anyone,
            # ListObjectVersions needs s3:ListBucketVersions, which takes s3:prefix too (Service
            # Authorization Reference, Amazon S3): the writer reads its trail's versions.
            actions=["s3:ListBucket", "s3:ListBucketVersions"],
            resources=[bucket.bucket_arn],
            conditions={
                **org,
                "StringLike": {
                    "s3:prefix": [
                        f"{layout.REPORTS}{OWN_ACCOUNT}/*",
                        f"{layout.CHAIN}{OWN_ACCOUNT}/*",
                    ]
                },
            },
        ),
        iam.PolicyStatement(
            sid="ReportsAreWrittenOnce",
            effect=iam.Effect.DENY,
            principals=anyone,
            actions=["s3:PutObject"],
            resources=[bucket.arn_for_objects(f"{layout.REPORTS}*")],
            conditions={"Null": {"s3:if-none-match": "true"}},
        ),
        iam.PolicyStatement(
            sid="OnlyTheEvidenceAccountDeletes",
            effect=iam.Effect.DENY,
            principals=anyone,
            actions=["s3:DeleteObject", "s3:DeleteObjectVersion"],
            resources=[bucket.arn_for_objects("*")],
            conditions={"StringNotEquals": {"aws:PrincipalAccount": evidence_account}},
        ),
    ]


def organization_read(bucket: s3.IBucket, organization_id: str) -> iam.PolicyStatement:
    """Any principal of the organization may read the member template's code (the StackSet's execution
    role in each member account creates the functions from it)."""
    return iam.PolicyStatement(
        sid="OrganizationReadsMemberCode",
        principals=[iam.AnyPrincipal()],
        actions=["s3:GetObject"],
        resources=[bucket.arn_for_objects("*")],
        conditions={"StringEquals": {"aws:PrincipalOrgID": organization_id}},
    )


def organization_publish(topic_arn: str, organization_id: str) -> iam.PolicyStatement:
    """The organization's report generators and alert formatters publish to the topic of their region."""
    return iam.PolicyStatement(
        sid="OrganizationPublishes",
        principals=[iam.AnyPrincipal()],
        actions=["sns:Publish"],
        resources=[topic_arn],
        conditions={"StringEquals": {"aws:PrincipalOrgID": organization_id}},
    )


def _org(settings: StackSettings) -> OrganizationSettings:
    if settings.organization is None:
        raise ValueError("the evidence part needs the organization settings")
    return settings.organization


class RegionalEvidenceStack(Stack):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        settings: StackSettings,
        region: str,
        description: Optional[str] = None,
    ) -> None:
        org = _org(settings)
        suffix = settings.environment_suffix
        super().__init__(
            scope,
            id_,
            env=Environment(account=org.evidence_account, region=region),
            description=description,
        )
        tag(self)
        self.assets = secure_bucket(
            self,
            "MemberAssets",
            bucket_name=layout.asset_bucket_name(suffix, org.evidence_account, region),
        )
        self.assets.add_to_resource_policy(organization_read(self.assets, org.organization_id))
        self.alerting = Alerting(
            self,
            "Alerting",
            suffix=layout.organization_suffix(suffix),
            alert_email=settings.alert_email,
        )
        self.alerting.alerts.add_to_resource_policy(
            organization_publish(self.alerting.alerts.topic_arn, org.organization_id)
        )
        CfnOutput(self, "MemberAssetsBucket", value=self.assets.bucket_name)
        CfnOutput(self, "OrganizationAlertTopicArn", value=self.alerting.alerts.topic_arn)
        finish(self, suffix, REGIONAL_ACKS)


class EvidenceStack(Stack):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        settings: StackSettings,
        member_template: str,
        description: Optional[str] = None,
    ) -> None:
        org = _org(settings)
        suffix = settings.environment_suffix
        super().__init__(
            scope,
            id_,
            env=Environment(account=org.evidence_account, region=REGION),
            description=description,
        )
        tag(self)
        self.storage = ReportStorage(
            self, "ReportStorage", suffix=suffix, object_lock_mode=settings.report_object_lock
        )
        for statement in central_bucket_statements(
            self.storage.reports, org.organization_id, org.evidence_account
        ):
            self.storage.reports.add_to_resource_policy(statement)

        self.aggregator_role = iam.Role(
            self,
            "AggregatorRole",
            role_name=physical_name("compliance-config-aggregator", suffix),
            description="AWS Config organization aggregator: list the organization's accounts",
            # AWS Config's aggregator documents the service principal alone in this role's trust
            # policy ("Prerequisites for using aggregators", AWS Config Developer Guide).
            assumed_by=iam.ServicePrincipal("config.amazonaws.com"),
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(AGGREGATOR_POLICY)],
        )
        self.aggregator = config.CfnConfigurationAggregator(
            self,
            "Aggregator",
            configuration_aggregator_name=physical_name("compliance-organization", suffix),
            organization_aggregation_source=config.CfnConfigurationAggregator.OrganizationAggregationSourceProperty(
                role_arn=self.aggregator_role.role_arn,
                aws_regions=list(org.deployment_regions),
                all_aws_regions=False,
            ),
        )

        self.analytics = OrganizationAnalytics(
            self,
            "Analytics",
            suffix=suffix,
            bucket=self.storage.reports,
            accounts=org.accounts,
            regions=org.deployment_regions,
        )

        # The member template, synthesized first (build.py), is an asset of this stack: `cdk deploy`
        # publishes it to this account's CDK bootstrap bucket, where the StackSet reads it.
        self.member_template = s3_assets.Asset(self, "MemberTemplate", path=member_template)
        self.stack_set = cloudformation.CfnStackSet(
            self,
            "Members",
            stack_set_name=layout.stack_set_name(suffix),
            description="Compliance audit member part: every account and region in scope",
            permission_model="SERVICE_MANAGED",
            call_as=org.stack_set_call_as,
            # New accounts of the target OUs get the member part; one that leaves loses it (nothing
            # is retained, as the contract asks).
            auto_deployment=cloudformation.CfnStackSet.AutoDeploymentProperty(
                enabled=True, retain_stacks_on_account_removal=False
            ),
            capabilities=["CAPABILITY_NAMED_IAM"],
            managed_execution={"Active": True},
            operation_preferences=cloudformation.CfnStackSet.OperationPreferencesProperty(
                region_concurrency_type="PARALLEL",
                max_concurrent_percentage=25,
                failure_tolerance_percentage=10,
            ),
            stack_instances_group=[
                cloudformation.CfnStackSet.StackInstancesProperty(
                    deployment_targets=cloudformation.CfnStackSet.DeploymentTargetsProperty(
                        organizational_unit_ids=list(org.target_organizational_units)
                    ),
                    regions=list(org.deployment_regions),
                )
            ],
            template_url=self.member_template.http_url,
        )

        for key, value, what in (
            ("ReportBucketName", self.storage.reports.bucket_name, "The organization's reports"),
            ("AthenaWorkGroup", self.analytics.workgroup_name, "Athena workgroup of the queries"),
            ("GlueDatabase", self.analytics.database_name, "Glue database of the reports table"),
            ("AggregatorName", self.aggregator.ref, "AWS Config organization aggregator"),
            ("StackSetName", layout.stack_set_name(suffix), "StackSet of the member part"),
        ):
            CfnOutput(self, key, value=value, description=what)
        finish(self, suffix, EVIDENCE_ACKS)
