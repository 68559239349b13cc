"""The developer platform in a browser: a student developer creates an app, gets an API key,
asks to subscribe to a service whose owner (a teacher) approves it in their own browser, then
calls the service through the gateway from the app's try-it console and sees the call counted.
The service is the live server's own /healthz, reached through the gateway."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import sign_in
from tests.e2e.live import LiveServer

pytestmark = pytest.mark.browser


def _offer_service(server: LiveServer, owner_login: str) -> str:
    """An administrator offers the server's own health check on the developer platform, its
    subscriptions approved by ``owner_login``; the service's name."""
    admin = server.login("admin")
    name = f"health-{uuid.uuid4().hex[:6]}"
    with httpx.Client(base_url=server.base_url, timeout=15) as api:
        api.get("/login")
        api.headers["X-CSRF-Token"] = api.cookies["campus_csrf"]
        signed = api.post(
            "/api/v1/auth/login", json={"login": admin.login, "password": admin.password}
        )
        assert signed.status_code == 200, signed.text
        owner = api.get("/api/v1/users/people", params={"q": owner_login}).json()["items"][0]
        made = api.post(
            "/api/v1/gateway/services",
            json={
                "name": name,
                "url": server.base_url,
                "title": "健康检查",
                "description": "校园平台的健康状态",
                "subscription": "approval",
                "owner_id": owner["id"],
            },
        )
        assert made.status_code == 201, made.text
        route = api.post("/api/v1/gateway/routes", json={"name": name, "service": name})
        assert route.status_code == 201, route.text
    return name


def test_a_developer_subscribes_is_approved_and_calls_with_a_key(
    page: Page, browser: Browser, server: LiveServer
) -> None:
    student, teacher = server.login("student"), server.login("teacher")
    service = _offer_service(server, teacher.login)

    sign_in(page, student.login, student.password)
    page.goto("/developer")
    page.get_by_label("应用名称").fill("健康看板")
    page.get_by_label("用途说明").fill("在宿舍楼显示平台状态")
    page.get_by_role("button", name="创建").click()
    expect(page.get_by_role("heading", name="健康看板")).to_be_visible()
    app_url = page.url

    page.get_by_test_id("issue-key").click()
    issued = page.get_by_test_id("issued")
    expect(issued).to_contain_text("gwk_")
    key = "gwk_" + issued.inner_text().split("gwk_", 1)[1].split()[0]

    page.get_by_label("订阅服务").select_option(service)
    page.get_by_role("button", name="订阅", exact=True).click()
    expect(page.get_by_text("请写明用途")).to_be_visible()  # a sensitive service needs a reason
    page.get_by_label("订阅服务").select_option(service)
    page.get_by_label("用途说明").fill("宿舍楼大屏")
    page.get_by_role("button", name="订阅", exact=True).click()
    row = page.get_by_test_id(f"subscription-{service}")
    expect(row).to_have_attribute("data-status", "pending")

    # The owner approves in their own browser, from the to-do the request put there.
    context = browser.new_context(base_url=server.base_url, locale="zh-CN")
    owner = context.new_page()
    try:
        sign_in(owner, teacher.login, teacher.password)
        owner.goto("/developer/approvals")
        awaiting = owner.get_by_test_id("awaiting")
        request = awaiting.locator("[data-testid^=awaiting-]", has_text="健康看板")
        expect(request).to_contain_text("宿舍楼大屏")
        request.get_by_role("button", name="同意").click()
        expect(owner.get_by_text("已同意")).to_be_visible()
    finally:
        context.close()

    page.goto(app_url)
    expect(page.get_by_test_id(f"subscription-{service}")).to_have_attribute(
        "data-status", "approved"
    )
    console = page.get_by_test_id("try-it")
    console.get_by_label("路径").fill("/healthz")
    console.get_by_label("API 密钥").fill(key)
    console.get_by_test_id("try-send").click()
    expect(console.get_by_test_id("try-status")).to_have_text("200")
    expect(console.get_by_test_id("try-body-out")).to_contain_text("ok")

    page.reload()
    expect(page.get_by_test_id("usage")).to_contain_text("1")
    expect(page.get_by_test_id("usage-chart").locator("canvas")).to_have_count(1)
    expect(page.get_by_test_id("quota")).to_contain_text("已用 1 /")


def test_the_api_catalog_reads_searches_and_shows_a_service(page: Page, server: LiveServer) -> None:
    admin = server.login("admin")
    sign_in(page, admin.login, admin.password)
    page.goto("/developer/apis")
    page.get_by_test_id("refresh").click()
    expect(page.get_by_text("个服务的文档")).to_be_visible()
    campus = page.get_by_test_id("source-campus")
    expect(campus).to_contain_text("校园平台")

    page.get_by_label("搜索接口").fill("/api/v1/gateway/apps")
    page.get_by_role("button", name="搜索").click()
    results = page.get_by_test_id("results")
    expect(results.locator("a", has_text="/api/v1/gateway/apps").first).to_be_visible()

    campus.get_by_role("link").first.click()
    expect(page.get_by_test_id("versions").locator("a")).not_to_have_count(0)
    expect(page.get_by_text("/api/v1/gateway/apis/search")).to_be_visible()
    expect(page.get_by_test_id("download")).to_have_attribute("href", re.compile(r"openapi\.json"))
