"""Each managed rule's verdicts against real emulated resources, through drift and remediation."""

from __future__ import annotations

import pytest

from tools.local_aws import estate
from tools.local_aws.client import LocalAwsError

S3, RDS, EC2 = "s3-encryption-dev", "rds-encryption-dev", "ec2-imdsv2-dev"


def test_s3_bucket_encryption_compliant_then_drift_then_remediate(aws, clients, rules, compliance):
    # GIVEN one encrypted and one unencrypted bucket (plus the delivery bucket, which is encrypted)
    estate.create_bucket(clients.s3, "encrypted-bucket", encrypted=True)
    estate.create_bucket(clients.s3, "plain-bucket", encrypted=False)
    # THEN
    assert compliance(clients.config, S3) == {
        "config-delivery-bucket": "COMPLIANT",
        "encrypted-bucket": "COMPLIANT",
        "plain-bucket": "NON_COMPLIANT",
    }
    # WHEN the encrypted bucket drifts and the plain one is remediated
    estate.drift_bucket(clients.s3, "encrypted-bucket")
    estate.remediate_bucket(clients.s3, "plain-bucket", kms_key_id="alias/aws/s3")
    # THEN the verdicts swap
    got = compliance(clients.config, S3)
    assert got["encrypted-bucket"] == "NON_COMPLIANT"
    assert got["plain-bucket"] == "COMPLIANT"


def test_rds_storage_encrypted(aws, clients, rules, compliance, results):
    encrypted = estate.create_db_instance(clients.rds, "ledger", encrypted=True)
    plain = estate.create_db_instance(clients.rds, "scratch", encrypted=False)
    assert encrypted != plain and encrypted.startswith("db-")
    assert compliance(clients.config, RDS) == {encrypted: "COMPLIANT", plain: "NON_COMPLIANT"}
    # the annotation names the instance, since the resource id is the opaque DbiResourceId
    _, result = results(clients.config, RDS)[plain]
    assert "scratch" in result["Annotation"]

    fixed = estate.remediate_db_instance(clients.rds, "scratch")
    drifted = estate.drift_db_instance(clients.rds, "ledger")
    # Each replacement is a new resource; the replaced instances are deleted: NOT_APPLICABLE.
    assert compliance(clients.config, RDS) == {
        fixed: "COMPLIANT",
        drifted: "NON_COMPLIANT",
        encrypted: "NOT_APPLICABLE",
        plain: "NOT_APPLICABLE",
    }
    assert estate.db_instance_resource_id(clients.rds, "ledger") == drifted


def test_ec2_imdsv2_check_and_terminated_instances(aws, clients, rules, compliance):
    strict = estate.create_instance(clients.ec2, imdsv2_required=True)
    loose = estate.create_instance(clients.ec2, imdsv2_required=False)
    assert compliance(clients.config, EC2) == {strict: "COMPLIANT", loose: "NON_COMPLIANT"}

    estate.drift_instance(clients.ec2, strict)
    estate.remediate_instance(clients.ec2, loose)
    assert compliance(clients.config, EC2) == {strict: "NON_COMPLIANT", loose: "COMPLIANT"}

    estate.terminate_instance(clients.ec2, strict)
    assert compliance(clients.config, EC2) == {strict: "NOT_APPLICABLE", loose: "COMPLIANT"}


def test_a_deleted_resource_becomes_not_applicable_or_is_removed(
    aws, clients, rules, compliance, results
):
    # AWS documents NOT_APPLICABLE for a deleted resource under a managed rule; users also see it
    # vanish from the results. Both, by control.
    assert aws.deleted_resources() == {"evaluation": "not-applicable"}
    aws.set_clock("2026-07-01T06:00:00Z")
    estate.create_bucket(clients.s3, "kept-bucket", encrypted=True)
    estate.create_bucket(clients.s3, "gone-bucket", encrypted=False)
    assert compliance(clients.config, S3)["gone-bucket"] == "NON_COMPLIANT"

    aws.set_clock("2026-07-02T06:00:00Z")
    clients.s3.delete_bucket(Bucket="gone-bucket")
    after = results(clients.config, S3)
    assert after["gone-bucket"][0] == "NOT_APPLICABLE"
    assert after["gone-bucket"][1]["ResultRecordedTime"].isoformat().startswith("2026-07-02T06")
    summary = clients.config.describe_compliance_by_config_rule(ConfigRuleNames=[S3])
    assert summary["ComplianceByConfigRules"][0]["Compliance"]["ComplianceType"] == "COMPLIANT"
    assert "gone-bucket" in compliance_of(clients.config, S3, "NOT_APPLICABLE")

    aws.set_deleted_resources("removed")
    assert "gone-bucket" not in compliance(clients.config, S3)
    assert compliance(clients.config, S3)["kept-bucket"] == "COMPLIANT"
    with pytest.raises(LocalAwsError, match="evaluation: must be one of not-applicable, removed"):
        aws.set_deleted_resources("kept")
    aws.reset()
    assert aws.deleted_resources() == {"evaluation": "not-applicable"}


def compliance_of(config, rule, kind):
    page = config.get_compliance_details_by_config_rule(
        ConfigRuleName=rule, ComplianceTypes=[kind], Limit=100
    )
    return {
        r["EvaluationResultIdentifier"]["EvaluationResultQualifier"]["ResourceId"]
        for r in page["EvaluationResults"]
    }


