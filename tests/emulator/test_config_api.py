"""Shapes, limits, pagination and errors of the Config operations the extension answers."""

from __future__ import annotations

import datetime
import threading

import pytest
from botocore.exceptions import ClientError

from tools.local_aws import estate
from tools.local_aws.client import LocalAwsError

S3, RDS, EC2 = "s3-encryption-dev", "rds-encryption-dev", "ec2-imdsv2-dev"


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def test_get_compliance_details_shape(aws, clients, rules):
    aws.set_clock("2026-07-01T06:00:00Z")
    estate.create_bucket(clients.s3, "plain-bucket", encrypted=False)
    page = clients.config.get_compliance_details_by_config_rule(
        ConfigRuleName=S3, ComplianceTypes=["NON_COMPLIANT"]
    )
    assert "NextToken" not in page
    [result] = page["EvaluationResults"]
    when = datetime.datetime(2026, 7, 1, 6, 0, tzinfo=datetime.timezone.utc)
    assert result["EvaluationResultIdentifier"]["EvaluationResultQualifier"] == {
        "ConfigRuleName": S3,
        "ResourceType": "AWS::S3::Bucket",
        "ResourceId": "plain-bucket",
        "EvaluationMode": "DETECTIVE",
    }
    assert result["EvaluationResultIdentifier"]["OrderingTimestamp"] == when
    assert result["ComplianceType"] == "NON_COMPLIANT"
    assert result["ResultRecordedTime"] == when
    assert result["ConfigRuleInvokedTime"] == when
    assert result["Annotation"]


def test_synthetic_results_can_carry_long_resource_ids(aws, clients, rules):
    prefix = "archive-" + "x" * 754  # 762 characters: ids of the API's maximum, 768
    aws.load_synthetic(S3, "AWS::S3::Bucket", non_compliant=2, id_prefix=prefix)
    found = clients.config.get_compliance_details_by_config_rule(
        ConfigRuleName=S3, ComplianceTypes=["NON_COMPLIANT"]
    )["EvaluationResults"]
    ids = sorted(
        r["EvaluationResultIdentifier"]["EvaluationResultQualifier"]["ResourceId"] for r in found
    )
    assert ids == [f"{prefix}000000", f"{prefix}000001"] and len(ids[0]) == 768
    with pytest.raises(LocalAwsError, match="idPrefix: must be null or 1-762 characters"):
        aws.load_synthetic(S3, "AWS::S3::Bucket", non_compliant=1, id_prefix=prefix + "y")


def test_compliance_type_filters(aws, clients, rules):
    aws.load_synthetic(S3, "AWS::S3::Bucket", non_compliant=3, compliant=2, not_applicable=4)
    config = clients.config

    def count(types):
        kwargs = {"ConfigRuleName": S3, "Limit": 100}
        if types:
            kwargs["ComplianceTypes"] = types
        return len(config.get_compliance_details_by_config_rule(**kwargs)["EvaluationResults"])

    # the delivery bucket is a real, compliant bucket
    assert count(["NON_COMPLIANT"]) == 3
    assert count(["COMPLIANT"]) == 3
    assert count(["NOT_APPLICABLE"]) == 4
    assert count(["COMPLIANT", "NOT_APPLICABLE"]) == 7
    assert count(None) == 10
    with pytest.raises(ClientError) as e:
        config.get_compliance_details_by_config_rule(
            ConfigRuleName=S3, ComplianceTypes=["INSUFFICIENT_DATA"]
        )
    assert error_code(e) == "InvalidParameterValueException"


def test_pagination_default_limit_and_max(aws, clients, rules):
    aws.load_synthetic(S3, "AWS::S3::Bucket", non_compliant=250)
    config = clients.config
    first = config.get_compliance_details_by_config_rule(
        ConfigRuleName=S3, ComplianceTypes=["NON_COMPLIANT"]
    )
    assert len(first["EvaluationResults"]) == 10  # AWS default page size
    seen = []
    kwargs = {"ConfigRuleName": S3, "ComplianceTypes": ["NON_COMPLIANT"], "Limit": 100}
    pages = 0
    while True:
        page = config.get_compliance_details_by_config_rule(**kwargs)
        pages += 1
        seen += [
            r["EvaluationResultIdentifier"]["EvaluationResultQualifier"]["ResourceId"]
            for r in page["EvaluationResults"]
        ]
        if "NextToken" not in page:
            break
        kwargs["NextToken"] = page["NextToken"]
    assert pages == 3
    assert len(seen) == 250 == len(set(seen))
    assert seen == sorted(seen)

    with pytest.raises(ClientError) as e:
        config.get_compliance_details_by_config_rule(ConfigRuleName=S3, Limit=101)
    assert error_code(e) == "InvalidParameterValueException"


