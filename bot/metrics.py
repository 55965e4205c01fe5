"""Prometheus metrics of one app (own registry, no module-level state)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    """Counters and histograms exposed at ``GET /metrics``."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.received = self._counter("unionbot_messages_received", "Messages received, per channel",
                                      "channel")
        self.handled = self._counter(
            "unionbot_messages_handled",
            "Messages the pipeline answered (commands, dialog steps, hints, refusals)", "channel",
        )
        self.ignored = self._counter("unionbot_messages_ignored",
                                     "Group messages that were not for the bot", "channel")
        self.duplicates = self._counter("unionbot_messages_duplicate",
                                        "Redeliveries answered from the dedup record", "channel")
        self.rejected = self._counter(
            "unionbot_messages_rejected", "Requests or messages refused, per channel and reason",
            "channel", "reason",
        )
        self.errors = self._counter("unionbot_handler_errors",
                                    "Unexpected errors while handling a message", "command")
        self.latency = Histogram(
            "unionbot_handler_seconds", "Time to handle one message, per command",
            ["command"], buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        self.outbox = self._counter(
            "unionbot_outbox_results",
            "Outbox delivery attempts, per channel and resulting status (sent, queued = retry, dead)",
            "channel", "status",
        )
        self.trouble = self._counter(
            "unionbot_http_trouble",
            "Client-caused HTTP trouble, per kind (malformed_request, malformed_body, client_gone, "
            "slow_body, body_too_large, busy)",
            "kind",
        )

        self._socket_metrics()

    def _socket_metrics(self) -> None:
        """The OneBot reverse WebSocket's connections (``bot.channels.onebot_ws``)."""
        self.onebot_connected = Gauge(
            "unionbot_onebot_ws_connected", "QQ accounts connected by OneBot reverse WebSocket",
            registry=self.registry,
        )
        self.onebot_ended = self._counter(
            "unionbot_onebot_ws_ended",
            "OneBot reverse WebSocket connections refused or closed, per reason", "reason",
        )
        self.onebot_ignored = self._counter(
            "unionbot_onebot_ws_ignored",
            "Frames ignored on OneBot reverse WebSocket connections, per reason", "reason",
        )

    def _counter(self, name: str, documentation: str, *labels: str) -> Counter:
        return Counter(name, documentation, labels, registry=self.registry)

    def render(self) -> bytes:
        return generate_latest(self.registry)
