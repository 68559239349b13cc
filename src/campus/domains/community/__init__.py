"""校园社区 — the campus community: boards configured by administrators, posts with images and
board-specific fields, comments with one level of replies, likes, follows and hot ranking;
real-name accounts behind every post with anonymous display where a board allows it; reports,
the sensitive-word filter and a per-board moderation queue."""
