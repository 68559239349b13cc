"""Events moderation emits (public: the modules whose content is reported react to them)."""

from campus.platform.messaging.moderation.schemas import ReportDecided

# A moderator decided the reports on one piece of content; payload ``ReportDecided``. With
# action ``remove`` the owning module takes the content down (the community hides a post,
# chats recall a message); ``dismiss`` leaves it.
REPORT_DECIDED = "messaging.report.decided"
REPORTED = "messaging.report.created"

__all__ = ["REPORTED", "REPORT_DECIDED", "ReportDecided"]
