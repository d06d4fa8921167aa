"""The head of the trail, published where a principal able to rewrite the bucket cannot silently rewrite it.

A *witness* is one line, ``witness: <sequence> <key> <sha256>``: the newest report's sequence, object key
and the SHA-256 of its stored bytes (docs/report-format.md, "Witnesses"). The auditor holds the trail
to any witness (``auditor verify --witness FILE``). Every run that stores a report publishes the new
head three ways:

* in its alert, as that line in the message and as the SNS message attributes ``headSequence``
  (Number), ``headKey`` and ``headSha256`` (String), so the security team's mailbox and any SIEM
  subscribed to the topic keep a copy outside the account;
* as the value of an SSM Parameter Store String parameter (``WITNESS_PARAMETER``). Every PutParameter
  is a new parameter version, and Parameter Store keeps the 100 most recent versions (AWS Systems
  Manager API Reference, ``ParameterMaxVersionLimitExceeded``: "Parameter Store retains the 100 most
  recently created versions of a parameter"); every change or deletion of the parameter is a management
  event in CloudTrail's Event history, which keeps 90 days and which no one can edit or delete (AWS
  CloudTrail User Guide, "Working with CloudTrail Event history"). The value is the witness line, so
  ``aws ssm get-parameter-history --query 'Parameters[].[Value]' --output text`` is a witness file;
* in the run's log line (``sequence``, ``reportKey``, ``sha256``): CloudWatch Logs has no API that
  changes a stored log event.

The writer also reads the parameter back before it extends the trail: a witness beyond the newest report
in the bucket means reports were deleted, and the writer then refuses to write (chain.py).
"""

from __future__ import annotations

from typing import Any, Optional

from botocore.exceptions import BotoCoreError, ClientError

from .chain_records import Link
from .environment import WITNESS_NO_REPORT_YET

PREFIX = "witness: "
NO_REPORT_YET = WITNESS_NO_REPORT_YET  # the parameter's value before the first report


def line(link: Link) -> str:
    return f"{PREFIX}{link.sequence} {link.key} {link.sha256}"


def parse(text: str) -> Optional[Link]:
    """The link a witness line names; None for the comment of a parameter with no report yet.
    ValueError (naming the rule) for anything else."""
    text = text.strip()
    if not text or text.startswith("#"):
        return None
    if text.startswith(PREFIX):
        text = text[len(PREFIX) :]
    parts = text.split()
    if len(parts) != 3 or not parts[0].isdigit():
        raise ValueError(f"{text[:200]!r} is not '<sequence> <key> <sha256>'")
    return Link.from_json({"sequence": int(parts[0]), "key": parts[1], "sha256": parts[2]})


def attributes(link: Link) -> dict[str, dict[str, str]]:
    """The SNS message attributes of the head (the auditor reads SNS envelopes with them)."""
    return {
        "headSequence": {"DataType": "Number", "StringValue": str(link.sequence)},
        "headKey": {"DataType": "String", "StringValue": link.key},
        "headSha256": {"DataType": "String", "StringValue": link.sha256},
    }


class WitnessParameter:
    """The SSM parameter holding the newest head. ``read`` and ``publish`` never raise for AWS errors:
    the witness is evidence beside the trail, and a run that stored its report must not fail because
    Parameter Store did not answer; each returns what happened, for the run's log line."""

    def __init__(self, ssm: Any, name: str) -> None:
        self.ssm = ssm
        self.name = name

    def read(self) -> tuple[Optional[Link], Optional[str]]:
        """(the witnessed head or None, a note when it could not be read)."""
        try:
            answer = self.ssm.get_parameter(Name=self.name)
        except ClientError as e:
            code = str(e.response.get("Error", {}).get("Code", ""))
            if code == "ParameterNotFound":
                return None, f"witness parameter {self.name} does not exist"
            return None, f"witness parameter {self.name} unreadable ({code or e})"
        except BotoCoreError as e:
            return None, f"witness parameter {self.name} unreadable ({type(e).__name__})"
        value = str(answer.get("Parameter", {}).get("Value", ""))
        try:
            return parse(value), None
        except ValueError as e:
            return None, f"witness parameter {self.name} holds no witness ({e})"

    def publish(self, link: Link) -> Optional[str]:
        """Write the head as a new parameter version; a note when that failed."""
        try:
            self.ssm.put_parameter(
                Name=self.name, Value=line(link), Type="String", Overwrite=True, Tier="Standard"
            )
        except (ClientError, BotoCoreError) as e:
            detail = e.response.get("Error", {}).get("Code") if isinstance(e, ClientError) else None
            return f"witness parameter {self.name} not updated ({detail or type(e).__name__})"
        return None
