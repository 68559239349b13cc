"""通知公告: notices addressed to audiences, read receipts."""
