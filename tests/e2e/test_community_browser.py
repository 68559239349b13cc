"""The campus community in a real browser, as the mobile app's community tab is used: a student
posts on a phone (with a picture and a preview), a teacher reports the post, the board's
moderator (the counselor moderates 校园生活) hides it from the moderation queue, and the post
is gone from the board."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.domains.community.conftest import png_bytes
from tests.e2e.conftest import DESKTOP, PHONE, _fresh_page, sign_in
from tests.e2e.live import LiveServer

pytestmark = pytest.mark.browser

TITLE = "浏览器测试：出一台九成新的台灯"


@pytest.fixture
def student_phone(browser: Browser, server: LiveServer) -> Iterator[Page]:
    with _fresh_page(
        browser, server, viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2
    ) as fresh:
        yield fresh


@pytest.fixture
def moderator_page(browser: Browser, server: LiveServer) -> Iterator[Page]:
    with _fresh_page(browser, server, viewport=DESKTOP) as fresh:
        yield fresh


def _errors(page: Page) -> list[str]:
    found: list[str] = []
    page.on("pageerror", lambda error: found.append(str(error)))
    page.on("console", lambda m: found.append(m.text) if m.type == "error" else None)
    return found


def _post_on_a_phone(phone: Page) -> str:
    """The student writes the post on 校园生活; its path."""
    phone.goto("/community")
    phone.get_by_test_id("board-link").filter(has_text="校园生活").click()
    phone.get_by_test_id("new-post").click()
    expect(phone.get_by_test_id("post-board").locator("option:checked")).to_have_text("校园生活")
    phone.get_by_test_id("post-title-input").fill(TITLE)
    phone.get_by_test_id("post-body-input").fill("宿舍用的台灯\n详情见 https://example.com/lamp")
    phone.get_by_test_id("preview-button").click()
    expect(phone.get_by_test_id("post-preview").locator("a")).to_have_attribute(
        "href", "https://example.com/lamp"
    )
    phone.get_by_test_id("image-input").set_input_files(
        [{"name": "lamp.png", "mimeType": "image/png", "buffer": png_bytes(8)}]
    )
    expect(phone.get_by_test_id("image-preview")).to_have_count(1)
    phone.get_by_test_id("publish-post").click()
    expect(phone.get_by_test_id("post-heading")).to_have_text(TITLE)
    expect(phone.get_by_test_id("post-images").locator("img")).to_have_count(1)
    overflow = phone.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"the post page scrolls sideways by {overflow}px"
    return phone.url.split(phone.url.split("/community")[0], 1)[1]


def test_a_reported_post_is_hidden_by_the_boards_moderator(
    student_phone: Page, page: Page, moderator_page: Page, server: LiveServer
) -> None:
    problems = _errors(student_phone)
    student = server.login("student")
    sign_in(student_phone, student.login, student.password)
    post_path = _post_on_a_phone(student_phone)

    teacher = server.login("teacher")
    sign_in(page, teacher.login, teacher.password)
    page.goto("/community/b/life?sort=latest")
    page.get_by_test_id("post-row").filter(has_text=TITLE).click()
    expect(page.get_by_test_id("post-heading")).to_have_text(TITLE)
    page.get_by_test_id("report-post").click()
    page.get_by_test_id("report-reason").select_option("垃圾广告")
    page.get_by_test_id("report-detail").fill("商业广告")
    page.get_by_test_id("report-submit").click()
    expect(page.get_by_test_id("alert")).to_contain_text("举报已提交")

    counselor = server.login("counselor")
    sign_in(moderator_page, counselor.login, counselor.password)
    moderator_page.goto("/community")
    moderator_page.get_by_test_id("nav-moderation").click()
    item = moderator_page.get_by_test_id("queue-item").filter(has_text=TITLE)
    expect(item).to_contain_text("垃圾广告：商业广告")
    expect(item).to_contain_text(student.name)  # the moderator sees the real author
    item.get_by_test_id("resolve-remove").click()
    expect(moderator_page.get_by_test_id("alert")).to_contain_text("已隐藏内容")
    expect(moderator_page.get_by_test_id("queue-item").filter(has_text=TITLE)).to_have_count(0)

    student_phone.goto("/community/b/life?sort=latest")
    expect(student_phone.get_by_test_id("post-list")).to_be_visible()
    expect(student_phone.get_by_test_id("post-row").filter(has_text=TITLE)).to_have_count(0)
    # The teacher no longer reaches it; its author sees why it was hidden.
    page.goto(post_path)
    expect(page.locator("main")).to_contain_text("不存在或已删除")
    student_phone.goto(post_path)
    expect(student_phone.get_by_test_id("alert")).to_contain_text("已被版主隐藏")
    assert problems == [], problems
