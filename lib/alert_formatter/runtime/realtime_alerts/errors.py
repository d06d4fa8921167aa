"""Typed exceptions of the alert formatter. Each message is one line naming the input and the rule broken."""


class AlertFormatterError(Exception):
    """Base class: anything the formatter raises on purpose."""


class SettingsError(AlertFormatterError):
    """An environment variable set by the stack is missing or malformed."""


class PublishFailed(AlertFormatterError):
    """SNS did not accept an alert after the client's retries; its records go back to the queue."""
