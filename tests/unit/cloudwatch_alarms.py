"""A model of how CloudWatch evaluates a metric alarm, to run synthesized alarms over metric timelines.

It takes an ``AWS::CloudWatch::Alarm``'s properties as synthesized (metric or metric math, statistic,
period, evaluation periods, datapoints to alarm, threshold, comparison, missing-data treatment, actions)
and replays a timeline of metric samples through it, minute by minute. The rules are CloudWatch's, as its
documents state them:

* Every evaluation looks at the periods ending at that moment; ``Period`` is the length of each datapoint,
  ``EvaluationPeriods`` (N) how many of the most recent ones decide, ``DatapointsToAlarm`` (M, default N)
  how many of those must breach (CloudWatch User Guide, "Alarm evaluation",
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-evaluation.html).
* CloudWatch retrieves more datapoints than N, the *evaluation range*, and when some are missing: with N or
  more real datapoints in the range it evaluates the most recent N real ones and ignores the missing-data
  setting; with fewer, it includes every real one and fills the rest with the missing-data treatment
  (``breaching``, ``notBreaching``, ``ignore``: keep the state, ``missing``: all missing is
  INSUFFICIENT_DATA). The range's length "depends on the length of the alarm period" and is not published,
  so it is a parameter here and the tests try several. Premature-alarm rule: with ``missing`` (and
  ``ignore``), an alarm goes to ALARM when the oldest breaching datapoint among the last N is at least M
  periods old and all more recent ones are breaching or missing; the documented tables show it applies
  only when no real datapoint in the range is non-breaching ("How CloudWatch alarms treat missing data",
  same guide). ``documented_tables`` below are those tables, and the model is tested against them.
* A new alarm starts in INSUFFICIENT_DATA, and an updated one keeps its state (PutMetricAlarm, CloudWatch
  API Reference); actions run when the state changes, ``InsufficientDataActions`` "when this alarm
  transitions to the INSUFFICIENT_DATA state from any other state" (same reference), so a page here is a
  transition into a state whose action list is not empty.
* Metric math: the subset the stack uses (numbers, metric ids, ``FILL(m, value)``, ``IF(c, a, b)``,
  ``AND``/``OR``, comparisons, ``+ - * /``). The model's ``FILL`` gives every period a value even when the
  metric has none in the query range; a missing operand elsewhere makes the result missing.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional

OK, ALARM, INSUFFICIENT = "OK", "ALARM", "INSUFFICIENT_DATA"

COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanOrEqualToThreshold": lambda v, t: v >= t,
    "GreaterThanThreshold": lambda v, t: v > t,
    "LessThanThreshold": lambda v, t: v < t,
    "LessThanOrEqualToThreshold": lambda v, t: v <= t,
}
STATISTICS: dict[str, Callable[[list[float]], float]] = {
    "Sum": sum,
    "SampleCount": lambda values: float(len(values)),
    "Maximum": max,
    "Minimum": min,
    "Average": lambda values: sum(values) / len(values),
}


@dataclass(frozen=True)
class Sample:
    """One value a metric received (an EMF line, a PutMetricData datum)."""

    at: dt.datetime
    namespace: str
    name: str
    dimensions: frozenset[tuple[str, str]]
    value: float


class Samples:
    """Samples by metric, sorted by time, for sums over windows."""

    def __init__(self, samples: Iterable[Sample]) -> None:
        self._by_metric: dict[tuple[str, str, frozenset[tuple[str, str]]], list[Sample]] = (
            defaultdict(list)
        )
        for s in sorted(samples, key=lambda s: s.at):
            self._by_metric[(s.namespace, s.name, s.dimensions)].append(s)
        self._times = {k: [s.at for s in v] for k, v in self._by_metric.items()}
        self._sums = {
            k: list(itertools.accumulate((s.value for s in v), initial=0.0))
            for k, v in self._by_metric.items()
        }

    def aggregate(
        self,
        metric: tuple[str, str, frozenset[tuple[str, str]]],
        start: dt.datetime,
        end: dt.datetime,
        statistic: str,
    ) -> Optional[float]:
        """The statistic of the values received in (start, end], None when there were none."""
        times = self._times.get(metric, [])
        lo, hi = bisect.bisect_right(times, start), bisect.bisect_right(times, end)
        if lo == hi:
            return None
        if statistic == "Sum":
            sums = self._sums[metric]
            return sums[hi] - sums[lo]
        return STATISTICS[statistic]([s.value for s in self._by_metric[metric][lo:hi]])


@dataclass(frozen=True)
class MetricStat:
    namespace: str
    name: str
    dimensions: frozenset[tuple[str, str]]
    statistic: str

    def value(self, samples: Samples, start: dt.datetime, end: dt.datetime) -> Optional[float]:
        metric = (self.namespace, self.name, self.dimensions)
        return samples.aggregate(metric, start, end, self.statistic)


def _dimensions(entries: list[dict[str, str]]) -> frozenset[tuple[str, str]]:
    return frozenset((d["Name"], d["Value"]) for d in entries)


@dataclass
class Alarm:
    """A synthesized alarm's evaluation settings."""

    name: str
    period: dt.timedelta
    evaluation_periods: int
    datapoints_to_alarm: int
    threshold: float
    comparison: str
    treat_missing: str
    actions: dict[str, list[Any]]
    value: Callable[[Samples, dt.datetime, dt.datetime], Optional[float]]
    metric_names: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_properties(cls, props: dict[str, Any]) -> Alarm:
        if "Metrics" in props:
            period, value, names = _math(props["Metrics"])
        else:
            stat = MetricStat(
                props["Namespace"],
                props["MetricName"],
                _dimensions(props.get("Dimensions", [])),
                props["Statistic"],
            )
            period, value, names = props["Period"], stat.value, frozenset({stat.name})
        n = props["EvaluationPeriods"]
        return cls(
            name=props["AlarmName"],
            period=dt.timedelta(seconds=period),
            evaluation_periods=n,
            datapoints_to_alarm=props.get("DatapointsToAlarm", n),
            threshold=float(props["Threshold"]),
            comparison=props["ComparisonOperator"],
            # PutMetricAlarm: "If TreatMissingData is omitted, the default behavior of missing is used."
            treat_missing=props.get("TreatMissingData", "missing"),
            actions={
                ALARM: props.get("AlarmActions", []),
                OK: props.get("OKActions", []),
                INSUFFICIENT: props.get("InsufficientDataActions", []),
            },
            value=value,
            metric_names=names,
        )

    def datapoints(self, samples: Samples, now: dt.datetime, evaluation_range: int) -> list[Any]:
        """Oldest first: True breaching, False not breaching, None missing; periods ending at ``now``."""
        points: list[Any] = []
        for k in reversed(range(evaluation_range)):
            end = now - k * self.period
            value = self.value(samples, end - self.period, end)
            points.append(
                None if value is None else COMPARISONS[self.comparison](value, self.threshold)
            )
        return points


