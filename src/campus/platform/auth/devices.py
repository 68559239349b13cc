"""A short, human name for the device behind a User-Agent header ("Chrome · Windows")."""

from __future__ import annotations

import re

from campus.kernel.i18n import gettext

# Order matters: in-app browsers and Chromium derivatives announce Chrome and Safari too.
_BROWSERS: tuple[tuple[str, str], ...] = (
    (r"MicroMessenger", "微信"),
    (r"DingTalk", "钉钉"),
    (r"\bwxwork\b", "企业微信"),
    (r"QQBrowser|MQQBrowser", "QQ浏览器"),
    (r"UCBrowser", "UC浏览器"),
    (r"Edg(e|A|iOS)?/", "Edge"),
    (r"OPR/|Opera", "Opera"),
    (r"Firefox/|FxiOS/", "Firefox"),
    (r"HeadlessChrome", "Chrome (无界面)"),
    (r"Chrome/|CriOS/|Chromium/", "Chrome"),
    (r"Safari/", "Safari"),
    (r"python-httpx|python-requests|curl/|okhttp", "程序客户端"),
)
_SYSTEMS: tuple[tuple[str, str], ...] = (
    (r"HarmonyOS|OpenHarmony", "HarmonyOS"),
    (r"Android", "Android"),
    (r"iPhone|iPad|iPod", "iOS"),
    (r"Windows", "Windows"),
    (r"Mac OS X|Macintosh", "macOS"),
    (r"CrOS", "ChromeOS"),
    (r"Linux", "Linux"),
)


def describe(user_agent: str | None) -> str:
    if not user_agent:
        return gettext("未知设备")
    browser = next((name for pattern, name in _BROWSERS if re.search(pattern, user_agent)), None)
    system = next((name for pattern, name in _SYSTEMS if re.search(pattern, user_agent)), None)
    parts = [gettext(p) for p in (browser, system) if p]
    return " · ".join(parts) if parts else gettext("其他设备")


def is_mobile(user_agent: str | None) -> bool:
    return (
        bool(user_agent) and re.search(r"Mobile|Android|iPhone|iPad", user_agent or "") is not None
    )
