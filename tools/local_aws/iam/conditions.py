"""The Condition element: operators, ``...IfExists``, ``ForAnyValue:`` / ``ForAllValues:`` and Null.

Rules, from the IAM User Guide (*IAM JSON policy elements: Condition operators* and *Conditions
with multiple context keys or values*):

* Several operators in one Condition, and several keys under one operator, must all hold (AND).
  Several values for one key: any may match (OR); for a negated operator none may (NOR).
* Condition key names are not case-sensitive; values are, except for the ``...IgnoreCase`` and
  ``Bool`` operators.
* "If the key that you specify in a policy condition is not present in the request context, the
  values do not match and the condition is false. If the policy condition requires that the key is
  not matched, such as StringNotLike or ArnNotLike, and the right key is not present, the condition
  is true." ``...IfExists`` is true when the key is absent; ``Null`` tests presence alone.
* ``ForAllValues:`` holds when every value in the request matches (so also when there is none);
  ``ForAnyValue:`` when at least one does.

An operator this module does not know is a ``PolicyError``, never an allow.
"""

from __future__ import annotations

import base64
import ipaddress
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from .globs import arn_like, string_like


class PolicyError(ValueError):
    """A policy document that IAM would reject, or that this evaluator cannot evaluate."""


Compare = Callable[[str, str], bool]


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _numeric(test: Callable[[float, float], bool]) -> Compare:
    def compare(have: str, want: str) -> bool:
        a, b = _number(have), _number(want)
        return a is not None and b is not None and test(a, b)

    return compare


def _instant(text: str) -> datetime | None:
    number = _number(text)
    if number is not None:
        return datetime.fromtimestamp(number, tz=timezone.utc)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _date(test: Callable[[datetime, datetime], bool]) -> Compare:
    def compare(have: str, want: str) -> bool:
        a, b = _instant(have), _instant(want)
        return a is not None and b is not None and test(a, b)

    return compare


def _ip(have: str, want: str) -> bool:
    try:
        return ipaddress.ip_address(have) in ipaddress.ip_network(want, strict=False)
    except ValueError:
        return False


def _binary(have: str, want: str) -> bool:
    try:
        return base64.b64decode(have, validate=True) == base64.b64decode(want, validate=True)
    except ValueError:
        return False


# Base operator -> (comparison of a request value with a policy value, negated).
# IAM User Guide, Condition operators: String, Numeric, Date, Boolean, Binary, IP address, ARN.
_OPERATORS: dict[str, tuple[Compare, bool]] = {
    "StringEquals": (lambda h, w: h == w, False),
    "StringNotEquals": (lambda h, w: h == w, True),
    "StringEqualsIgnoreCase": (lambda h, w: h.lower() == w.lower(), False),
    "StringNotEqualsIgnoreCase": (lambda h, w: h.lower() == w.lower(), True),
    "StringLike": (lambda h, w: string_like(w).matches(h), False),
    "StringNotLike": (lambda h, w: string_like(w).matches(h), True),
    "NumericEquals": (_numeric(lambda a, b: a == b), False),
    "NumericNotEquals": (_numeric(lambda a, b: a == b), True),
    "NumericLessThan": (_numeric(lambda a, b: a < b), False),
    "NumericLessThanEquals": (_numeric(lambda a, b: a <= b), False),
    "NumericGreaterThan": (_numeric(lambda a, b: a > b), False),
    "NumericGreaterThanEquals": (_numeric(lambda a, b: a >= b), False),
    "DateEquals": (_date(lambda a, b: a == b), False),
    "DateNotEquals": (_date(lambda a, b: a == b), True),
    "DateLessThan": (_date(lambda a, b: a < b), False),
    "DateLessThanEquals": (_date(lambda a, b: a <= b), False),
    "DateGreaterThan": (_date(lambda a, b: a > b), False),
    "DateGreaterThanEquals": (_date(lambda a, b: a >= b), False),
    "Bool": (lambda h, w: h.lower() == w.lower(), False),
    "BinaryEquals": (_binary, False),
    "IpAddress": (_ip, False),
    "NotIpAddress": (_ip, True),
    "ArnEquals": (lambda h, w: arn_like(w, h), False),
    "ArnLike": (lambda h, w: arn_like(w, h), False),
    "ArnNotEquals": (lambda h, w: arn_like(w, h), True),
    "ArnNotLike": (lambda h, w: arn_like(w, h), True),
}
_NUMERIC_POLICY_VALUES = {name for name in _OPERATORS if name.startswith("Numeric")}


