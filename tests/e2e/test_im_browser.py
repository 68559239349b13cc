"""Instant messaging in a real browser: a student on a phone and their counselor at a desk
chat live over the WebSocket — typing indicator, delivery both ways, the read receipt, a
recall — and a message sent while the student's page is closed is there when it reopens."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import sign_in
from tests.e2e.live import LiveServer

pytestmark = pytest.mark.browser

# A 1×1 transparent PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000b49444154789c6360000200000500017a5eab3f0000000049454e44ae426082"
)


def open_chat_with(page: Page, name: str) -> None:
    page.goto("/messaging/im")
    page.get_by_test_id("chat-row").filter(has_text=name).first.click()
    expect(page.get_by_test_id("chat-title")).to_contain_text(name)
    expect(page.get_by_test_id("connection-state")).to_be_hidden()


def test_two_people_chat_live(page: Page, phone_page: Page, server: LiveServer) -> None:
    student = server.login("student")
    counselor = server.login("counselor")
    sign_in(phone_page, student.login, student.password)
    sign_in(page, counselor.login, counselor.password)
    open_chat_with(phone_page, counselor.name)
    open_chat_with(page, student.name)
    expect(page.get_by_test_id("peer-online")).to_be_visible()

    box = phone_page.get_by_test_id("message-input")
    box.fill("老师，明天的班会我可能会晚到十分钟")
    expect(page.get_by_test_id("typing")).to_contain_text(f"{student.name} 正在输入")
    box.press("Enter")
    mine = phone_page.get_by_test_id("message").filter(has_text="晚到十分钟")
    expect(mine).to_be_visible()
    expect(page.get_by_test_id("message-text").filter(has_text="晚到十分钟")).to_be_visible()
    # The counselor's page is open and visible: the student sees it read.
    expect(mine.get_by_test_id("read-label")).to_have_text("已读")

    page.get_by_test_id("emoji").click()
    page.get_by_role("button", name="👍").click()
    page.get_by_test_id("message-input").type(" 没关系")
    page.get_by_test_id("send").click()
    expect(phone_page.get_by_test_id("message-text").filter(has_text="👍 没关系")).to_be_visible()

    box.fill("发错了")
    box.press("Enter")
    wrong = phone_page.get_by_test_id("message").filter(has_text="发错了")
    expect(wrong).to_be_visible()
    expect(page.get_by_test_id("message-text").filter(has_text="发错了")).to_be_visible()
    wrong.get_by_test_id("recall").click()
    expect(
        page.get_by_test_id("recalled").filter(has_text=f"{student.name} 撤回了一条消息")
    ).to_be_visible()
    expect(page.get_by_test_id("message-text").filter(has_text="发错了")).to_have_count(0)
    expect(
        phone_page.get_by_test_id("recalled").filter(has_text="你 撤回了一条消息")
    ).to_be_visible()

    # A picture: uploaded through the file service, then sent as a message referencing it.
    phone_page.get_by_test_id("attach").set_input_files(
        {"name": "课表.png", "mimeType": "image/png", "buffer": PNG}
    )
    picture = page.get_by_test_id("message-image")
    expect(picture).to_be_visible()
    assert picture.evaluate("img => img.naturalWidth") == 1, "the counselor's browser loaded it"

    # The student leaves; a message arrives meanwhile and waits in the chat list.
    phone_page.goto("/messaging/im/contacts")
    page.get_by_test_id("message-input").fill("记得带上学生证")
    page.get_by_test_id("send").click()
    expect(page.get_by_test_id("message").filter(has_text="学生证")).to_be_visible()
    phone_page.goto("/messaging/im")
    row = phone_page.get_by_test_id("chat-row").filter(has_text=counselor.name).first
    expect(row.get_by_test_id("chat-preview")).to_contain_text("学生证")
    expect(row.get_by_test_id("chat-unread")).to_be_visible()
    row.click()
    expect(phone_page.get_by_test_id("message-text").filter(has_text="学生证")).to_be_visible()
    # On a phone the conversation fits the screen: the composer is in view.
    expect(phone_page.get_by_test_id("send")).to_be_in_viewport()
