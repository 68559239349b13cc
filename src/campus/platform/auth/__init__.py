"""统一认证中心 — the authentication center: password credentials (argon2id), server-side
sessions, the login page, and the signed-in principal of every request."""
