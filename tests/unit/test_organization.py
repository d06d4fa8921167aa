"""The organization shape's templates: the StackSet, the member part's trail and code, the evidence
part's bucket policy, Athena table and queries; and its settings' one-line errors."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match, Template

from lib.organization import layout, report_table
from lib.organization.analytics import QUERIES
from lib.settings import StackSettings, StackSettingsError
from tests.organization.synth import EVIDENCE, ORGANIZATION_ID, REGIONS, SETTINGS, synthesize

MEMBER = layout.member_stack_name("dev")
EVIDENCE_STACK = layout.evidence_stack_name("dev")


@pytest.fixture(scope="module")
def org():
    return synthesize()


def test_the_shape_has_member_regional_and_evidence_templates(org):
    assert set(org.templates) == {
        MEMBER,
        EVIDENCE_STACK,
        *(layout.regional_stack_name("dev", r) for r in REGIONS),
    }


def test_the_stackset_is_service_managed_and_follows_new_accounts(org):
    Template.from_json(org.template(EVIDENCE_STACK)).has_resource_properties(
        "AWS::CloudFormation::StackSet",
        {
            "StackSetName": "ComplianceAudit-dev",
            "PermissionModel": "SERVICE_MANAGED",
            "CallAs": "DELEGATED_ADMIN",
            "AutoDeployment": {"Enabled": True, "RetainStacksOnAccountRemoval": False},
            "Capabilities": ["CAPABILITY_NAMED_IAM"],
            "StackInstancesGroup": [
                {
                    "DeploymentTargets": {"OrganizationalUnitIds": ["ou-exam-pleunit1"]},
                    "Regions": list(REGIONS),
                }
            ],
            "TemplateURL": Match.any_value(),
        },
    )


def test_the_member_writes_its_own_trail_with_code_from_its_regions_bucket(org):
    template = org.template(MEMBER)
    functions = {
        k: v["Properties"]
        for k, v in template["Resources"].items()
        if v["Type"] == "AWS::Lambda::Function"
    }
    generator = next(p for p in functions.values() if "report-generator" in json.dumps(p))
    env = generator["Environment"]["Variables"]
    region_ref, account_ref = {"Ref": "AWS::Region"}, {"Ref": "AWS::AccountId"}
    assert env["REPORT_PREFIX"] == {
        "Fn::Join": ["", ["reports/", account_ref, "/", region_ref, "/"]]
    }
    assert env["CHAIN_PREFIX"] == {"Fn::Join": ["", ["chain/", account_ref, "/", region_ref, "/"]]}
    assert env["REPORT_BUCKET"] == layout.central_bucket_name("dev", EVIDENCE)
    for props in functions.values():
        assert props["Code"]["S3Bucket"] == {
            "Fn::Sub": f"{layout.asset_bucket_prefix('dev', EVIDENCE)}-${{AWS::Region}}"
        }
    # No bucket of its own (the landing zone's recorder is used), and no delete anywhere.
    kinds = {v["Type"] for v in template["Resources"].values()}
    assert "AWS::S3::Bucket" not in kinds and "AWS::Config::ConfigurationRecorder" not in kinds
    assert "s3:Delete" not in json.dumps(template)


def test_the_member_role_reads_writes_and_lists_its_own_trail_only(org):
    """Every statement of the report generator on the central bucket names the trail's prefixes
    (account and region), whatever the construct grants a bucket of its own."""
    template = org.template(MEMBER)
    (policy,) = [
        r["Properties"]["PolicyDocument"]["Statement"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::IAM::ManagedPolicy" and "WriteReportsOnce" in json.dumps(r)
    ]
    by_sid = {s["Sid"]: s for s in policy if "Sid" in s}

    bucket = layout.central_bucket_name("dev", EVIDENCE)
    account, region = {"Ref": "AWS::AccountId"}, {"Ref": "AWS::Region"}

    def trail(kind):
        return ["", [f"{kind}/", account, "/", region, "/*"]]

    def objects(statement):
        """Each object ARN without its "arn:<partition>" start."""
        return [r["Fn::Join"][1][2:] for r in statement["Resource"]]

    reports = [f":s3:::{bucket}/reports/", account, "/", region, "/*"]
    chain = [f":s3:::{bucket}/chain/", account, "/", region, "/*"]
    assert objects(by_sid["ReadReports"]) == [reports, chain]
    assert objects(by_sid["WriteReportsOnce"]) == [reports]
    assert by_sid["WriteReportsOnce"]["Condition"] == {"Null": {"s3:if-none-match": "false"}}
    assert objects(by_sid["WriteChainBookkeeping"]) == [chain]

    def joins(value):
        return [p["Fn::Join"] for p in (value if isinstance(value, list) else [value])]

    prefixes = {
        sid: joins(by_sid[sid]["Condition"]["StringLike"]["s3:prefix"])
        for sid in ("ListReports", "ListReportVersions")
    }
    assert prefixes["ListReports"] == [trail("reports"), trail("chain")]
    assert prefixes["ListReportVersions"] == [trail("reports")]


def test_member_iam_names_end_with_the_region(org):
    for resource in org.template(MEMBER)["Resources"].values():
        name = resource["Properties"].get("RoleName") or resource["Properties"].get(
            "ManagedPolicyName"
        )
        if resource["Type"] in ("AWS::IAM::Role", "AWS::IAM::ManagedPolicy"):
            assert name["Fn::Join"][1][-1] == {"Ref": "AWS::Region"}


def test_the_central_bucket_policy_gives_each_account_its_prefix(org):
    policies = [
        v["Properties"]["PolicyDocument"]["Statement"]
        for v in org.template(EVIDENCE_STACK)["Resources"].values()
        if v["Type"] == "AWS::S3::BucketPolicy" and "MembersReadWriteOwnTrails" in json.dumps(v)
    ]
    (statements,) = policies
    by_sid = {s.get("Sid"): s for s in statements}
    write = by_sid["MembersReadWriteOwnTrails"]
    # The writer lists its trail's object versions (ListObjectVersions) as well as its keys.
    assert by_sid["MembersListOwnTrails"]["Action"] == ["s3:ListBucket", "s3:ListBucketVersions"]
    assert write["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": ORGANIZATION_ID}}
    assert "reports/${aws:PrincipalAccount}/*" in json.dumps(write["Resource"])
    assert by_sid["ReportsAreWrittenOnce"]["Condition"] == {"Null": {"s3:if-none-match": "true"}}
    assert by_sid["OnlyTheEvidenceAccountDeletes"]["Condition"] == {
        "StringNotEquals": {"aws:PrincipalAccount": EVIDENCE}
    }


def test_the_athena_table_projects_account_region_and_day(org):
    template = Template.from_json(org.template(EVIDENCE_STACK))
    tables = template.find_resources("AWS::Glue::Table")
    (table,) = tables.values()
    params = table["Properties"]["TableInput"]["Parameters"]
    assert params["projection.account.values"] == SETTINGS["organizationAccounts"]
    assert params["projection.region.values"] == ",".join(REGIONS)
    assert params["projection.day.format"] == report_table.DAY_FORMAT
    serde = table["Properties"]["TableInput"]["StorageDescriptor"]["SerdeInfo"]
    assert serde["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
    queries = template.find_resources("AWS::Athena::NamedQuery")
    assert sorted(q["Properties"]["QueryString"] for q in queries.values()) == sorted(
        q.sql() for q in QUERIES
    )
    template.has_resource_properties(
        "AWS::Config::ConfigurationAggregator",
        {"OrganizationAggregationSource": Match.object_like({"AwsRegions": list(REGIONS)})},
    )


@pytest.mark.parametrize(
    "change, fragment",
    [
        ({"evidenceAccount": None}, "evidenceAccount: required with deployment=organization"),
        ({"evidenceAccount": "12345"}, "evidenceAccount='12345': must be a 12-digit account id"),
        ({"organizationId": "org-1"}, "organizationId='org-1'"),
        ({"targetOrganizationalUnits": "ou-1"}, "'ou-1' is neither an OU id"),
        ({"deploymentRegions": "mars-1"}, "'mars-1' is not a region name"),
        ({"organizationAccounts": "111,222"}, "'111' is not a 12-digit account id"),
        ({"deploymentRegions": "us-east-1,us-east-1"}, "'us-east-1' is listed twice"),
        ({"stackSetCallAs": "ROOT"}, "stackSetCallAs='ROOT'"),
        ({"useExistingConfigRecorder": "false"}, "one per account (S3 names are global)"),
        ({"deployment": "galaxy"}, "deployment='galaxy': must be one of single, organization"),
    ],
)
def test_bad_organization_settings_name_the_value_and_the_rule(change, fragment):
    values = {**SETTINGS, **change}
    values = {k: v for k, v in values.items() if v is not None}
    with pytest.raises(StackSettingsError) as error:
        StackSettings.from_mapping(values)
    assert fragment in str(error.value) and "\n" not in str(error.value)


def test_organization_settings_are_refused_in_the_single_shape():
    with pytest.raises(StackSettingsError, match="only for the organization shape"):
        StackSettings.from_mapping({"evidenceAccount": EVIDENCE})


def test_the_organization_shape_uses_existing_recorders_by_default():
    assert StackSettings.from_mapping(SETTINGS).use_existing_config_recorder
    assert not StackSettings.from_mapping({}).use_existing_config_recorder


def test_the_member_reads_the_register_from_its_layer_and_writes_only_its_trail(org):
    """The member's functions carry the exceptions layer; its report generator's report, chain and
    listing statements are narrowed to its own trail, its registers stay at the bucket's root."""
    resources = org.template(MEMBER)["Resources"]
    (layer_id,) = [k for k, v in resources.items() if v["Type"] == "AWS::Lambda::LayerVersion"]
    for resource in resources.values():
        if resource["Type"] == "AWS::Lambda::Function":
            assert resource["Properties"]["Layers"] == [{"Ref": layer_id}]
            assert (
                resource["Properties"]["Environment"]["Variables"]["EXCEPTIONS_REGISTER_PATH"]
                == "/opt/exceptions/register.json"
            )
    (policy,) = [
        v
        for k, v in resources.items()
        if v["Type"] == "AWS::IAM::ManagedPolicy" and k.startswith("ReportGenerator")
    ]
    by_sid = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    own = json.dumps(by_sid["WriteReportsOnce"]["Resource"])
    assert '/reports/", {"Ref": "AWS::AccountId"}, "/", {"Ref": "AWS::Region"}, "/*"' in own
    assert "chain/" in json.dumps(by_sid["WriteChainBookkeeping"]["Resource"])
    assert "reports/" not in json.dumps(by_sid["WriteChainBookkeeping"]["Resource"])
    assert json.dumps(by_sid["WriteRegistersOnce"]["Resource"]).endswith('/exceptions/*"]]}')
    assert by_sid["ListReportVersions"]["Condition"]["StringLike"]["s3:prefix"] == {
        "Fn::Join": ["", ["reports/", {"Ref": "AWS::AccountId"}, "/", {"Ref": "AWS::Region"}, "/*"]]
    }
