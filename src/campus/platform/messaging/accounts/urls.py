"""Where an account's avatar and a post's files are served (after the object's access check)."""

from __future__ import annotations

FILES_MODULE = "messaging"


def account_key(account_id: int) -> str:
    return f"account:{account_id}"


def post_key(post_id: int) -> str:
    return f"post:{post_id}"


def avatar_url(account_id: int, file_id: str | None) -> str | None:
    return None if not file_id else f"/api/v1/messaging/accounts/{account_id}/avatar?v={file_id}"


def post_file_url(post_id: int, file_id: str | None) -> str | None:
    return None if not file_id else f"/api/v1/messaging/posts/{post_id}/files/{file_id}"


def post_page(post_id: int) -> str:
    return f"/messaging/posts/{post_id}"
