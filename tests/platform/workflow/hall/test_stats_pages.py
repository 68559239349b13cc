"""The statistics page for those who hold workflow.stats.read: charts, tables, the period, and
the Excel export of the per-service and per-step tables."""

from __future__ import annotations

import io
import json
import re
from html import unescape

from openpyxl import load_workbook

from tests.platform.workflow.hall.conftest import CastOf, apply_on_page, page


async def test_the_statistics_page(cast_of: CastOf) -> None:
    cast = await cast_of("admin", "student")
    await apply_on_page(cast)
    html = await page(cast["admin"], "/workflow/stats?days=7")
    assert '<script src="/static/vendor/echarts/echarts.min.js"></script>' in html
    for chart in ("per_day", "services", "hours", "bottlenecks"):
        assert f'data-testid="chart-{chart}' in html, chart
    option = re.search(r'data-testid="chart-per_day" data-option="([^"]*)"', html)
    assert option
    per_day = json.loads(unescape(option.group(1)))
    assert len(per_day["xAxis"]["data"]) == 7 and sum(per_day["series"][0]["data"]) >= 1
    assert "在读证明" in html and 'data-testid="stats-steps"' in html
    assert 'href="/workflow/stats/export.xlsx?days=7"' in html
    await page(cast["admin"], "/workflow/stats?days=15", 422)


async def test_only_stats_readers_see_the_statistics(cast_of: CastOf) -> None:
    cast = await cast_of("student", "staff")
    for role in ("student", "staff"):
        await page(cast[role], "/workflow/stats", 403)
        export = await cast[role].get("/workflow/stats/export.xlsx")
        assert export.status_code == 403, role


async def test_excel_export(cast_of: CastOf) -> None:
    cast = await cast_of("admin", "student")
    await apply_on_page(cast)
    response = await cast["admin"].get("/workflow/stats/export.xlsx?days=30")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''" in response.headers["content-disposition"]
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["按服务", "按审批节点"]
    services = [row for row in book["按服务"].iter_rows(values_only=True)]
    assert services[0][:3] == ("服务", "申请数", "已办结")
    assert any(row[0] == "在读证明" and row[1] >= 1 for row in services[1:])
    steps = [row for row in book["按审批节点"].iter_rows(values_only=True)]
    assert steps[0][:3] == ("流程", "流程标识", "审批节点")
    assert any(row[1] == "enrolment_certificate" and row[2] == "教务处审核" for row in steps[1:])
    assert book["按服务"].freeze_panes == "A2"
