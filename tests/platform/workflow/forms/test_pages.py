"""The designer's pages and the renderer: lists, designer, live preview, the try-out of a
version, the scripts; the renderer's inputs for every widget and its read-only display."""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from campus.kernel.runtime import Runtime
from campus.platform.workflow.forms.schemas import FormVersionOut
from tests.platform.workflow.forms.conftest import HTML, LEAVE, version_of
from tests.platform.workflow.forms.test_api import API, SIMPLE, create
from tests.platform.workflow.forms.test_compile import EVERY_WIDGET


async def form_post(client: httpx.AsyncClient, url: str, data: dict[str, str]) -> httpx.Response:
    """A browser's form post: the CSRF token in the form field, not in a header."""
    token = client.headers.pop("X-CSRF-Token")
    try:
        return await client.post(url, data={**data, "csrf_token": token}, headers=HTML)
    finally:
        client.headers["X-CSRF-Token"] = token


def config_of(page: str, attribute: str) -> Any:
    found = re.search(attribute + r"='([^']*)'", page)
    assert found, f"{attribute} is missing"
    return json.loads(unescape(found.group(1)))


async def test_list_detail_and_designer_pages(admin: httpx.AsyncClient) -> None:
    form = await create(admin, LEAVE)
    listed = await admin.get("/workflow/forms", headers=HTML)
    assert listed.status_code == 200, listed.text
    assert "表单设计" in listed.text and form["key"] in listed.text
    assert 'data-testid="new-form"' in listed.text
    searched = await admin.get("/workflow/forms", params={"q": "no-such-form"}, headers=HTML)
    assert "没有找到表单" in searched.text

    detail = await admin.get(f"/workflow/forms/{form['id']}", headers=HTML)
    assert detail.status_code == 200
    assert 'x-data="campusForm"' in detail.text
    assert '<script src="/workflow/forms/forms.js"></script>' in detail.text
    assert "草稿" in detail.text

    designer = await admin.get(f"/workflow/forms/{form['id']}/design", headers=HTML)
    assert designer.status_code == 200
    config = config_of(designer.text, "data-designer-config")
    assert [f["key"] for f in config["fields"]] == [f["key"] for f in LEAVE]
    assert config["form"]["key"] == form["key"]
    assert {"value": "daterange", "title": "日期区间"} in config["widgets"]
    assert config["widgets"][0]["value"] == "text"  # in the palette's order

    new = await admin.get("/workflow/forms/new", headers=HTML)
    assert new.status_code == 200
    assert config_of(new.text, "data-designer-config")["form"] is None


async def test_students_get_no_designer(student: httpx.AsyncClient) -> None:
    for path in ("/workflow/forms", "/workflow/forms/new"):
        response = await student.get(path, headers=HTML)
        assert response.status_code == 403
        assert "text/html" in response.headers["content-type"]


async def test_scripts_are_served(anon: httpx.AsyncClient) -> None:
    for name in ("forms.js", "designer.js"):
        response = await anon.get(f"/workflow/forms/{name}")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/javascript")
    assert "campusForm" in (await anon.get("/workflow/forms/forms.js")).text


async def test_trying_a_version_out(admin: httpx.AsyncClient) -> None:
    form = await create(admin, LEAVE)
    version_id = form["versions"][0]["id"]
    url = f"/workflow/forms/versions/{version_id}"
    page = await admin.get(url, headers=HTML)
    assert page.status_code == 200
    assert 'name="csrf_token"' in page.text

    bad = await form_post(
        admin,
        url,
        {
            "data.leave.start": "2026-03-06",
            "data.leave.end": "2026-03-02",
            "data.items[0].name": "挂号",
            "data.items[0].amount": "1.234",
        },
    )
    assert bad.status_code == 422
    assert 'data-testid="error-data.kind"' in bad.text
    assert "结束日期不能早于开始日期" in bad.text
    errors = config_of(bad.text, "data-form-config")["errors"]
    assert errors["data.items[0].amount"] == "最多两位小数"
    values = config_of(bad.text, "data-form-config")["values"]
    assert values["items"] == [{"name": "挂号", "amount": 1.234}]  # shown again as typed

    good = await form_post(
        admin,
        url,
        {
            "data.kind": "sick",
            "data.leave.start": "2026-03-02",
            "data.leave.end": "2026-03-06",
            "data.reason": "住院",
            "data.items[0].name": "挂号",
            "data.items[0].amount": "12.5",
            "data.items[3].name": "药",
            "data.items[3].amount": "30",
            "data.days": "1",
        },
    )
    assert good.status_code == 200, good.text
    assert "校验通过" in good.text
    result = good.text.split('data-testid="try-result"', 1)[1]
    assert "病假" in result  # the choice's label, not its value
    assert '<span data-testid="sum-items-amount">¥ 42.50</span>' in result
    assert 'data-testid="value-days">5' in result


async def test_the_designer_preview(admin: httpx.AsyncClient) -> None:
    preview = await admin.post(
        "/workflow/forms/preview", json={"fields": SIMPLE}, headers={"Accept": "text/html"}
    )
    assert preview.status_code == 200
    assert 'name="data.a"' in preview.text
    assert 'data-testid="computed-c"' in preview.text

    problems = await admin.post(
        "/workflow/forms/preview",
        json={"fields": [{"key": "a", "label": "甲", "widget": "slider"}, {"key": 3}]},
        headers={"Accept": "text/html"},
    )
    assert problems.status_code == 422
    assert 'data-testid="preview-problems"' in problems.text

    checked = await admin.post(
        "/workflow/forms/preview",
        json={"fields": SIMPLE, "check": True, "data": [["data.a", "x"], ["data.b", "2"]]},
        headers={"Accept": "text/html"},
    )
    assert checked.status_code == 200
    assert "应为数字" in checked.text
    passed = await admin.post(
        "/workflow/forms/preview",
        json={"fields": SIMPLE, "check": True, "data": [["data.a", "1"], ["data.b", "2"]]},
        headers={"Accept": "text/html"},
    )
    assert "校验通过" in passed.text
    assert 'data-testid="value-c">3' in passed.text


