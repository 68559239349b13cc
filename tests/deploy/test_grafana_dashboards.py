"""The provisioned Grafana dashboards in deploy/grafana: valid JSON and provisioning YAML, every
panel's PromQL reads only metrics the code exports, and (with promtool) every query parses."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.promql import (
    DEPLOY,
    NO_PROMTOOL,
    PROMETHEUS_OWN,
    exported_metric_names,
    promtool,
    referenced_metric_names,
)

GRAFANA = DEPLOY / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
DATASOURCE_UID = "campus-prometheus"


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for panel in dashboard["panels"]:
        found.append(panel)
        found.extend(panel.get("panels", []))
    return found


def queries(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """(panel title, PromQL) of every target of every panel."""
    return [
        (panel["title"], target["expr"])
        for panel in panels(dashboard)
        for target in panel.get("targets", [])
    ]


def load(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text()))


def test_the_provisioning_points_at_the_dashboards_and_the_data_source() -> None:
    provider = yaml.safe_load((GRAFANA / "provisioning/dashboards/campus.yml").read_text())
    source = yaml.safe_load((GRAFANA / "provisioning/datasources/prometheus.yml").read_text())

    assert provider["apiVersion"] == 1
    assert [p["type"] for p in provider["providers"]] == ["file"]
    assert [d["uid"] for d in source["datasources"]] == [DATASOURCE_UID]
    assert DASHBOARDS, "at least one dashboard"


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboard_parses_and_every_panel_reads_exported_metrics(path: Path) -> None:
    dashboard = load(path)
    known = exported_metric_names() | PROMETHEUS_OWN
    graphs = [p for p in panels(dashboard) if p["type"] != "row"]

    assert dashboard["uid"] and dashboard["title"]
    assert len({p["id"] for p in panels(dashboard)}) == len(panels(dashboard)), "unique ids"
    assert all(p["datasource"]["uid"] == DATASOURCE_UID for p in graphs)
    assert all(p.get("targets") for p in graphs), "every panel queries something"
    for title, expr in queries(dashboard):
        names = referenced_metric_names(expr)
        assert names, f"{title}: no metric in {expr}"
        assert names <= known, f"{title}: {names - known} is not exported by the code"


def test_the_requests_dashboard_covers_rate_errors_latency_backlog_and_dead_letters() -> None:
    exprs = " ".join(e for _t, e in queries(load(GRAFANA / "dashboards/campus-requests.json")))

    assert "rate(campus_http_requests_total" in exprs
    assert 'status="5xx"' in exprs
    assert "histogram_quantile(0.5," in exprs and "histogram_quantile(0.95," in exprs
    assert "campus_http_request_duration_seconds_bucket" in exprs
    assert "campus_outbox_unsent_events" in exprs
    assert "campus_event_dead_letters_pending" in exprs


def test_a_misspelt_metric_would_be_caught() -> None:
    names = referenced_metric_names(
        'sum by (route) (rate(campus_http_request_total{job=~"$job",route="/a/{id}"}[5m]))'
    )
    assert names == {"campus_http_request_total"}
    assert not names <= exported_metric_names()


@pytest.mark.skipif(promtool() is None, reason=NO_PROMTOOL)
@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_every_panel_query_parses_under_promtool(path: Path, tmp_path: Path) -> None:
    """Each query, with Grafana's variables filled in, as a recording rule promtool checks."""
    rules = [
        {"record": f"campus:dashboard_query_{n}", "expr": _filled(expr)}
        for n, (_title, expr) in enumerate(queries(load(path)))
    ]
    file = tmp_path / "queries.yml"
    file.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))

    checked = subprocess.run(
        [str(promtool()), "check", "rules", str(file)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )

    assert checked.returncode == 0, checked.stdout + checked.stderr


def _filled(expr: str) -> str:
    return (
        re.sub(r"\$__rate_interval", "5m", expr)
        .replace("$job", ".*")
        .replace("$module", ".*")
        .replace("$route", ".*")
    )
