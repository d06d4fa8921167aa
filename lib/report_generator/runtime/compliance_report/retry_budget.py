"""A full retry budget for every invocation, on clients that live as long as the execution environment.

botocore's ``standard`` retry mode keeps a retry quota per client (the AWS SDKs' "retry quota": 500
tokens; a retry takes 5 to 14, a call that succeeds first time gives 1 back; with none left, a call fails
on its first error without retrying; https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html
and botocore/retries/standard.py). The handler keeps its clients between invocations, which saves their
connection setup, so one quota spans every invocation of a warm execution environment: after a
throttling storm drains it, the next day's run gets no retries at all and reports rules incomplete.

Rebuilding the clients per invocation would fix it and throw the connections away. Instead, each client
asks botocore's own standard-mode retry handler for its retry decisions, built afresh per invocation:

* at build time, botocore's decision handler for the client (the ``needs-retry`` handler it registers
  with the unique id ``retry-config-<service>``) is unregistered, and three handlers of this module take
  its place on the client's documented events (``before-call``, ``needs-retry``, ``after-call``);
* ``renew()`` (once per invocation) asks ``botocore.retries.standard.register_retry_handler`` — the
  function botocore itself calls to set up standard mode — for a new handler and a new quota, registered
  on a private event emitter. The retry rules, backoff and quota costs stay botocore's, whatever its
  version;
* each call is pinned, when it starts, to the budget of the invocation that made it (in the call's
  request context), so a call abandoned by the previous invocation (timebox.py) spends that invocation's
  budget, never the next one's.

botocore's own ``after-call`` quota release stays registered (it has no unique id to remove it by); it
gives tokens back to the quota nothing asks any more, which costs one comparison per call. Nothing
private is read or set: the event system and ``register_retry_handler`` are what botocore's client
factory uses itself. ``tests/integration/test_retry_budget.py`` proves the effect on the pinned botocore
versions (an invocation after a storm still retries).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from botocore.hooks import HierarchicalEmitter, first_non_none_response
from botocore.retries import standard

_PINNED = "compliance_report_retry_budget"  # request-context key: the budget a call started with


class RetryBudget:
    """Standard-mode retries for one client, with a retry quota that ``renew()`` makes full again."""

    def __init__(self, client: Any, max_attempts: int) -> None:
        self._service_model = client.meta.service_model
        self._max_attempts = max_attempts
        service = client.meta.service_model.service_id.hyphenize()
        events = client.meta.events
        events.unregister(f"needs-retry.{service}", unique_id=f"retry-config-{service}")
        events.register(f"before-call.{service}", self._pin)
        events.register(
            f"needs-retry.{service}",
            self._needs_retry,
            unique_id=f"compliance-report-retry-budget-{service}",
        )
        events.register(f"after-call.{service}", self._after_call)
        self._current = self._fresh()

    def renew(self) -> None:
        """A full quota for the calls started from now on (a reference swap: safe while calls run)."""
        self._current = self._fresh()

    def _fresh(self) -> HierarchicalEmitter:
        emitter = HierarchicalEmitter()
        # What register_retry_handler reads of a client: its service model and where to register.
        view: Any = SimpleNamespace(
            meta=SimpleNamespace(service_model=self._service_model, events=emitter)
        )
        standard.register_retry_handler(view, max_attempts=self._max_attempts)
        return emitter

    def _budget(self, context: dict[str, Any]) -> HierarchicalEmitter:
        budget: HierarchicalEmitter = context.get(_PINNED, self._current)
        return budget

    def _pin(self, context: dict[str, Any], **_: Any) -> None:
        context.setdefault(_PINNED, self._current)

    def _needs_retry(self, event_name: str, request_dict: dict[str, Any], **kwargs: Any) -> Any:
        budget = self._budget(request_dict["context"])
        return first_non_none_response(budget.emit(event_name, request_dict=request_dict, **kwargs))

    def _after_call(self, event_name: str, context: dict[str, Any], **kwargs: Any) -> None:
        self._budget(context).emit(event_name, context=context, **kwargs)
