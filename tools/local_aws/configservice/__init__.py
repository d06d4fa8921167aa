"""AWS Config compliance for the emulator: recording, three managed rules, the JSON 1.1 API
(``service.py``) and its test hooks (``control.py``)."""

from .control import ConfigControl
from .service import ConfigService

__all__ = ["ConfigControl", "ConfigService"]