def _policy_value(value: object, where: str) -> str:
    # JSON policy values may be strings, numbers or booleans; IAM compares their text.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    raise PolicyError(f"{where}: condition values must be strings, numbers or booleans")


@dataclass(frozen=True)
class Clause:
    """One operator applied to one key, e.g. ``ForAnyValue:StringLikeIfExists`` on ``aws:TagKeys``."""

    operator: str  # as written
    base: str  # e.g. "StringLike", or "Null"
    qualifier: str  # "", "ForAnyValue" or "ForAllValues"
    if_exists: bool
    key: str  # lower-case
    values: tuple[str, ...]

    def _wanted(self, context: Mapping[str, Sequence[str]]) -> list[tuple[str, frozenset[int]]]:
        """The policy values with their policy variables replaced (variables.py); a value whose
        variable has no value in the request matches nothing and is left out."""
        from . import variables

        out = []
        for value in self.values:
            if variables.has_variables(value):
                resolved = variables.substitute(value, context)
                if resolved is not None:
                    out.append(resolved)
            else:
                out.append((value, frozenset()))
        return out

    def holds(self, context: Mapping[str, Sequence[str]]) -> bool:
        present = self.key in context
        have = list(context.get(self.key, ()))
        if self.base == "Null":
            # "true": the key must be absent; "false": present (IAM User Guide, Null condition operator).
            return any((v.lower() == "true") == (not present) for v in self.values)
        if not present:
            if self.if_exists:
                return True
            if self.qualifier == "ForAllValues":
                return True
            if self.qualifier == "ForAnyValue":
                return False
            return _OPERATORS[self.base][1]  # negated operators hold when the key is absent
        compare, negated = _OPERATORS[self.base]
        wanted = self._wanted(context)
        like = self.base in ("StringLike", "StringNotLike")

        def one(value: str, want: str, literal: frozenset[int]) -> bool:
            if like and literal:
                return string_like(want, literal=literal).matches(value)
            return compare(value, want)

        def value_holds(value: str) -> bool:
            hit = any(one(value, want, literal) for want, literal in wanted)
            return not hit if negated else hit

        if self.qualifier == "ForAllValues":
            return all(value_holds(v) for v in have)
        if self.qualifier == "ForAnyValue":
            return any(value_holds(v) for v in have)
        if negated:
            return all(value_holds(v) for v in have)
        return any(value_holds(v) for v in have)


def parse_condition(block: object, where: str) -> tuple[Clause, ...]:
    """The clauses of a Condition element; a ``PolicyError`` for anything IAM would not accept."""
    if block is None:
        return ()
    if not isinstance(block, dict):
        raise PolicyError(f"{where}.Condition: must be an object of operators")
    clauses = []
    for operator, keys in block.items():
        qualifier, _, rest = operator.rpartition(":")
        if qualifier not in ("", "ForAnyValue", "ForAllValues"):
            raise PolicyError(
                f"{where}.Condition: unknown set operator {qualifier!r} in {operator!r}"
            )
        if_exists = rest.endswith("IfExists") and rest != "IfExists"
        base = rest[: -len("IfExists")] if if_exists else rest
        if base != "Null" and base not in _OPERATORS:
            raise PolicyError(f"{where}.Condition: unknown condition operator {operator!r}")
        if base == "Null" and (if_exists or qualifier):
            raise PolicyError(f"{where}.Condition: {operator!r}: Null takes no qualifier")
        if not isinstance(keys, dict) or not keys:
            raise PolicyError(f"{where}.Condition.{operator}: must map condition keys to values")
        for key, raw in keys.items():
            spot = f"{where}.Condition.{operator}.{key}"
            values = raw if isinstance(raw, list) else [raw]
            if not values:
                raise PolicyError(f"{spot}: needs at least one value")
            texts = tuple(_policy_value(v, spot) for v in values)
            for text in texts:
                if "${" in text:
                    from . import variables

                    variables.check(text, spot)
            if base in _NUMERIC_POLICY_VALUES and any(_number(t) is None for t in texts):
                raise PolicyError(f"{spot}: {base} needs numeric values")
            if base in ("Bool", "Null") and any(t.lower() not in ("true", "false") for t in texts):
                raise PolicyError(f"{spot}: {base} takes true or false")
            clauses.append(Clause(operator, base, qualifier, if_exists, key.lower(), texts))
    return tuple(clauses)


def known_operator_names() -> list[str]:
    return sorted([*_OPERATORS, "Null"])
