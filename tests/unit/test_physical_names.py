"""No physical name of one stack can equal a physical name of another stack (or of the same stack).

Every physical name is a template around the suffix: ``<before><suffix><after>``, such as
``compliance-report-requests-`` + suffix + ``.fifo``. Two stacks collide when some accepted suffix A in
one template gives the same string as some accepted suffix B in another template of the same namespace:
``compliance-report-requests-dlq-x.fifo`` is the requests queue of suffix ``dlq-x`` and the requests
dead-letter queue of suffix ``x``. A second stack would then fail to deploy (the name is taken) or, worse,
share the first stack's queue.

The check is exhaustive over the templates the app synthesizes: for every ordered pair of templates in a
namespace and every candidate suffix B, it derives the only suffix A that could give the same name and
asks ``StackSettings`` whether both are accepted. The candidates are every suffix of up to four characters
over ``a``, ``0`` and ``-``: the settings rules look at the characters allowed, the first and last
characters, reserved prefixes and the length, and a collision needs A = <extra text> + B (+ <extra text>),
so a short B exercises every rule that could tell an accepted A from a refused one.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from functools import cache
from typing import Iterator, NamedTuple

import pytest

from lib.settings import StackSettings, StackSettingsError
from tests.unit.synth import synth_template
from tests.unit.test_stack import NAMED, resolve

SENTINEL = "zq9name"  # a valid suffix that occurs nowhere else in the template
ACCOUNT = "123456789012"  # what resolve() renders AWS::AccountId as
OTHER_ACCOUNT = "210987654321"
# S3 bucket names are global: two stacks in different accounts share the namespace.
GLOBAL_TYPES = {"AWS::S3::Bucket"}

CANDIDATES = tuple(
    "".join(chars) for n in range(1, 5) for chars in itertools.product("a0-", repeat=n)
)


class NameTemplate(NamedTuple):
    resource_type: str
    logical_id: str
    before: str
    after: str

    def name(self, suffix: str, account: str = ACCOUNT) -> str:
        return f"{self.before}{suffix}{self.after}".replace(ACCOUNT, account)


@cache
def accepted(suffix: str) -> bool:
    try:
        StackSettings.from_mapping({"environmentSuffix": suffix})
    except StackSettingsError:
        return False
    return True


def name_templates(overrides: dict[str, str]) -> list[NameTemplate]:
    template = synth_template({"environmentSuffix": SENTINEL, **overrides})
    found = []
    for logical_id, resource in template.to_json()["Resources"].items():
        if resource["Type"] not in NAMED:
            continue
        prop, _ = NAMED[resource["Type"]]
        physical = resolve(resource["Properties"][prop])
        assert physical.count(SENTINEL) == 1, f"{logical_id}: {physical!r}"
        before, after = physical.split(SENTINEL)
        found.append(NameTemplate(resource["Type"], logical_id, before, after))
    return found


def collisions(templates: list[NameTemplate]) -> Iterator[str]:
    by_type: dict[str, list[NameTemplate]] = defaultdict(list)
    for t in templates:
        by_type[t.resource_type].append(t)
    for resource_type, group in by_type.items():
        accounts = [ACCOUNT, OTHER_ACCOUNT] if resource_type in GLOBAL_TYPES else [ACCOUNT]
        for first, second in itertools.product(group, repeat=2):
            for account, suffix_b in itertools.product(accounts, CANDIDATES):
                name = second.name(suffix_b, account)
                # The only suffix that could give `name` in the first template, in this account.
                if not (name.startswith(first.before) and name.endswith(first.after)):
                    continue
                suffix_a = name[len(first.before) : len(name) - len(first.after)]
                if first.name(suffix_a) != name:
                    continue  # the first template in ACCOUNT cannot produce it
                if (first, suffix_a) == (second, suffix_b):
                    continue  # the same resource of the same stack
                if accepted(suffix_a) and accepted(suffix_b):
                    yield (
                        f"{resource_type} {name!r}: {first.logical_id} of suffix {suffix_a!r} and "
                        f"{second.logical_id} of suffix {suffix_b!r}"
                        + (" in another account" if account != ACCOUNT else "")
                    )
                    break


# Every named resource appears in one of these: the e-mail subscription's dead-letter queue needs
# alertEmail, and the recorder, channel and delivery bucket and topic are absent with an existing recorder.
@pytest.mark.parametrize(
    "overrides", [{"alertEmail": "security@example.com"}, {"useExistingConfigRecorder": "true"}]
)
def test_no_physical_name_of_one_suffix_equals_a_name_of_another(overrides):
    templates = name_templates(overrides)
    assert {t.resource_type for t in templates} >= {"AWS::SQS::Queue", "AWS::S3::Bucket"}
    assert list(collisions(templates)) == []


def test_the_check_finds_the_dead_letter_queue_collision_when_the_rule_is_missing(monkeypatch):
    """Without the reserved prefix the check reports the queue pair (the check can fail)."""
    monkeypatch.setattr("lib.settings.RESERVED_SUFFIX_PREFIXES", ())
    accepted.cache_clear()
    try:
        queues = [
            NameTemplate("AWS::SQS::Queue", "Requests", "compliance-report-requests-", ".fifo"),
            NameTemplate(
                "AWS::SQS::Queue", "RequestsDlq", "compliance-report-requests-dlq-", ".fifo"
            ),
        ]
        assert list(collisions(queues)) == [
            "AWS::SQS::Queue 'compliance-report-requests-dlq-a.fifo': Requests of suffix 'dlq-a' "
            "and RequestsDlq of suffix 'a'"
        ]
    finally:
        accepted.cache_clear()


def test_buckets_of_different_accounts_never_collide():
    bucket = NameTemplate("AWS::S3::Bucket", "Reports", "compliance-reports-", f"-{ACCOUNT}")
    assert list(collisions([bucket])) == []
