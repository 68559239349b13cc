"""The Prometheus alert rules in deploy/prometheus: they name only metrics the code exports,
and their unit tests pass under promtool (Debian's prometheus package)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

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

RULES = DEPLOY / "prometheus" / "campus-rules.yml"
RULE_TESTS = DEPLOY / "prometheus" / "campus-rules.test.yml"
needs_promtool = pytest.mark.skipif(promtool() is None, reason=NO_PROMTOOL)


def rules() -> list[dict[str, str]]:
    return [
        rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]
    ]


def run_promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(promtool()), *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=60
    )


def test_rules_name_only_metrics_the_code_exports() -> None:
    known = exported_metric_names() | PROMETHEUS_OWN
    named = {rule["alert"]: referenced_metric_names(rule["expr"]) for rule in rules()}

    unknown = {alert: names - known for alert, names in named.items() if names - known}
    assert not unknown, f"rules read metrics nothing exports: {unknown}"
    assert {"campus_http_requests_total", "campus_outbox_unsent_events", "up"} <= set().union(
        *named.values()
    )


def test_every_alert_has_a_unit_test() -> None:
    tested = {
        case["alertname"]
        for test in yaml.safe_load(RULE_TESTS.read_text())["tests"]
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert tested == {rule["alert"] for rule in rules()}


@needs_promtool
def test_promtool_accepts_the_rules_and_their_unit_tests_pass() -> None:
    checked = run_promtool("check", "rules", RULES.name, cwd=RULES.parent)
    tested = run_promtool("test", "rules", RULE_TESTS.name, cwd=RULES.parent)

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


@needs_promtool
def test_a_wrong_expectation_fails_under_promtool(tmp_path: Path) -> None:
    """The unit tests can fail: the same tests with one expected value changed do."""
    shutil.copy(RULES, tmp_path / RULES.name)
    changed = RULE_TESTS.read_text().replace("1500 events wait", "1499 events wait")
    (tmp_path / RULE_TESTS.name).write_text(changed)

    tested = run_promtool("test", "rules", RULE_TESTS.name, cwd=tmp_path)

    assert tested.returncode != 0
    assert "CampusOutboxBacklog" in tested.stdout + tested.stderr