def test_botocore_paginator_works(aws, clients, rules):
    aws.load_synthetic(EC2, "AWS::EC2::Instance", non_compliant=120)
    paginator = clients.config.get_paginator("get_compliance_details_by_config_rule")
    pages = list(paginator.paginate(ConfigRuleName=EC2, PaginationConfig={"PageSize": 50}))
    assert [len(p["EvaluationResults"]) for p in pages] == [50, 50, 20]


def test_invalid_and_foreign_next_tokens(aws, clients, rules):
    aws.load_synthetic(S3, "AWS::S3::Bucket", non_compliant=30)
    config = clients.config
    token = config.get_compliance_details_by_config_rule(ConfigRuleName=S3, Limit=5)["NextToken"]
    with pytest.raises(ClientError) as e:
        config.get_compliance_details_by_config_rule(ConfigRuleName=S3, NextToken="not-a-token")
    assert error_code(e) == "InvalidNextTokenException"
    with pytest.raises(ClientError) as e:  # a token from another rule's listing
        config.get_compliance_details_by_config_rule(ConfigRuleName=RDS, NextToken=token)
    assert error_code(e) == "InvalidNextTokenException"


def test_pagination_is_stable_under_concurrent_readers(aws, clients, rules):
    aws.load_synthetic(S3, "AWS::S3::Bucket", non_compliant=600)
    collected: list[list[str]] = []
    errors: list[BaseException] = []

    def read_all():
        try:
            ids = []
            kwargs = {"ConfigRuleName": S3, "ComplianceTypes": ["NON_COMPLIANT"], "Limit": 100}
            while True:
                page = clients.config.get_compliance_details_by_config_rule(**kwargs)
                ids += [
                    r["EvaluationResultIdentifier"]["EvaluationResultQualifier"]["ResourceId"]
                    for r in page["EvaluationResults"]
                ]
                if "NextToken" not in page:
                    break
                kwargs["NextToken"] = page["NextToken"]
            collected.append(ids)
        except BaseException as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=read_all) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(collected) == 6
    for ids in collected:
        assert len(ids) == 600 == len(set(ids))


def test_no_such_rule(aws, clients, rules):
    config = clients.config
    for call in (
        lambda: config.get_compliance_details_by_config_rule(ConfigRuleName="missing"),
        lambda: config.describe_compliance_by_config_rule(ConfigRuleNames=[S3, "missing"]),
        lambda: config.describe_config_rule_evaluation_status(ConfigRuleNames=["missing"]),
        lambda: config.start_config_rules_evaluation(ConfigRuleNames=["missing"]),
    ):
        with pytest.raises(config.exceptions.NoSuchConfigRuleException):
            call()


def test_describe_compliance_by_config_rule(aws, clients, rules):
    aws.load_synthetic(S3, "AWS::S3::Bucket", non_compliant=150)
    estate.create_instance(clients.ec2, imdsv2_required=True)
    got = clients.config.describe_compliance_by_config_rule(ConfigRuleNames=[S3, RDS, EC2])
    assert "NextToken" not in got
    by_rule = {c["ConfigRuleName"]: c["Compliance"] for c in got["ComplianceByConfigRules"]}
    assert by_rule[S3] == {
        "ComplianceType": "NON_COMPLIANT",
        "ComplianceContributorCount": {"CappedCount": 100, "CapExceeded": True},
    }
    assert by_rule[EC2] == {"ComplianceType": "COMPLIANT"}
    assert by_rule[RDS] == {"ComplianceType": "INSUFFICIENT_DATA"}

    only = clients.config.describe_compliance_by_config_rule(ComplianceTypes=["COMPLIANT"])
    assert [c["ConfigRuleName"] for c in only["ComplianceByConfigRules"]] == [EC2]
    with pytest.raises(ClientError) as e:
        clients.config.describe_compliance_by_config_rule(ComplianceTypes=["NOT_APPLICABLE"])
    assert error_code(e) == "InvalidParameterValueException"
    with pytest.raises(ClientError) as e:
        clients.config.describe_compliance_by_config_rule(
            ConfigRuleNames=[f"r{i}" for i in range(26)]
        )
    assert error_code(e) == "InvalidParameterValueException"