def next_state(points: list[Any], n: int, m: int, treat_missing: str, previous: str) -> str:
    """The state CloudWatch sets from the datapoints of the evaluation range (oldest first)."""

    def verdict(evaluated: list[bool]) -> str:
        return ALARM if sum(evaluated) >= m else OK

    recent = points[-n:]
    real = [p for p in points if p is not None]
    if None not in recent:
        return verdict(recent)
    if len(real) >= n:
        return verdict(real[-n:])
    if not real:
        return {
            "breaching": verdict([True] * n),
            "notBreaching": OK,
            "ignore": previous,
            "missing": INSUFFICIENT,
        }[treat_missing]
    fill = n - len(real)
    if treat_missing == "breaching":
        return verdict(real + [True] * fill)
    if sum(real) >= m:
        return ALARM
    if treat_missing == "notBreaching":
        return OK
    # missing / ignore: the premature-alarm rule, when every real datapoint in the range breaches.
    oldest = next((i for i, p in enumerate(recent) if p), None)
    if all(real) and oldest is not None and n - oldest >= m:
        return ALARM if treat_missing == "missing" else previous
    return OK


@dataclass(frozen=True)
class Page:
    at: dt.datetime
    alarm: str
    state: str


def replay(
    alarm: Alarm,
    samples: Samples,
    created: dt.datetime,
    until: dt.datetime,
    *,
    evaluation_range: int,
    every: dt.timedelta = dt.timedelta(minutes=1),
) -> list[Page]:
    """Evaluate from creation to ``until``; the transitions that ran an action."""
    assert evaluation_range >= alarm.evaluation_periods
    state, pages, now = INSUFFICIENT, [], created
    while now <= until:
        points = alarm.datapoints(samples, now, evaluation_range)
        new = next_state(
            points, alarm.evaluation_periods, alarm.datapoints_to_alarm, alarm.treat_missing, state
        )
        if new != state and alarm.actions[new]:
            pages.append(Page(now, alarm.name, new))
        state, now = new, now + every
    return pages


# ---- metric math ------------------------------------------------------------------------------------

_TOKEN = re.compile(r"\s*(>=|<=|==|!=|&&|\|\||[()<>,+\-*/]|\d+(?:\.\d+)?|[A-Za-z_][A-Za-z0-9_]*)")


def _math(queries: list[dict[str, Any]]) -> tuple[int, Callable[..., Optional[float]], frozenset]:
    stats: dict[str, MetricStat] = {}
    periods = set()
    expression = None
    for q in queries:
        if "MetricStat" in q:
            ms = q["MetricStat"]
            metric = ms["Metric"]
            stats[q["Id"]] = MetricStat(
                metric["Namespace"],
                metric["MetricName"],
                _dimensions(metric.get("Dimensions", [])),
                ms["Stat"],
            )
            periods.add(ms["Period"])
        if q.get("ReturnData", True) and "Expression" in q:
            expression = q["Expression"]
            if "Period" in q:
                periods.add(q["Period"])
    assert expression is not None and len(periods) == 1, queries
    tokens = _TOKEN.findall(expression)
    assert "".join(tokens) == re.sub(r"\s+", "", expression), f"cannot read {expression!r}"

    def value(samples: Samples, start: dt.datetime, end: dt.datetime) -> Optional[float]:
        values = {i: stat.value(samples, start, end) for i, stat in stats.items()}
        return _Parser(tokens, values).parse()

    return periods.pop(), value, frozenset(s.name for s in stats.values())


