"""Prometheus metrics of one app (no module-level state).

Counting is plain arithmetic on the app's own objects; ``prometheus_client`` (with
the HTTP servers and WSGI modules it brings along) loads only when ``GET /metrics``
is first answered, and writes the text format from these figures.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry
    from prometheus_client.metrics_core import Metric

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class CounterChild:
    """One label set of a counter."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0.0

    def inc(self, amount: float = 1.0) -> None:
        self.value += amount


class HistogramChild:
    """One label set of a histogram: a count per bucket (not cumulative), the sum."""

    __slots__ = ("counts", "sum", "upper")

    def __init__(self, upper: tuple[float, ...]) -> None:
        self.upper = upper
        self.counts = [0] * (len(upper) + 1)  # the last one is +Inf
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.upper, value)] += 1
        self.sum += value


class Counter:
    """A counter with labels: ``counter.labels("onebot").inc()``."""

    def __init__(self, name: str, documentation: str, labelnames: tuple[str, ...]) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = labelnames
        self.children: dict[tuple[str, ...], CounterChild] = {}

    def labels(self, *values: str) -> CounterChild:
        child = self.children.get(values)
        if child is None:
            if len(values) != len(self.labelnames):
                raise ValueError(f"{self.name} takes the labels {self.labelnames}, got {values}")
            child = self.children[values] = CounterChild()
        return child

    def family(self) -> Metric:
        from prometheus_client.core import CounterMetricFamily

        family = CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for values, child in self.children.items():
            family.add_metric(list(values), child.value)
        return family


class Histogram:
    """A histogram with labels: ``histogram.labels("帮助").observe(0.004)``."""

    def __init__(self, name: str, documentation: str, labelnames: tuple[str, ...],
                 buckets: tuple[float, ...]) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = labelnames
        self.buckets = tuple(sorted(buckets))
        self.children: dict[tuple[str, ...], HistogramChild] = {}

    def labels(self, *values: str) -> HistogramChild:
        child = self.children.get(values)
        if child is None:
            if len(values) != len(self.labelnames):
                raise ValueError(f"{self.name} takes the labels {self.labelnames}, got {values}")
            child = self.children[values] = HistogramChild(self.buckets)
        return child

    def family(self) -> Metric:
        from prometheus_client.core import HistogramMetricFamily

        family = HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)
        bounds = [repr(float(b)) for b in self.buckets] + ["+Inf"]  # as prometheus_client writes them
        for values, child in self.children.items():
            running, cumulative = 0, []
            for bound, count in zip(bounds, child.counts, strict=True):
                running += count
                cumulative.append((bound, float(running)))
            family.add_metric(list(values), cumulative, child.sum)
        return family


class Gauge:
    """A gauge without labels: ``gauge.set(3)``."""

    def __init__(self, name: str, documentation: str) -> None:
        self.name = name
        self.documentation = documentation
        self.value = 0.0

    def set(self, value: float) -> None:
        self.value = float(value)

    def family(self) -> Metric:
        from prometheus_client.core import GaugeMetricFamily

        return GaugeMetricFamily(self.name, self.documentation, value=self.value)


class Metrics:
    """Counters and histograms exposed at ``GET /metrics``."""

    def __init__(self) -> None:
        self._all: list[Counter | Gauge | Histogram] = []
        self.received = self.counter("unionbot_messages_received", "Messages received, per channel",
                                      "channel")
        self.handled = self.counter(
            "unionbot_messages_handled",
            "Messages the pipeline answered (commands, dialog steps, hints, refusals)", "channel",
        )
        self.ignored = self.counter("unionbot_messages_ignored",
                                     "Group messages that were not for the bot", "channel")
        self.duplicates = self.counter("unionbot_messages_duplicate",
                                        "Redeliveries answered from the dedup record", "channel")
        self.rejected = self.counter(
            "unionbot_messages_rejected", "Requests or messages refused, per channel and reason",
            "channel", "reason",
        )
        self.errors = self.counter("unionbot_handler_errors",
                                    "Unexpected errors while handling a message", "command")
        self.latency = Histogram("unionbot_handler_seconds", "Time to handle one message, per command",
                                 ("command",), LATENCY_BUCKETS)
        self._all.append(self.latency)
        self.outbox = self.counter(
            "unionbot_outbox_results",
            "Outbox delivery attempts, per channel and resulting status (sent, queued = retry, dead)",
            "channel", "status",
        )
        self.trouble = self.counter(
            "unionbot_http_trouble",
            "Client-caused HTTP trouble, per kind (malformed_request, malformed_body, client_gone, "
            "slow_body, body_too_large, busy)",
            "kind",
        )

        self._socket_metrics()

    def _socket_metrics(self) -> None:
        """The OneBot reverse WebSocket's connections (``bot.channels.onebot_ws``)."""
        self.onebot_connected = Gauge(
            "unionbot_onebot_ws_connected", "QQ accounts connected by OneBot reverse WebSocket"
        )
        self._all.append(self.onebot_connected)
        self.onebot_ended = self.counter(
            "unionbot_onebot_ws_ended",
            "OneBot reverse WebSocket connections refused or closed, per reason", "reason",
        )
        self.onebot_trouble = self.counter(
            "unionbot_onebot_ws_trouble",
            "Trouble on OneBot reverse WebSocket connections, per kind: frames ignored "
            "(not_json, event_too_large, unexpected_response, a bad event's reason) and "
            "reading paused while too many messages are in hand (paused)", "kind",
        )

    def counter(self, name: str, documentation: str, *labels: str) -> Counter:
        """A further counter of this app (a channel's own), exposed with the others."""
        counter = Counter(name, documentation, labels)
        self._all.append(counter)
        return counter

    def collect(self) -> Iterator[Metric]:
        for metric in self._all:
            yield metric.family()

    @property
    def registry(self) -> CollectorRegistry:
        """A Prometheus registry that reads these figures when collected."""
        from prometheus_client import CollectorRegistry
        from prometheus_client.registry import Collector

        metrics = self

        class Figures(Collector):
            def collect(self) -> Iterator[Metric]:
                return metrics.collect()

        registry = CollectorRegistry(auto_describe=False)
        registry.register(Figures())
        return registry

    def render(self) -> bytes:
        """Every metric in the Prometheus text format (version 0.0.4)."""
        from prometheus_client import generate_latest

        return generate_latest(self.registry)
