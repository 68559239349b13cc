"""What the deploy files may name: the metric names the code exports, and the names a PromQL
expression refers to."""

from __future__ import annotations

import importlib
import pkgutil
import re
import shutil
from pathlib import Path

from prometheus_client import REGISTRY

import campus

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
PROMTOOL = "/usr/bin/promtool"
NO_PROMTOOL = f"{PROMTOOL} not installed (Debian's prometheus package: apt-get install prometheus)"

# Series Prometheus makes itself, not the code.
PROMETHEUS_OWN = frozenset({"up"})
SUFFIXES = {
    "counter": ("_total",),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count"),
    "summary": ("", "_sum", "_count"),
    "info": ("_info",),
}
PROMQL_WORDS = frozenset(
    {
        *("sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk", "bottomk"),
        *("quantile", "count_values", "group", "by", "without", "on", "ignoring", "bool"),
        *("group_left", "group_right", "and", "or", "unless", "offset", "abs", "absent"),
        *("rate", "irate", "increase", "delta", "deriv", "idelta", "histogram_quantile"),
        *("label_values", "label_replace", "clamp_min", "clamp_max", "vector", "scalar"),
        *("time", "max_over_time", "min_over_time", "avg_over_time", "sum_over_time"),
        *("count_over_time", "predict_linear"),
    }
)


def promtool() -> str | None:
    return PROMTOOL if shutil.which(PROMTOOL) else None


def exported_metric_names() -> set[str]:
    """Every series name the process can export: import every Campus module, then read the
    registry's families with their type's suffixes."""
    for info in pkgutil.walk_packages(campus.__path__, "campus."):
        if ".migrations" not in info.name and not info.name.endswith("__main__"):
            importlib.import_module(info.name)
    names: set[str] = set()
    for family in REGISTRY.collect():
        names.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ("",)))
    return names


def referenced_metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads (strings, label matchers, ranges, groupings
    and Grafana's $variables left out)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', " ", expr)
    text = re.sub(r"\{[^}]*\}|\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    text = re.sub(r"\$\w+", " ", text)
    words = set(re.findall(r"\b[a-zA-Z_:][a-zA-Z0-9_:]*\b", text))
    return {w for w in words if w not in PROMQL_WORDS and not re.fullmatch(r"\d+[smhd]?", w)}
