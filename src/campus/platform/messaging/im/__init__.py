"""Instant messaging (即时通讯): one-to-one and group conversations over a WebSocket, with
per-conversation sequence numbers for offline sync, read receipts, recall, typing and
presence; contacts built from one-step relationships (classmates, colleagues, counselor,
townspeople, and providers other modules register); class and section groups kept in step
with their rosters."""
