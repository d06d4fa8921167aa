"""Every IAM linter finding this stack accepts, with the requirement or fact that forces it.

The IAM linter (``tools/local_aws/iam/lint.py``, run by ``make validate``) checks every policy in
the synthesized template against the Service Authorization Reference: no action scoped to a
resource type it does not act on, no unknown action or condition key, no malformed statement. A
finding listed here is reported as acknowledged, with its reason, instead of failing validation.
Each entry names the template resource that holds the policy (its logical id), the finding id as
the linter prints it (``CODE[subject]``) and the reason. An entry that matches no finding fails
validation, so the list cannot outlive the policy it excuses; ``optional`` marks a resource that
exists only for some settings (the Config recorder role is absent with useExistingConfigRecorder).

The list is empty: no finding of today's policies is justified.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IamAck:
    logical_id: str
    finding: str  # e.g. "RESOURCE_MISMATCH[config:DescribeComplianceByConfigRule]"
    reason: str
    optional: bool = False


ACKS: tuple[IamAck, ...] = ()
