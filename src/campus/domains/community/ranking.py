"""Hot ranking (热门), Hacker-News style: engagement divided by a power of the post's age, so
that a new post with a few likes passes an old one with many.

    points = likes + 2 × comments + views / 20 + 1
    hot    = points / (age_hours + 2) ^ GRAVITY          (GRAVITY = 2)

Comments weigh twice a like (they take more effort); twenty views weigh one like; the 1 keeps a
fresh post without engagement above nothing. The gravity of 2 (Hacker News uses 1.8) keeps the
score in plain arithmetic — a product, no ``power()`` — so that it is computed in SQL at read
time on any SQLite and on PostgreSQL, always fresh, with nothing to keep updated. Only posts of
the last ``WINDOW_DAYS`` are ranked: older ones would score too low to show anyway, and the
window keeps the ranked set small (``ix_cmty_post_feed`` finds it).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, Float, cast

from campus.domains.community.models import Post

GRAVITY = 2
COMMENT_WEIGHT = 2
VIEWS_PER_LIKE = 20
AGE_OFFSET_HOURS = 2
WINDOW_DAYS = 30
WINDOW = timedelta(days=WINDOW_DAYS)


def points(likes: int, comments: int, views: int) -> float:
    return likes + COMMENT_WEIGHT * comments + views / VIEWS_PER_LIKE + 1


def hot(likes: int, comments: int, views: int, age_hours: float) -> float:
    """The score in Python, as the SQL below computes it (for tests and the docs)."""
    return points(likes, comments, views) / (age_hours + AGE_OFFSET_HOURS) ** GRAVITY


def hot_score(now_ts: int) -> ColumnElement[Any]:
    """The score as a SQL expression, for posts created ``now_ts`` seconds after the epoch."""
    engagement = (
        cast(Post.like_count, Float)
        + COMMENT_WEIGHT * cast(Post.comment_count, Float)
        + cast(Post.view_count, Float) / float(VIEWS_PER_LIKE)
        + 1.0
    )
    age = cast(now_ts - Post.created_ts, Float) / 3600.0 + float(AGE_OFFSET_HOURS)
    return engagement / (age * age)