def test_result_time_moves_only_when_compliance_changes(aws, clients, rules, results):
    aws.set_clock("2026-07-01T06:00:00Z")
    estate.create_bucket(clients.s3, "steady-bucket", encrypted=False)
    estate.create_bucket(clients.s3, "changing-bucket", encrypted=False)
    first = results(clients.config, S3)
    aws.set_clock("2026-07-02T06:00:00Z")
    estate.remediate_bucket(clients.s3, "changing-bucket")
    second = results(clients.config, S3)

    steady_before = first["steady-bucket"][1]["ResultRecordedTime"]
    steady_after = second["steady-bucket"][1]["ResultRecordedTime"]
    assert steady_before == steady_after
    assert steady_after.isoformat().startswith("2026-07-01T06:00:00")
    changed = second["changing-bucket"][1]
    assert changed["ComplianceType"] == "COMPLIANT"
    assert changed["ResultRecordedTime"].isoformat().startswith("2026-07-02T06:00:00")
    assert (
        changed["EvaluationResultIdentifier"]["OrderingTimestamp"] == changed["ResultRecordedTime"]
    )


def test_recorder_off_freezes_findings(aws, clients, rules, compliance):
    estate.create_bucket(clients.s3, "watched-bucket", encrypted=True)
    assert compliance(clients.config, S3)["watched-bucket"] == "COMPLIANT"

    # WHEN the recorder is stopped, a change made afterwards is not evaluated, not even on demand
    estate.stop_recording(clients.config)
    estate.drift_bucket(clients.s3, "watched-bucket")
    estate.create_bucket(clients.s3, "unseen-bucket", encrypted=False)
    clients.config.start_config_rules_evaluation(ConfigRuleNames=[S3])
    frozen = compliance(clients.config, S3)
    assert frozen["watched-bucket"] == "COMPLIANT"
    assert "unseen-bucket" not in frozen

    # WHEN recording resumes, the changes are recorded and evaluated
    estate.resume_recording(clients.config)
    thawed = compliance(clients.config, S3)
    assert thawed["watched-bucket"] == "NON_COMPLIANT"
    assert thawed["unseen-bucket"] == "NON_COMPLIANT"


def test_changes_before_stop_are_recorded(aws, clients, rules, compliance):
    estate.create_bucket(clients.s3, "late-bucket", encrypted=False)
    estate.stop_recording(clients.config)  # no read happened in between
    assert compliance(clients.config, S3)["late-bucket"] == "NON_COMPLIANT"


def test_no_recorder_means_no_results(aws, clients, compliance):
    estate.put_managed_rules(clients.config, S3, RDS, EC2)
    estate.create_bucket(clients.s3, "unrecorded-bucket", encrypted=False)
    assert compliance(clients.config, S3) == {}
    got = clients.config.describe_compliance_by_config_rule(ConfigRuleNames=[S3])
    assert got["ComplianceByConfigRules"][0]["Compliance"]["ComplianceType"] == "INSUFFICIENT_DATA"


def test_other_managed_rules_are_stored_but_not_evaluated(aws, clients, rules, compliance):
    clients.config.put_config_rule(
        ConfigRule={
            "ConfigRuleName": "versioning",
            "Source": {"Owner": "AWS", "SourceIdentifier": "S3_BUCKET_VERSIONING_ENABLED"},
        }
    )
    assert compliance(clients.config, "versioning") == {}
    got = clients.config.describe_compliance_by_config_rule(ConfigRuleNames=["versioning"])
    assert got["ComplianceByConfigRules"][0]["Compliance"]["ComplianceType"] == "INSUFFICIENT_DATA"


def test_scope_limits_evaluation(aws, clients, rules, compliance):
    estate.create_bucket(clients.s3, "in-scope-bucket", encrypted=False)
    estate.create_bucket(clients.s3, "out-of-scope-bucket", encrypted=False)
    clients.config.put_config_rule(
        ConfigRule={
            "ConfigRuleName": "one-bucket",
            "Source": {
                "Owner": "AWS",
                "SourceIdentifier": "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED",
            },
            "Scope": {
                "ComplianceResourceTypes": ["AWS::S3::Bucket"],
                "ComplianceResourceId": "in-scope-bucket",
            },
        }
    )
    assert compliance(clients.config, "one-bucket") == {"in-scope-bucket": "NON_COMPLIANT"}


def test_recreated_rule_starts_afresh(aws, clients, rules, results):
    aws.set_clock("2026-07-01T00:00:00Z")
    estate.create_bucket(clients.s3, "some-bucket", encrypted=False)
    before = results(clients.config, S3)["some-bucket"][1]["ResultRecordedTime"]
    clients.config.delete_config_rule(ConfigRuleName=S3)
    aws.set_clock("2026-07-05T00:00:00Z")
    estate.put_managed_rules(clients.config, S3, RDS, EC2)
    after = results(clients.config, S3)["some-bucket"][1]["ResultRecordedTime"]
    assert after > before


def test_rds_rule_with_kms_key_parameter(aws, clients, rules, compliance):
    clients.config.put_config_rule(
        ConfigRule={
            "ConfigRuleName": "rds-cmk",
            "Source": {"Owner": "AWS", "SourceIdentifier": "RDS_STORAGE_ENCRYPTED"},
            "InputParameters": '{"kmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/cmk-1"}',
        }
    )
    with_cmk = clients.rds.create_db_instance(
        DBInstanceIdentifier="with-cmk",
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        MasterUsername="auditor",
        MasterUserPassword="not-a-real-password-1",  # noqa: S106
        AllocatedStorage=20,
        StorageEncrypted=True,
        KmsKeyId="cmk-1",
    )["DBInstance"]["DbiResourceId"]
    default_key = estate.create_db_instance(clients.rds, "default-key", encrypted=True)
    assert compliance(clients.config, "rds-cmk") == {
        with_cmk: "COMPLIANT",
        default_key: "NON_COMPLIANT",
    }