def test_describe_compliance_paginates_many_rules(aws, clients, rules):
    for i in range(30):
        clients.config.put_config_rule(
            ConfigRule={
                "ConfigRuleName": f"extra-{i:02d}",
                "Source": {"Owner": "AWS", "SourceIdentifier": "EC2_IMDSV2_CHECK"},
            }
        )
    paginator = clients.config.get_paginator("describe_compliance_by_config_rule")
    names = [
        c["ConfigRuleName"] for p in paginator.paginate() for c in p["ComplianceByConfigRules"]
    ]
    assert len(names) == 33 == len(set(names))


def test_evaluation_status_and_injected_rule_failure(aws, clients, rules):
    aws.set_clock("2026-07-01T06:00:00Z")
    [status] = clients.config.describe_config_rule_evaluation_status(ConfigRuleNames=[RDS])[
        "ConfigRulesEvaluationStatus"
    ]
    t0 = datetime.datetime(2026, 7, 1, 6, 0, tzinfo=datetime.timezone.utc)
    assert status["ConfigRuleName"] == RDS
    assert status["ConfigRuleArn"].startswith("arn:aws:config:us-east-1:123456789012:config-rule/")
    assert status["FirstEvaluationStarted"] is True
    assert status["LastSuccessfulEvaluationTime"] == t0
    assert "LastFailedEvaluationTime" not in status

    aws.set_clock("2026-07-02T06:00:00Z")
    aws.set_rule_failure(RDS, "InternalException", "Evaluation could not read the resource.")
    estate.create_db_instance(clients.rds, "new-db", encrypted=False)
    [status] = clients.config.describe_config_rule_evaluation_status(ConfigRuleNames=[RDS])[
        "ConfigRulesEvaluationStatus"
    ]
    t1 = datetime.datetime(2026, 7, 2, 6, 0, tzinfo=datetime.timezone.utc)
    assert status["LastFailedEvaluationTime"] == t1
    assert status["LastSuccessfulEvaluationTime"] == t0
    assert status["LastErrorCode"] == "InternalException"
    assert status["LastErrorMessage"] == "Evaluation could not read the resource."
    # a failing rule keeps its previous results: the new instance is not evaluated
    assert (
        clients.config.get_compliance_details_by_config_rule(ConfigRuleName=RDS)[
            "EvaluationResults"
        ]
        == []
    )

    aws.set_clock("2026-07-03T06:00:00Z")
    aws.set_rule_failure(RDS, None)
    [status] = clients.config.describe_config_rule_evaluation_status(ConfigRuleNames=[RDS])[
        "ConfigRulesEvaluationStatus"
    ]
    assert status["LastSuccessfulEvaluationTime"] == datetime.datetime(
        2026, 7, 3, 6, 0, tzinfo=datetime.timezone.utc
    )
    assert (
        len(
            clients.config.get_compliance_details_by_config_rule(ConfigRuleName=RDS)[
                "EvaluationResults"
            ]
        )
        == 1
    )


def test_evaluation_status_limit(aws, clients, rules):
    page = clients.config.describe_config_rule_evaluation_status(Limit=2)
    assert len(page["ConfigRulesEvaluationStatus"]) == 2 and "NextToken" in page
    rest = clients.config.describe_config_rule_evaluation_status(
        Limit=2, NextToken=page["NextToken"]
    )
    assert len(rest["ConfigRulesEvaluationStatus"]) == 1 and "NextToken" not in rest
    with pytest.raises(ClientError) as e:
        clients.config.describe_config_rule_evaluation_status(Limit=51)
    assert error_code(e) == "InvalidParameterValueException"


def test_start_config_rules_evaluation(aws, clients, rules):
    aws.set_clock("2026-07-01T06:00:00Z")
    clients.config.describe_config_rule_evaluation_status(ConfigRuleNames=[S3])
    aws.set_clock("2026-07-01T07:00:00Z")
    response = clients.config.start_config_rules_evaluation(ConfigRuleNames=[S3])
    assert set(response) == {"ResponseMetadata"}  # the operation returns {}
    [status] = clients.config.describe_config_rule_evaluation_status(ConfigRuleNames=[S3])[
        "ConfigRulesEvaluationStatus"
    ]
    assert status["LastSuccessfulEvaluationTime"] == datetime.datetime(
        2026, 7, 1, 7, 0, tzinfo=datetime.timezone.utc
    )
    with pytest.raises(ClientError) as e:
        clients.config.start_config_rules_evaluation(ConfigRuleNames=[S3] * 26)
    assert error_code(e) == "InvalidParameterValueException"


