"""GIVEN AWS Config recorder and delivery-channel statuses spelled as the API model defines them
(RecorderStatus Pending | Success | Failure | NotApplicable; DeliveryStatus Success | Failure |
Not_Applicable) or as AWS's own CLI examples print them ("SUCCESS", "FAILURE") WHEN the real handler
reports THEN a failing recorder or channel never reads as healthy, in either spelling, and the report keeps
the status as evidence.

"""

import pytest

CASINGS = ["model", "upper"]


def run(estate, emulator, handler_module, context_factory, make_scheduled_event, verify_trail):
    result = handler_module.handler(make_scheduled_event(), context_factory())
    (report,) = verify_trail(estate)
    assert result["outcome"] == "stored"
    return result, report


@pytest.mark.parametrize("casing", CASINGS)
def test_a_failing_recorder_never_reads_as_healthy(
    estate, emulator, handler_module, context_factory, make_scheduled_event, verify_trail, casing
):
    emulator.set_status_casing(casing)
    emulator.set_recorder_failure(estate.RECORDER, "AccessDenied", "Insufficient delivery policy")

    result, report = run(
        estate, emulator, handler_module, context_factory, make_scheduled_event, verify_trail
    )

    problems = {(p["code"], p["subject"]) for p in report["monitoring"]["problems"]}
    assert ("RECORDER_FAILURE", estate.RECORDER) in problems
    assert report["monitoring"]["healthy"] is False and result["monitoringHealthy"] is False
    (recorder,) = report["monitoring"]["recorders"]
    assert recorder["lastStatus"] == "FAILURE" and recorder["lastErrorCode"] == "AccessDenied"
    (alert,) = estate.alerts()
    assert alert["MessageAttributes"]["monitoringHealthy"]["Value"] == "false"


@pytest.mark.parametrize("casing", CASINGS)
def test_a_failing_delivery_channel_never_reads_as_healthy(
    estate, emulator, handler_module, context_factory, make_scheduled_event, verify_trail, casing
):
    channel = estate.deployment.delivery_channel["name"]
    emulator.set_status_casing(casing)
    emulator.set_delivery_failure(channel, "NoSuchBucket", "The bucket does not exist")

    result, report = run(
        estate, emulator, handler_module, context_factory, make_scheduled_event, verify_trail
    )

    problems = {(p["code"], p["subject"]) for p in report["monitoring"]["problems"]}
    assert ("DELIVERY_FAILURE", channel) in problems
    assert report["monitoring"]["healthy"] is False and result["monitoringHealthy"] is False
    (record,) = report["monitoring"]["deliveryChannels"]
    assert record["configHistoryLastStatus"] == "Failure"
    assert record["lastErrorCode"] == "NoSuchBucket"


@pytest.mark.parametrize("casing", CASINGS)
def test_a_healthy_recorder_and_channel_are_recorded_as_evidence(
    estate, emulator, handler_module, context_factory, make_scheduled_event, verify_trail, casing
):
    emulator.set_status_casing(casing)

    _, report = run(
        estate, emulator, handler_module, context_factory, make_scheduled_event, verify_trail
    )

    assert report["monitoring"]["healthy"] is True
    (recorder,) = report["monitoring"]["recorders"]
    assert recorder["recording"] is True and recorder["lastStatus"] == "SUCCESS"
    (channel,) = report["monitoring"]["deliveryChannels"]
    assert channel["configHistoryLastStatus"] == "Success"
    assert channel["configStreamLastStatus"] == "Success"  # the stack's channel has a topic