class _Parser:
    """or := and (OR and)*; and := cmp (AND cmp)*; cmp := sum (op sum)?; sum := term (+- term)*;
    term := atom (*/ atom)*; atom := number | id | FILL(or, or) | IF(or, or, or) | ( or )."""

    def __init__(self, tokens: list[str], values: dict[str, Optional[float]]) -> None:
        self.tokens, self.i, self.values = tokens, 0, values

    def parse(self) -> Optional[float]:
        result = self.or_()
        assert self.i == len(self.tokens), self.tokens[self.i :]
        return result

    def peek(self) -> Optional[str]:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, expected: Optional[str] = None) -> str:
        token = self.tokens[self.i]
        assert expected is None or token.upper() == expected, (token, expected)
        self.i += 1
        return token

    @staticmethod
    def _both(a: Optional[float], b: Optional[float], f: Callable[[float, float], float]) -> Any:
        return None if a is None or b is None else float(f(a, b))

    def or_(self) -> Optional[float]:
        left = self.and_()
        while (self.peek() or "").upper() in ("OR", "||"):
            self.take()
            right = self.and_()
            left = self._both(left, right, lambda a, b: bool(a) or bool(b))
        return left

    def and_(self) -> Optional[float]:
        left = self.cmp()
        while (self.peek() or "").upper() in ("AND", "&&"):
            self.take()
            right = self.cmp()
            left = self._both(left, right, lambda a, b: bool(a) and bool(b))
        return left

    def cmp(self) -> Optional[float]:
        left = self.sum()
        ops = {">=": "__ge__", "<=": "__le__", ">": "__gt__", "<": "__lt__"}
        ops.update({"==": "__eq__", "!=": "__ne__"})
        if self.peek() in ops:
            op = ops[self.take()]
            right = self.sum()
            left = self._both(left, right, lambda a, b: getattr(a, op)(b))
        return left

    def sum(self) -> Optional[float]:
        left = self.term()
        while self.peek() in ("+", "-"):
            op = self.take()
            right = self.term()
            left = self._both(
                left, right, (lambda a, b: a + b) if op == "+" else (lambda a, b: a - b)
            )
        return left

    def term(self) -> Optional[float]:
        left = self.atom()
        while self.peek() in ("*", "/"):
            op = self.take()
            right = self.atom()
            left = self._both(
                left, right, (lambda a, b: a * b) if op == "*" else (lambda a, b: a / b)
            )
        return left

    def atom(self) -> Optional[float]:
        token = self.take()
        if token == "(":
            inner = self.or_()
            self.take(")")
            return inner
        if re.fullmatch(r"\d+(?:\.\d+)?", token):
            return float(token)
        if token.upper() == "FILL":
            self.take("(")
            series = self.or_()
            self.take(",")
            filler = self.or_()
            self.take(")")
            return filler if series is None else series
        if token.upper() == "IF":
            self.take("(")
            condition = self.or_()
            self.take(",")
            when_true = self.or_()
            self.take(",")
            when_false = self.or_()
            self.take(")")
            if condition is None:
                return None
            return when_true if condition else when_false
        return self.values[token]


# ---- the documented examples ------------------------------------------------------------------------

# "How CloudWatch alarms treat missing data" (CloudWatch User Guide, alarm-evaluation.html): an evaluation
# range of 5, oldest first, 0 not breaching, X breaching, - missing; "retain" = the current state.
# Table 1: Datapoints to Alarm 3 of Evaluation Periods 3. Table 2: 2 out of 3.
TREATMENTS = ("missing", "ignore", "breaching", "notBreaching")
documented_tables = {
    (3, 3): [
        ("0 - X - X", (OK, OK, OK, OK)),
        ("0 - - - -", (OK, OK, OK, OK)),
        ("- - - - -", (INSUFFICIENT, "retain", ALARM, OK)),
        ("0 X X - X", (ALARM, ALARM, ALARM, ALARM)),
        ("- - X - -", (ALARM, "retain", ALARM, OK)),
    ],
    (3, 2): [
        ("0 - X - X", (ALARM, ALARM, ALARM, ALARM)),
        ("0 0 X 0 X", (ALARM, ALARM, ALARM, ALARM)),
        ("0 - X - -", (OK, OK, ALARM, OK)),
        ("- - - - 0", (OK, OK, ALARM, OK)),
        ("- - - X -", (ALARM, "retain", ALARM, OK)),
    ],
}


def parse_points(text: str) -> list[Any]:
    return [{"0": False, "X": True, "-": None}[c] for c in text.split()]