def test_recorder_status_follows_the_clock(aws, clients, rules):
    aws.set_clock("2026-07-01T06:00:00Z")
    estate.stop_recording(clients.config)
    [status] = clients.config.describe_configuration_recorder_status()[
        "ConfigurationRecordersStatus"
    ]
    assert status["name"] == "default"
    assert status["recording"] is False
    assert status["lastStopTime"] == datetime.datetime(
        2026, 7, 1, 6, 0, tzinfo=datetime.timezone.utc
    )
    assert status["lastStatus"] == "Success"

    aws.set_clock("2026-07-01T07:00:00Z")
    estate.resume_recording(clients.config)
    [status] = clients.config.describe_configuration_recorder_status(
        ConfigurationRecorderNames=["default"]
    )["ConfigurationRecordersStatus"]
    assert status["recording"] is True
    assert status["lastStartTime"] == datetime.datetime(
        2026, 7, 1, 7, 0, tzinfo=datetime.timezone.utc
    )

    aws.set_recorder_failure("default", "AccessDenied")
    [status] = clients.config.describe_configuration_recorder_status()[
        "ConfigurationRecordersStatus"
    ]
    assert status["lastStatus"] == "Failure" and status["lastErrorCode"] == "AccessDenied"
    with pytest.raises(clients.config.exceptions.NoSuchConfigurationRecorderException):
        clients.config.describe_configuration_recorder_status(ConfigurationRecorderNames=["nope"])


def test_delivery_channel_status(aws, clients, rules):
    [status] = clients.config.describe_delivery_channel_status()["DeliveryChannelsStatus"]
    assert status["name"] == "default"
    assert status["configHistoryDeliveryInfo"]["lastStatus"] == "Success"
    assert status["configSnapshotDeliveryInfo"]["lastStatus"] == "Success"
    assert status["configStreamDeliveryInfo"]["lastStatus"] == "Not_Applicable"

    aws.set_delivery_failure("default", "NoSuchBucket")
    [status] = clients.config.describe_delivery_channel_status(DeliveryChannelNames=["default"])[
        "DeliveryChannelsStatus"
    ]
    assert status["configHistoryDeliveryInfo"]["lastStatus"] == "Failure"
    assert status["configHistoryDeliveryInfo"]["lastErrorCode"] == "NoSuchBucket"
    with pytest.raises(clients.config.exceptions.NoSuchDeliveryChannelException):
        clients.config.describe_delivery_channel_status(DeliveryChannelNames=["nope"])


@pytest.mark.parametrize("pending", ["not-started", "started"])
def test_a_rule_whose_first_evaluation_has_not_finished(aws, clients, rules, pending):
    estate.create_bucket(clients.s3, "plain-bucket", encrypted=False)
    aws.set_clock("2026-07-01T06:00:00Z")
    assert aws.set_rule_evaluation_pending(S3, pending) == {"ruleName": S3, "pending": pending}
    config = clients.config

    config.start_config_rules_evaluation(ConfigRuleNames=[S3])  # does not finish it either
    [status] = config.describe_config_rule_evaluation_status(ConfigRuleNames=[S3])[
        "ConfigRulesEvaluationStatus"
    ]
    [compliance] = config.describe_compliance_by_config_rule(ConfigRuleNames=[S3])[
        "ComplianceByConfigRules"
    ]
    details = config.get_compliance_details_by_config_rule(ConfigRuleName=S3)

    assert status["FirstEvaluationStarted"] is (pending == "started")
    assert "LastSuccessfulEvaluationTime" not in status
    assert "LastFailedEvaluationTime" not in status and "FirstActivatedTime" in status
    assert ("LastSuccessfulInvocationTime" in status) is (pending == "started")
    assert compliance["Compliance"]["ComplianceType"] == "INSUFFICIENT_DATA"
    assert details["EvaluationResults"] == []

    aws.set_rule_evaluation_pending(S3, None)
    [status] = config.describe_config_rule_evaluation_status(ConfigRuleNames=[S3])[
        "ConfigRulesEvaluationStatus"
    ]
    assert status["FirstEvaluationStarted"] is True and "LastSuccessfulEvaluationTime" in status
    found = config.get_compliance_details_by_config_rule(ConfigRuleName=S3)["EvaluationResults"]
    assert "plain-bucket" in {
        r["EvaluationResultIdentifier"]["EvaluationResultQualifier"]["ResourceId"] for r in found
    }
    with pytest.raises(LocalAwsError, match="pending: required, one of not-started, started"):
        aws.set_rule_evaluation_pending(S3, "later")