async def test_the_preview_is_for_designers(student: httpx.AsyncClient) -> None:
    response = await student.post("/workflow/forms/preview", json={"fields": SIMPLE})
    assert response.status_code == 403


# ---------------------------------------------------------------- the renderer itself


def render(runtime: Runtime, source: str, **values: Any) -> str:
    template = runtime.templates.env.from_string(
        '{% from "workflow/forms/_render.html" import render_form %}' + source
    )
    return template.render(**values)


@pytest.fixture
def every_widget(app: FastAPI) -> FormVersionOut:
    return version_of(EVERY_WIDGET, version_id=7)


def test_every_widget_gets_its_inputs(runtime: Runtime, every_widget: FormVersionOut) -> None:
    errors = {"data.title": "必填", "data.rows[0].cost": "最多两位小数"}
    html = unescape(
        render(
            runtime,
            "{{ render_form(version, values, errors) }}",
            version=every_widget,
            values={"title": "Hi", "rows": [{"item": "a", "cost": 1.234}], "unit": 5},
            errors=errors,
        )
    )
    for name in (
        "data.title",
        "data.detail",
        "data.count",
        "data.price",
        "data.day",
        "data.at",
        "data.when",
        "data.span.start",
        "data.span.end",
        "data.kind",
        "data.tags",
        "data.who",
        "data.unit",
        "data.name",
    ):
        assert f'name="{name}"' in html, name
    assert 'type="datetime-local"' in html and 'type="time"' in html
    assert ":name=\"cellName('rows', i, 'cost')\"" in html
    assert 'data-testid="sum-rows-cost"' in html and 'data-testid="sum-rows-qty"' in html
    assert 'data-testid="upload-files"' in html
    assert 'data-testid="picker-who"' in html and 'data-testid="picker-unit"' in html
    assert "x-show=\"visible('tags')\"" in html
    assert 'data-testid="error-data.title">必填' in html
    assert 'id="ff-7-title"' in html
    config = json.loads(html.split("data-form-config='", 1)[1].split("' data-testid", 1)[0])
    assert config["errors"] == errors
    assert config["values"]["unit"] == 5
    assert [f["key"] for f in config["fields"]] == [f["key"] for f in EVERY_WIDGET]


def test_the_read_only_display(runtime: Runtime) -> None:
    version = version_of([*EVERY_WIDGET, {"key": "fee", "label": "押金", "widget": "money"}])
    values = {
        "title": "<b>标题</b>",
        "count": 3,
        "price": 1234.5,
        "span": {"start": "2026-03-01", "end": "2026-03-02"},
        "kind": "a",
        "tags": ["x", "y"],
        "who": 12,
        "unit": 3,
        "files": ["abcdefghij"],
        "rows": [{"item": "车票", "type": "t", "qty": 2, "cost": 10.5}, {"item": "餐", "cost": 1}],
        "total": 50.25,
        "when": "2026-03-01T08:30",
    }
    html = render(
        runtime,
        "{{ render_form(version, values, readonly=True, labels=labels, file_url='/hall/f/') }}",
        version=version,
        values=values,
        labels={"who": "张老师（T001）", "files.abcdefghij": "发票.pdf"},
    )
    assert "<b>" not in html and "&lt;b&gt;标题" in html  # escaped
    assert 'name="data.' not in html  # nothing to post
    assert "¥ 1,234.50" in html
    assert "2026-03-01 至 2026-03-02" in html
    assert html.split('data-testid="value-kind">', 1)[1].startswith("甲")  # the label
    assert "张老师（T001）" in html and "#3" in html
    assert "交通" in html
    assert '<span data-testid="sum-rows-cost">¥ 11.50</span>' in html
    assert '<span data-testid="sum-rows-qty">2</span>' in html
    assert "2026-03-01 08:30" in html
    assert '<a href="/hall/f/abcdefghij" target="_blank" rel="noopener">发票.pdf</a>' in html
    assert 'data-testid="value-detail"' not in html  # left empty: not shown


async def test_designer_check_api_used_by_the_designer(admin: httpx.AsyncClient) -> None:
    response = await admin.post(f"{API}/compile", json={"fields": [{"key": "a", "label": "甲"}]})
    assert response.status_code == 200
    assert response.json()["ui_schema"]["a"]["ui:widget"] == "text"


async def test_the_pages_speak_english_too(admin: httpx.AsyncClient) -> None:
    form = await create(admin, LEAVE)
    english = {"Accept": "text/html", "Accept-Language": "en"}
    listed = await admin.get("/workflow/forms", headers=english)
    assert "Form designer" in listed.text and "New form" in listed.text
    page = await admin.get(f"/workflow/forms/versions/{form['versions'][0]['id']}", headers=english)
    assert "Try the form" in page.text and "Choose" in page.text
    refused = await admin.post(
        f"{API}/versions/{form['versions'][0]['id']}/validate",
        json={"data": {"fee": 1.234}},
        headers={"Accept-Language": "en"},
    )
    reasons = {e["field"]: e["reason"] for e in refused.json()["errors"]}
    assert reasons["data.kind"] == "required"  # the kernel's word for it
    assert reasons["data.fee"] == "At most two decimals"
