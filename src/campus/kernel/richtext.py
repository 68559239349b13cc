"""Bodies written by people in Markdown, shown as HTML that cannot carry theirs (notices,
documents, service-account posts…). Raw HTML in the source is escaped, not passed through;
links keep to http(s), mail and same-site paths (markdown-it refuses ``javascript:`` and
``data:`` itself)."""

from __future__ import annotations

from typing import Any

from markdown_it import MarkdownIt
from markupsafe import Markup

SAFE_SCHEMES = ("http://", "https://", "mailto:", "/", "#")


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.validateLink = _safe_link  # type: ignore[method-assign]
    md.add_render_rule("link_open", _link_open)
    return md


def _safe_link(url: str) -> bool:
    return url.strip().lower().startswith(SAFE_SCHEMES)


def _link_open(self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
    # A link in a body leads away from the site: it must not reach back into this page.
    tokens[idx].attrSet("rel", "noopener noreferrer nofollow")
    tokens[idx].attrSet("target", "_blank")
    return str(self.renderToken(tokens, idx, options, env))


_MD = _parser()


def render(source: str) -> Markup:
    """The body as safe HTML (a Markup, so that templates do not escape it twice)."""
    return Markup(_MD.render(source or ""))  # noqa: S704 (raw HTML is escaped by the parser)


def excerpt(source: str, length: int = 80) -> str:
    """The first words of a body as plain text, for lists."""
    text = " ".join((source or "").replace("#", " ").replace("*", " ").split())
    return text if len(text) <= length else text[: length - 1] + "…"