def _model_enum(shape):
    import botocore.session

    return botocore.session.get_session().get_service_model("config").shape_for(shape).enum


@pytest.mark.parametrize("casing", ["model", "upper"])
def test_status_values_are_the_models_or_the_cli_examples_upper_case(aws, clients, rules, casing):
    # botocore's model: RecorderStatus Pending|Success|Failure|NotApplicable, DeliveryStatus
    # Success|Failure|Not_Applicable; the AWS CLI's examples print "SUCCESS".
    recorder_enum, delivery_enum = _model_enum("RecorderStatus"), _model_enum("DeliveryStatus")
    allowed = {
        "model": (set(recorder_enum), set(delivery_enum)),
        "upper": (
            {"PENDING", "SUCCESS", "FAILURE", "NOT_APPLICABLE"},
            {"SUCCESS", "FAILURE", "NOT_APPLICABLE"},
        ),
    }[casing]
    assert aws.set_status_casing(casing) == {"casing": casing}

    def statuses():
        config = clients.config
        [recorder] = config.describe_configuration_recorder_status()["ConfigurationRecordersStatus"]
        [channel] = config.describe_delivery_channel_status()["DeliveryChannelsStatus"]
        infos = [channel[k] for k in channel if k.endswith("DeliveryInfo")]
        return recorder["lastStatus"], [i["lastStatus"] for i in infos]

    healthy_recorder, healthy_channel = statuses()
    aws.set_recorder_failure("default", "AccessDenied")
    aws.set_delivery_failure("default", "NoSuchBucket")
    failing_recorder, failing_channel = statuses()

    assert {healthy_recorder, failing_recorder} <= allowed[0]
    assert set(healthy_channel + failing_channel) <= allowed[1]
    success, failure = ("Success", "Failure") if casing == "model" else ("SUCCESS", "FAILURE")
    assert (healthy_recorder, failing_recorder) == (success, failure)
    assert success in healthy_channel and failure in failing_channel


def test_status_casing_is_validated_and_reset(aws):
    with pytest.raises(LocalAwsError, match="casing: must be one of model, upper"):
        aws.set_status_casing("lower")
    aws.set_status_casing("upper")
    aws.reset()
    assert aws.status_casing() == {"casing": "model"}


def test_moto_rule_crud_passes_through(aws, clients, rules):
    described = clients.config.describe_config_rules(ConfigRuleNames=[S3])["ConfigRules"][0]
    assert described["Source"]["SourceIdentifier"] == "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED"
    assert described["Scope"]["ComplianceResourceTypes"] == ["AWS::S3::Bucket"]
    clients.config.delete_config_rule(ConfigRuleName=S3)
    with pytest.raises(clients.config.exceptions.NoSuchConfigRuleException):
        clients.config.get_compliance_details_by_config_rule(ConfigRuleName=S3)


def test_benchmark_population_loads(aws, clients, rules):
    population = ((S3, 6000, "AWS::S3::Bucket"), (RDS, 3000, "AWS::RDS::DBInstance"))
    population += ((EC2, 1000, "AWS::EC2::Instance"),)
    for rule, count, kind in population:
        assert aws.load_synthetic(rule, kind, non_compliant=count)["loaded"] == count
    got = clients.config.describe_compliance_by_config_rule(ConfigRuleNames=[S3, RDS, EC2])
    for entry in got["ComplianceByConfigRules"]:
        assert entry["Compliance"]["ComplianceContributorCount"] == {
            "CappedCount": 100,
            "CapExceeded": True,
        }
    # every page of the smallest rule (the paging itself is covered above)
    paginator = clients.config.get_paginator("get_compliance_details_by_config_rule")
    pages = paginator.paginate(
        ConfigRuleName=EC2,
        ComplianceTypes=["NON_COMPLIANT"],
        PaginationConfig={"PageSize": 100},
    )
    assert sum(len(page["EvaluationResults"]) for page in pages) == 1000
