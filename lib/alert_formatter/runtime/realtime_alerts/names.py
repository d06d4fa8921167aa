"""Human names of resources, from AWS Config's own recorded configuration: one call per 100 resources.

Compliance-change events carry the resource id only: an RDS DB instance appears by its DbiResourceId
(``db-...``), an EC2 instance by ``i-...``. ``BatchGetResourceConfig`` returns each resource's current
configuration item for up to 100 resource keys per call (AWS Config API Reference, BatchGetResourceConfig:
``resourceKeys`` 1-100), without a describe call to EC2 or RDS per resource:

* ``resourceName`` — "The custom name of the resource, if available" (API Reference,
  BaseConfigurationItem): the DB instance identifier of an ``AWS::RDS::DBInstance`` (whose
  ``resourceId`` is the DbiResourceId), the bucket name of an ``AWS::S3::Bucket`` (its id too);
  null for an ``AWS::EC2::Instance`` (the AWS Config Developer Guide's example configuration items
  show ``"resourceName": null`` for instances).
* ``configuration`` — the resource's description as JSON text; an EC2 instance's carries its tags as
  ``"tags": [{"key": "Name", "value": "bastion"}]``. BatchGetResourceConfig filters tags out of
  ``supplementaryConfiguration`` only ("The API does not return any tags for the requested resources.
  This information is filtered out of the supplementaryConfiguration section").

"The API does not return results for deleted resources": a deleted resource keeps its id in the alert.
Keys AWS Config did not process in one call (``unprocessedResourceKeys``) are asked for once more. A
failed lookup never stops an alert: the alert goes out with ids and says the names are missing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Tuple

from botocore.exceptions import BotoCoreError, ClientError

BATCH_LIMIT = 100  # BatchGetResourceConfig resourceKeys: 1-100

Key = Tuple[str, str]  # (resource type, resource id)


@dataclass
class Names:
    by_key: Dict[Key, str] = field(default_factory=dict)
    calls: int = 0
    error: Optional[str] = None  # one line when a lookup failed

    def of(self, resource_type: str, resource_id: str) -> Optional[str]:
        return self.by_key.get((resource_type, resource_id))


def name_from_item(item: Any) -> Optional[str]:
    """The Name tag in the recorded configuration, else ``resourceName`` when it differs from the id."""
    if not isinstance(item, dict):
        return None
    configuration = item.get("configuration")
    if isinstance(configuration, str):
        try:
            configuration = json.loads(configuration)
        except ValueError:
            configuration = None
    if isinstance(configuration, dict):
        for tag in configuration.get("tags") or []:
            if isinstance(tag, dict) and tag.get("key") == "Name" and tag.get("value"):
                return str(tag["value"])
    name = item.get("resourceName")
    if isinstance(name, str) and name and name != item.get("resourceId"):
        return name
    return None


def look_up(config: Any, keys: Iterable[Key]) -> Names:
    """Names of ``keys`` (duplicates asked once), ``BATCH_LIMIT`` keys per call."""
    pending: List[Key] = list(dict.fromkeys(keys))
    names = Names()
    retried: set[Key] = set()
    while pending:
        chunk, pending = pending[:BATCH_LIMIT], pending[BATCH_LIMIT:]
        try:
            answer = config.batch_get_resource_config(
                resourceKeys=[{"resourceType": t, "resourceId": i} for t, i in chunk]
            )
        except (ClientError, BotoCoreError) as e:
            names.error = f"BatchGetResourceConfig failed: {e}"
            return names
        names.calls += 1
        for item in answer.get("baseConfigurationItems", []):
            name = name_from_item(item)
            if name:
                names.by_key[(str(item.get("resourceType")), str(item.get("resourceId")))] = name
        for key in answer.get("unprocessedResourceKeys", []):
            again = (str(key.get("resourceType")), str(key.get("resourceId")))
            if again not in retried:
                retried.add(again)
                pending.append(again)
    return names
