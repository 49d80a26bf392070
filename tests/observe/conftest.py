"""The feedback folder's fixtures (a plan, a lookup on it, a report), and a scrape of /metrics."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from tests.feedback.conftest import create_plan, look_up, people, post_report  # noqa: F401 (fixtures)


def scrape(client: FlaskClient, **kwargs: Any) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """GET /metrics, parsed: (sample name, its labels) -> value."""
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain; version=0.0.4")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def sample(scraped: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    """One sample's value; 0 when it is not there (a counter nothing has counted yet)."""
    return scraped.get((name, frozenset(labels.items())), 0.0)
