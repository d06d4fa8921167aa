"""Console deep links for an alert.

The AWS Config console shows a resource's configuration and compliance timeline at
``https://console.aws.amazon.com/config/home?region=<region>#/timeline/<resource type>/<resource id>``
with an optional ``?time=<ISO 8601>``: AWS Config itself puts that link in its notifications ("View the
Timeline for this Resource in the Console: https://console.aws.amazon.com/config/home?region=us-west-2#
/timeline/AWS::EC2::Instance/...?time=2016-10-06T16:46:16.261Z", AWS Config Developer Guide, "Example
Oversized Configuration Item Change Notification").
"""

from __future__ import annotations

from typing import Optional
from urllib.parse import quote

CONSOLE = "https://console.aws.amazon.com/config/home"


def resource_timeline(
    region: str, resource_type: str, resource_id: str, at: Optional[str] = None
) -> str:
    link = (
        f"{CONSOLE}?region={quote(region)}#/timeline/{resource_type}/{quote(resource_id, safe='')}"
    )
    return f"{link}?time={quote(at, safe=':.-')}" if at else link


def resource_timeline_pattern(region: str) -> str:
    """The same link with placeholders, for an e-mail that lists many resources."""
    return f"{CONSOLE}?region={quote(region)}#/timeline/<resource type>/<resource id>"
