"""What the modules' catalog tests share: the Chinese messages a module writes, and the English
of its ``locale/en.po``."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from babel.messages.pofile import read_po

# _("…") or _('…') in Python and in templates, the message being its first argument.
MESSAGE = re.compile(r"""\b_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")
HAN = re.compile(r"[\u4e00-\u9fff]")


def messages_in(paths: Iterable[Path]) -> set[str]:
    """The Chinese messages wrapped in ``_()`` in these files."""
    found: set[str] = set()
    for path in paths:
        for double, single in MESSAGE.findall(path.read_text(encoding="utf-8")):
            text = double or single
            if HAN.search(text):
                found.add(text)
    return found


def package_messages(package: Path) -> set[str]:
    """The Chinese messages of a module's Python files and templates."""
    return messages_in([*package.rglob("*.py"), *package.rglob("*.html")])


def catalog(po: Path) -> dict[str, str]:
    """A catalog's translations by message."""
    with po.open("rb") as fh:
        return {m.id: m.string for m in read_po(fh, locale="en") if m.id}
