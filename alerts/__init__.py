"""Alerts: route each violation to the right manager, render it with its evidence in their language,
and deliver it through Apprise from a durable outbox (at-least-once, de-duplicated by key at the receiver).

Partner-facing notices pass one gate: only ``map`` and ``maximum`` violations may reach a partner;
anything else is refused, recorded and raised as :class:`~pricewarden.errors.NoticeRefused`.
"""

from alerts.delivery import KEY_HEADER, DeliveryReport, deliver_due, retry_failed
from alerts.digest import queue_digests, send_digests
from alerts.outbox import (
    EnqueueReport,
    approve_notice,
    cancel_for_violation,
    enqueue_for_violations,
    escalate_due,
    idempotency_key,
    notice_refusal,
    queue_notice,
)
from alerts.render import Message, render
from alerts.routing import Recipient, Route, RoutingError, RoutingTable, load_routing, parse_routing, route

__all__ = [
    "KEY_HEADER", "DeliveryReport", "EnqueueReport", "Message", "Recipient", "Route", "RoutingError",
    "RoutingTable", "approve_notice", "cancel_for_violation", "deliver_due", "enqueue_for_violations",
    "escalate_due", "idempotency_key", "load_routing", "notice_refusal", "parse_routing", "queue_digests",
    "queue_notice", "render", "retry_failed", "route", "send_digests",
]
