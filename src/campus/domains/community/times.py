"""How long ago something happened, as a feed shows it."""

from __future__ import annotations

from datetime import datetime

from campus.kernel import clock
from campus.kernel.i18n import _


def ago(instant: datetime) -> str:
    """How long ago, as a feed shows it: 刚刚, 5 分钟前, 3 小时前, 2 天前, then the date."""
    seconds = (clock.now() - instant).total_seconds()
    if seconds < 60:
        return str(_("刚刚"))
    if seconds < 3600:
        return str(_("{n} 分钟前", n=int(seconds // 60)))
    if seconds < 86400:
        return str(_("{n} 小时前", n=int(seconds // 3600)))
    if seconds < 7 * 86400:
        return str(_("{n} 天前", n=int(seconds // 86400)))
    return clock.fmt(instant, "%Y-%m-%d")
