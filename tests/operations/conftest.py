"""Fixtures of the operations tests: the test application
(``tests/services/ops_app.py``), spans captured by the OpenTelemetry SDK's
in-memory exporter, Prometheus text parsed by prometheus-client's parser."""

from __future__ import annotations

import base64
import functools
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SERVICES_DIR = Path(__file__).resolve().parents[1] / "services"
if str(SERVICES_DIR) not in sys.path:
    sys.path.append(str(SERVICES_DIR))


def basic(user: str, password: str | None = None) -> dict[str, str]:
    """The ``Authorization`` header of ``user`` (password ``<user>-pw``)."""
    secret = password if password is not None else f"{user}-pw"
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()}


class Spans:
    """The spans this process records while a test holds the fixture."""

    def __init__(self) -> None:
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        from opentelemetry.sdk.trace.sampling import Decision
        from opentelemetry.sdk.trace.sampling import Sampler
        from opentelemetry.sdk.trace.sampling import SamplingResult

        spans = self

        class Switch(Sampler):
            """Records only while a test holds the fixture (the provider is
            the process's, set once)."""

            def should_sample(
                self,
                parent_context: Any,
                trace_id: int,
                name: str,
                kind: Any = None,
                attributes: Any = None,
                links: Any = None,
                trace_state: Any = None,
            ) -> SamplingResult:
                if not spans.on:
                    return SamplingResult(Decision.DROP)
                # the span's attributes are those the sampler passes on
                return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes)

            def get_description(self) -> str:
                return "switch"

        self.on = False
        self.exporter = InMemorySpanExporter()
        provider = TracerProvider(sampler=Switch())
        provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        trace.set_tracer_provider(provider)
        if trace.get_tracer_provider() is not provider:
            pytest.fail("another OpenTelemetry tracer provider was set in this process first")

    def finished(self) -> list[Any]:
        return list(self.exporter.get_finished_spans())


_SPANS: Spans | None = None


@pytest.fixture()
def spans() -> Iterator[Spans]:
    """The SDK's in-memory exporter, recording for this test only."""
    global _SPANS
    if _SPANS is None:
        _SPANS = Spans()
    _SPANS.exporter.clear()
    _SPANS.on = True
    yield _SPANS
    _SPANS.on = False
    _SPANS.exporter.clear()


def families(text: str) -> dict[str, Any]:
    """Prometheus text parsed by prometheus-client's parser: name -> family."""
    from prometheus_client.parser import text_string_to_metric_families

    return {f.name: f for f in text_string_to_metric_families(text)}


def sample(text: str, name: str, **labels: str) -> float:
    """The value of the sample ``name`` with exactly these labels (0 when
    absent)."""
    return _samples(text).get((name, frozenset(labels.items())), 0.0)


@functools.lru_cache(maxsize=8)
def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a scrape, parsed once (late in a full run the
    process's registry holds every test's services, and a scrape is long)."""
    from prometheus_client.parser import text_string_to_metric_families

    found: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found.setdefault((s.name, frozenset(s.labels.items())), float(s.value))
    return found
