"""Reports, hiding and restoring, bans and the per-board moderation queue."""
