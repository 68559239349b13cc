"""Anonymous display: an anonymous author is shown as 匿名同学 with a pseudonym that is the same
for one person throughout one post's thread (so a conversation can be followed) and unrelated
between posts (so posts cannot be linked to each other). It is derived with a keyed hash from
the site's secret, the post and the person: nobody without the secret can reverse it."""

from __future__ import annotations

import hashlib
import hmac

from campus.kernel import runtime
from campus.kernel.i18n import _

COLOURS = (
    "红", "橙", "黄", "绿", "青", "蓝", "紫", "白", "黑", "灰", "金", "银",
    "粉", "棕", "墨", "靛",
)  # fmt: skip
ANIMALS = (
    "熊猫", "海豚", "松鼠", "狐狸", "企鹅", "考拉", "兔子", "鲸鱼", "猫头鹰", "刺猬",
    "水獭", "小鹿", "仓鼠", "柴犬", "海豹", "孔雀", "白鹭", "浣熊", "羊驼", "锦鲤",
)  # fmt: skip


def _secret() -> bytes:
    return runtime.current().settings.secret_key.encode()


def pseudonym(post_id: int, person_id: int) -> str:
    """E.g. 匿名同学·蓝海豚07, stable for this person within this post (6,400 names: two
    people in one thread of twenty anonymous writers share one about three times in 100)."""
    digest = hmac.new(_secret(), f"cmty:{post_id}:{person_id}".encode(), hashlib.sha256).digest()
    colour = COLOURS[digest[0] % len(COLOURS)]
    animal = ANIMALS[int.from_bytes(digest[1:3], "big") % len(ANIMALS)]
    number = digest[3] % 20
    return f"{_('匿名同学')}·{colour}{animal}{number:02d}"
