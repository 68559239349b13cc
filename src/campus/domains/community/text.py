"""Post and comment bodies are plain text: shown with their line breaks, and with web addresses
made into links that open in a new tab and cannot reach back into the page. Everything else is
escaped, so a body can never carry markup."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

# A web address up to the first space, quote, angle bracket or full-width punctuation (Chinese
# text runs on right after an address: "见 https://a.cn/x，谢谢").
URL = re.compile(r"https?://[^\s<>\"'，。；！？、）》」】]+", re.IGNORECASE)
TRAILING = ".,;:!?)]}"


def _link(address: str) -> str:
    shown = escape(address)
    return f'<a href="{shown}" target="_blank" rel="noopener noreferrer nofollow ugc">{shown}</a>'


def render(source: str) -> Markup:
    """The body as safe HTML: escaped, links made clickable, line breaks kept."""
    parts: list[str] = []
    position = 0
    for match in URL.finditer(source or ""):
        address = match.group(0)
        trimmed = address.rstrip(TRAILING)
        parts.append(str(escape(source[position : match.start()])))
        parts.append(_link(trimmed))
        position = match.start() + len(trimmed)
    parts.append(str(escape((source or "")[position:])))
    html = "".join(parts).replace("\r\n", "\n").replace("\n", "<br>\n")
    return Markup(html)  # noqa: S704 (every piece of the source was escaped above)


def excerpt(source: str, length: int = 90) -> str:
    """The first words of a body on one line, for lists."""
    flat = " ".join((source or "").split())
    return flat if len(flat) <= length else flat[: length - 1] + "…"
