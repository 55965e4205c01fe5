"""Prometheus metrics of one app (own registry, no module-level state)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    """Counters and histograms exposed at ``GET /metrics``."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.received = Counter(
            "unionbot_messages_received", "Messages received, per channel",
            ["channel"], registry=self.registry,
        )
        self.handled = Counter(
            "unionbot_messages_handled",
            "Messages the pipeline answered (commands, dialog steps, hints, refusals)",
            ["channel"], registry=self.registry,
        )
        self.ignored = Counter(
            "unionbot_messages_ignored", "Group messages that were not for the bot",
            ["channel"], registry=self.registry,
        )
        self.duplicates = Counter(
            "unionbot_messages_duplicate", "Redeliveries answered from the dedup record",
            ["channel"], registry=self.registry,
        )
        self.rejected = Counter(
            "unionbot_messages_rejected", "Requests or messages refused, per channel and reason",
            ["channel", "reason"], registry=self.registry,
        )
        self.errors = Counter(
            "unionbot_handler_errors", "Unexpected errors while handling a message",
            ["command"], registry=self.registry,
        )
        self.latency = Histogram(
            "unionbot_handler_seconds", "Time to handle one message, per command",
            ["command"], buckets=LATENCY_BUCKETS, registry=self.registry,
        )

        self.outbox = Counter(
            "unionbot_outbox_results",
            "Outbox delivery attempts, per channel and resulting status (sent, queued = retry, dead)",
            ["channel", "status"], registry=self.registry,
        )

        self.trouble = Counter(
            "unionbot_http_trouble",
            "Client-caused HTTP trouble, per kind (malformed_request, malformed_body, client_gone, "
            "slow_body, body_too_large, busy)",
            ["kind"], registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
