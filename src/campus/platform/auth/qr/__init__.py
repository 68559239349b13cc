"""扫码登录 — QR-code login: the login page shows a short-lived QR code, a phone already signed
in confirms it, and the desktop browser that asked is signed in without typing a password.

Challenges live in the cache (memory or Redis) and state changes reach the desktop through the
cache's pub/sub as Server-Sent Events."""
