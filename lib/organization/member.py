"""The member part: what watches one account and region of the organization, deployed by a
service-managed StackSet, with its reports written to the evidence account's central bucket.

It is the single-account stack's ``AccountParts`` without a bucket of its own:

* the report generator writes ``reports/<account>/<region>/...`` and ``chain/<account>/<region>/...``
  in the central bucket (``REPORT_PREFIX`` and ``CHAIN_PREFIX``, which its runtime reads), and its
  role may read and write only there: the ``ReadWriteReports`` and ``ListReports`` statements of the
  construct are narrowed to the trail's prefixes (the bucket policy enforces the account part for
  every principal, the role the region part); the exceptions register it was deployed with goes to
  ``exceptions/<sha256>.json`` at the bucket's root (not narrowed): it is content-addressed, so every
  member deployed with the same register names the same object, written once by the first of them;
* the report summaries (with the witness line) and the real-time alerts go to the organization's
  alert topic in the evidence account, in the member's own region (SNS publishes only to a topic of
  the client's region); alarms to the member's local topic;
* AWS Config: the account's existing recorder (Control Tower's) unless ``useExistingConfigRecorder``
  is false.

**Assets.** A StackSet deploys one template to every account and region, and Lambda reads a
function's code from a bucket in the function's own region ("S3Bucket: An Amazon S3 bucket in the
same AWS Region as your function. The bucket can be in a different AWS account", AWS::Lambda::Function
Code). So the template names ``compliance-assets-<suffix>-<evidence account>-${AWS::Region}``: one
bucket per deployment region in the evidence account (``RegionalEvidenceStack``), readable by the
organization. ``RegionalAssetsSynthesizer`` writes that name into the template (the region resolved by
CloudFormation in each stack instance) and lists the assets in ``member-assets.json`` beside the
template; each asset goes to every region's bucket before the StackSet deploys (README,
Organization, deploy order: ``make publish-member-assets``, ``scripts/publish_member_assets.py``, which
checks the template against this list). The CDK
bootstrap bucket cannot serve: it exists in the evidence account's bootstrapped regions only, and its
policy admits that account's roles alone.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional, cast

import jsii
from aws_cdk import (
    Aspects,
    Aws,
    DockerImageAssetLocation,
    DockerImageAssetSource,
    FileAssetLocation,
    FileAssetPackaging,
    FileAssetSource,
    Fn,
    IAspect,
    IStackSynthesizer,
    ISynthesisSession,
    Stack,
    StackSynthesizer,
)
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct, IConstruct

from lib.compliance_stack import AccountParts, finish, tag
from lib.defaults import resource_of
from lib.nag_acknowledgements import member_acks
from lib.organization import layout
from lib.report_generator.runtime.compliance_report.environment import (
    CHAIN_PREFIX,
    REPORT_PREFIX,
)
from lib.settings import StackSettings

ASSET_MANIFEST = layout.ASSET_MANIFEST


class RegionalAssetsSynthesizer(StackSynthesizer):
    """Synthesizes the member template for a StackSet: file assets live in the evidence account's
    bucket of each instance's region (``<prefix>-${AWS::Region}``), no CDK bootstrap resources are
    referenced (the member accounts are not bootstrapped), and no bootstrap version rule is added.
    Docker image assets are refused: nothing of ours needs one."""

    def __init__(self, bucket_prefix: str) -> None:
        super().__init__()
        self.bucket_prefix = bucket_prefix
        self.assets: list[dict[str, str]] = []

    # jsii calls an override with the struct as one argument, as TypeScript declares it; the Python
    # bindings spell the same method with the struct's fields as keywords, hence the ignores.
    def add_file_asset(self, asset: FileAssetSource) -> FileAssetLocation:  # type: ignore[override]
        if asset.file_name is None:
            raise ValueError("a member asset must be a file or folder of the cloud assembly")
        zipped = asset.packaging == FileAssetPackaging.ZIP_DIRECTORY
        key = (
            f"{asset.source_hash}.zip"
            if zipped
            else f"{asset.source_hash}{Path(asset.file_name).suffix}"
        )
        entry = {
            "path": asset.file_name,
            "objectKey": key,
            "packaging": "zip" if zipped else "file",
        }
        if entry not in self.assets:
            self.assets.append(entry)
        bucket = Fn.sub(f"{self.bucket_prefix}-${{AWS::Region}}")
        return FileAssetLocation(
            bucket_name=bucket,
            object_key=key,
            http_url=Fn.sub(
                f"https://{self.bucket_prefix}-${{AWS::Region}}.s3.${{AWS::Region}}."
                f"${{AWS::URLSuffix}}/{key}"
            ),
            s3_object_url=Fn.sub(f"s3://{self.bucket_prefix}-${{AWS::Region}}/{key}"),
        )

    def add_docker_image_asset(  # type: ignore[override]
        self, asset: DockerImageAssetSource
    ) -> DockerImageAssetLocation:
        raise ValueError("the member part of a StackSet cannot use Docker image assets")

    def synthesize(self, session: ISynthesisSession) -> None:
        self._synthesize_template(session)
        self._emit_artifact(session)
        manifest = {"bucketPrefix": self.bucket_prefix, "assets": self.assets}
        Path(session.assembly.outdir, ASSET_MANIFEST).write_text(
            json.dumps(manifest, indent=2) + "\n"
        )


@jsii.implements(IAspect)
class _RegionalIamNames:
    def visit(self, node: IConstruct) -> None:
        if isinstance(node, iam.CfnRole) and isinstance(node.role_name, str):
            node.role_name = f"{node.role_name}-{Aws.REGION}"
        elif isinstance(node, iam.CfnManagedPolicy) and isinstance(node.managed_policy_name, str):
            node.managed_policy_name = f"{node.managed_policy_name}-{Aws.REGION}"


class MemberStack(Stack):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        settings: StackSettings,
        description: Optional[str] = None,
    ) -> None:
        org = settings.organization
        if org is None:
            raise ValueError("the member part needs the organization settings")
        suffix = settings.environment_suffix
        super().__init__(
            scope,
            id_,
            description=description,
            synthesizer=cast(
                IStackSynthesizer,
                RegionalAssetsSynthesizer(layout.asset_bucket_prefix(suffix, org.evidence_account)),
            ),
        )
        tag(self)
        self.central = s3.Bucket.from_bucket_name(
            self, "CentralReports", layout.central_bucket_name(suffix, org.evidence_account)
        )
        # The topic of the member's own region in the evidence account (RegionalEvidenceStack).
        self.organization_alerts = sns.Topic.from_topic_arn(
            self,
            "OrganizationAlerts",
            f"arn:{Aws.PARTITION}:sns:{Aws.REGION}:{org.evidence_account}:"
            f"{layout.organization_topic_name(suffix)}",
        )
        self.report_prefix = layout.member_report_prefix(Aws.ACCOUNT_ID, Aws.REGION)
        self.chain_prefix = layout.member_chain_prefix(Aws.ACCOUNT_ID, Aws.REGION)
        parts = AccountParts(
            self,
            settings,
            reports=self.central,
            # Only a member that creates its own recorder logs its delivery bucket; it then gets an
            # access-log bucket of its own (settings allow that in one region only).
            access_logs=self._access_logs(settings),
            alerts=self.organization_alerts,
        )
        self.alerting = parts.alerting
        self.monitoring = parts.monitoring
        self.alert_formatter = parts.alert_formatter
        self.report_generator = parts.report_generator
        function = self.report_generator.function
        function.add_environment(REPORT_PREFIX, self.report_prefix)
        function.add_environment(CHAIN_PREFIX, self.chain_prefix)
        self._narrow_report_access()
        # IAM names are global to the account and a StackSet deploys this template to every region
        # of it, so each role and managed policy name ends with the region ("IAM identifiers",
        # IAM User Guide: names are unique within the account; a role name has at most 64
        # characters, and compliance-report-generator-<16>-<14> is 59).
        Aspects.of(self).add(_RegionalIamNames())
        finish(self, suffix, member_acks(self.central.bucket_name))

    def _access_logs(self, settings: StackSettings) -> s3.IBucket:
        from lib.defaults import secure_bucket

        if settings.use_existing_config_recorder:
            # Never referenced: ConfigMonitoring logs only the delivery bucket it creates.
            return self.central
        return secure_bucket(
            self,
            "AccessLogs",
            bucket_name=f"compliance-member-logs-{settings.environment_suffix}-{Aws.ACCOUNT_ID}",
        )

    def _narrow_report_access(self) -> None:
        """The report generator's statements on the bucket, narrowed to this trail's prefixes.

        The construct grants ``reports/*`` and ``chain/*`` of the bucket it is given, right for a
        bucket of its own; here the bucket is the organization's. Its statements are found by Sid in
        the policy document, so a reordering of the construct's statements cannot move an override
        to another statement, and a missing Sid fails synth."""
        policy = self.report_generator.policy
        document: Any = self.resolve(policy.document.to_json())
        found = {s.get("Sid"): i for i, s in enumerate(document["Statement"])}
        wanted = {
            "ReadReports",
            "WriteReportsOnce",
            "WriteChainBookkeeping",
            "ListReports",
            "ListReportVersions",
        }
        missing = wanted - set(found)
        if missing:
            raise LookupError(f"the report generator's policy has no statement {sorted(missing)}")
        cfn = resource_of(policy)
        reports = self.central.arn_for_objects(f"{self.report_prefix}*")
        chain = self.central.arn_for_objects(f"{self.chain_prefix}*")
        for sid, resources in (
            ("ReadReports", [reports, chain]),
            ("WriteReportsOnce", [reports]),
            ("WriteChainBookkeeping", [chain]),
        ):
            cfn.add_property_override(f"PolicyDocument.Statement.{found[sid]}.Resource", resources)
        # S3 answers a GET of a missing key with 404 only to a caller allowed s3:ListBucket, else 403
        # (GetObject, Amazon S3 API Reference), and the chain must tell the two apart. AWS evaluates
        # that check with the key as s3:prefix, so a listing right limited to the trail's prefixes
        # keeps "absent" readable: not in AWS's documents, but observed (Ceph's S3 gateway changed
        # to match it, ceph/ceph#68577). README, Organization, says what to do if a first run reads
        # 403 for its absent head.
        cfn.add_property_override(
            f"PolicyDocument.Statement.{found['ListReports']}.Condition",
            {"StringLike": {"s3:prefix": [f"{self.report_prefix}*", f"{self.chain_prefix}*"]}},
        )
        # The trail's versions listing (the next sequence), under this trail's reports only.
        cfn.add_property_override(
            f"PolicyDocument.Statement.{found['ListReportVersions']}.Condition",
            {"StringLike": {"s3:prefix": f"{self.report_prefix}*"}},
        )
