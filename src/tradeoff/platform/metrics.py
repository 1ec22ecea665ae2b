"""Prometheus metrics shared by transports, the pipeline and processors (served at ``/metrics``)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS = Counter("tradeoff_events_total", "Events by transport and outcome", ["transport", "outcome"])
DEAD_LETTERS = Counter("tradeoff_dead_letters_total", "Raw messages dead-lettered", ["transport"])
INGEST_SECONDS = Histogram(
    "tradeoff_ingest_seconds",
    "Time from receipt to commit of one HTTP request or MQTT batch",
    ["transport"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
PROCESSOR_LAG = Gauge("tradeoff_processor_lag_events", "Events in the log not yet applied", ["processor"])
PROCESSOR_APPLIED = Counter("tradeoff_processor_events_total", "Events applied", ["processor"])
PROCESSOR_FAILURES = Counter("tradeoff_processor_failures_total", "Failed processor batches", ["processor"])
MQTT_CONNECTED = Gauge("tradeoff_mqtt_connected", "1 when the MQTT ingestor is connected")
