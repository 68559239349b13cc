"""Subscription push in a real browser: an editor of 教务处 (the demo staff login) publishes a
post from the editor page; a student with the feed open on a phone sees it appear, pushed over
the live stream, without reloading. 教务处 is mandatory for every student, so the frame is the
campus-wide one that each page filters by the accounts it follows."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import sign_in
from tests.e2e.live import LiveServer

pytestmark = pytest.mark.browser

TITLE = "浏览器测试：补考安排已发布"
# Marks the page's live stream as open (init scripts run before the page's own, CSP aside).
WATCH_STREAM = """
(() => {
  const Native = window.EventSource;
  if (!Native) return;
  window.__liveOpen = false;
  window.EventSource = function (url, options) {
    const source = new Native(url, options);
    source.addEventListener("open", () => { window.__liveOpen = true; });
    return source;
  };
  window.EventSource.prototype = Native.prototype;
  window.EventSource.CONNECTING = Native.CONNECTING;
  window.EventSource.OPEN = Native.OPEN;
  window.EventSource.CLOSED = Native.CLOSED;
})();
"""


def test_an_editor_publishes_and_a_subscriber_sees_it_pushed(
    page: Page, phone_page: Page, server: LiveServer
) -> None:
    student = server.login("student")
    phone_page.add_init_script(WATCH_STREAM)
    sign_in(phone_page, student.login, student.password)
    phone_page.goto("/messaging/feed")
    feed = phone_page.get_by_test_id("feed")
    expect(feed.get_by_test_id("post-card").first).to_be_visible()  # the seeded posts
    expect(feed.get_by_test_id("post-card").filter(has_text=TITLE)).to_have_count(0)
    phone_page.wait_for_function("window.__liveOpen === true")
    phone_page.evaluate("window.__notReloaded = true")

    editor = server.login("staff")
    sign_in(page, editor.login, editor.password)
    page.goto("/messaging/accounts")
    page.get_by_test_id("studio-link").filter(has_text="教务处").click()
    page.get_by_test_id("write-post").click()
    page.get_by_test_id("post-title-input").fill(TITLE)
    page.get_by_test_id("post-summary-input").fill("请于本周五前确认补考科目。")
    page.get_by_test_id("post-body-input").fill("补考时间见**教务系统**。")
    page.get_by_test_id("action-publish").check()
    page.get_by_test_id("save-post").click()
    expect(page.get_by_test_id("post-heading")).to_have_text(TITLE)

    card = feed.get_by_test_id("post-card").filter(has_text=TITLE)
    expect(card).to_be_visible()
    expect(feed.get_by_test_id("post-card").first).to_contain_text(TITLE)  # at the top
    assert phone_page.evaluate("window.__notReloaded") is True
    card.get_by_test_id("post-title").click()
    expect(phone_page.get_by_test_id("post-body").locator("strong")).to_have_text("教务系统")
    # Two unique readers: the editor (shown the post once published) and the student.
    expect(phone_page.get_by_test_id("read-count")).to_contain_text("阅读 2")
