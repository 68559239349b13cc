"""The public face of moderation, re-exported by ``campus.platform.messaging.service``:

- ``screen_text(session, text) -> Screened``: the sensitive-word filter; ``ok`` is False when a
  blocking word is in the text, ``text`` has every hit masked as ＊ (store that one).
- ``check_clean(session, text, field)``: a 422 problem naming ``field`` when a blocking word is
  in the text (mask-level words pass; screen the text to mask them).
- ``report(session, reporter_id, target_kind, target_id, reason, *, excerpt, link, author_id)``
  queues a report for the moderators (the caller has checked the reporter may see the
  content; ``excerpt`` is what the moderator reads, ``link`` where they open it). Returns the
  report's id; the same person reporting the same content again gets the same id.
- ``is_blocked(session, blocker_id, blocked_id)``: whether ``blocker_id`` blocked the other.

- ``settle_reports(session, moderator_id, target_kind, target_id, action, note)``: the module
  owning the content decided it itself (a board moderator hid a post); the pending shared
  reports on it are closed the same way (audited). Returns the ids closed; none pending: no-op.

When a moderator decides, ``messaging.report.decided`` (``REPORT_DECIDED``, payload
``ReportDecided``) is emitted: the module owning ``target_kind`` takes the content down on
``action == "remove"`` in a handler of its own. ``settle_reports`` emits it too, with
``by_owner=True``: the owner's handler ignores those (it acted already), so nothing loops.
"""

from __future__ import annotations

from campus.platform.messaging.moderation.actions import report, settle_reports
from campus.platform.messaging.moderation.events import REPORT_DECIDED, REPORTED
from campus.platform.messaging.moderation.filter import check_clean, screen_text
from campus.platform.messaging.moderation.queries import is_blocked, retention_days
from campus.platform.messaging.moderation.schemas import ReportDecided, Screened

__all__ = [
    "REPORTED",
    "REPORT_DECIDED",
    "ReportDecided",
    "Screened",
    "check_clean",
    "is_blocked",
    "report",
    "retention_days",
    "screen_text",
    "settle_reports",
]
