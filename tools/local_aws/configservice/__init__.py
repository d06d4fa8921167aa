"""AWS Config compliance for the emulator: recording, three managed rules, the JSON 1.1 API."""

from .service import ConfigService, alert_message

__all__ = ["ConfigService", "alert_message"]
