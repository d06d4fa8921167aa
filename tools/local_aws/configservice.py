"""Placeholder; replaced by the Config extension package."""
from .clock import ControlError


class ConfigService:
    def __init__(self, clock):
        self.clock = clock

    def handles(self, operation):
        return False

    def reset(self):
        pass

    def alert_target(self):
        return {}

    def _todo(self, body):
        raise ControlError("config: not available yet")

    set_alert_target = set_rule_failure = load_synthetic = set_recorder_failure = set_delivery_failure = _todo
