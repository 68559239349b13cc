"""The sensitive-word filter: administrators' words compiled into one Aho-Corasick automaton
per process, rebuilt when the word list's version in the shared cache changes (any process
that edits the list bumps it after its commit), so a text is screened in one pass whatever
the number of words."""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass
from typing import Any

import ahocorasick
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import runtime
from campus.kernel.cache import Cache
from campus.kernel.errors import InvalidInput
from campus.kernel.i18n import _
from campus.platform.messaging.moderation.models import SensitiveWord
from campus.platform.messaging.moderation.schemas import Screened

VERSION_KEY = "msg:words:version"
MASK = "＊"


@dataclass(frozen=True)
class Compiled:
    version: bytes | None
    automaton: Any  # ahocorasick.Automaton, or None when there are no words


_compiled: Compiled | None = None


def fold(text: str) -> str:
    """The text as the filter compares it: full-width forms and case folded, one character
    for one character, so that positions in the folded text are positions in the original."""
    out = []
    for ch in text:
        folded = unicodedata.normalize("NFKC", ch).lower()
        out.append(folded if len(folded) == 1 else ch)
    return "".join(out)


def build(words: list[tuple[str, str]]) -> Any:
    if not words:
        return None
    automaton = ahocorasick.Automaton()
    for word, level in words:
        automaton.add_word(word, (word, level))
    automaton.make_automaton()
    return automaton


async def _automaton(session: AsyncSession, cache: Cache) -> Any:
    global _compiled
    version = await cache.get(VERSION_KEY)
    if _compiled is None or _compiled.version != version:
        rows = (await session.execute(select(SensitiveWord.word, SensitiveWord.level))).all()
        _compiled = Compiled(version, build([(w, lvl) for w, lvl in rows]))
    return _compiled.automaton


def screen_with(automaton: Any, text: str) -> Screened:
    if automaton is None or not text:
        return Screened(ok=True, text=text, hits=[])
    chars = list(text)
    hits: dict[str, str] = {}
    for end, (word, level) in automaton.iter(fold(text)):
        hits.setdefault(word, level)
        for i in range(end - len(word) + 1, end + 1):
            chars[i] = MASK
    blocked = any(level == "block" for level in hits.values())
    return Screened(ok=not blocked, text="".join(chars), hits=list(hits))


async def screen_text(session: AsyncSession, text: str) -> Screened:
    automaton = await _automaton(session, runtime.current().cache)
    return screen_with(automaton, text)


async def check_clean(session: AsyncSession, text: str, field: str) -> None:
    """A 422 naming ``field`` when the text holds a blocking word; mask-level words pass."""
    await clean_text(session, text, field)


async def clean_text(session: AsyncSession, text: str, field: str) -> str:
    """The text to store, mask-level words masked; a 422 naming ``field`` when it holds a
    blocking word (one pass for both)."""
    automaton = await _automaton(session, runtime.current().cache)
    if automaton is None:
        return text
    found = screen_with(automaton, text)
    if not found.ok:
        blocking = [w for w in found.hits if _level(automaton, w) == "block"]
        raise InvalidInput.on(field, _("包含不允许发布的词语：{words}", words="、".join(blocking)))
    return found.text


def _level(automaton: Any, word: str) -> str:
    return str(automaton.get(word)[1])


async def bump_version(cache: Cache) -> None:
    """Tell every process to rebuild (a fresh token, so a restarted cache also differs)."""
    await cache.set(VERSION_KEY, secrets.token_hex(8).encode())
