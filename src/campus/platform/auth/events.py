"""Events of the authentication center: names and payloads.

``auth.session.ended`` is announced whenever a sign-in session ends (logout, logout
everywhere, a device revoked, expiry, a password reset, an administrator's action), so that
protocols built on the session (CAS single logout, OpenID Connect logout) can follow it.
"""

from __future__ import annotations

from pydantic import BaseModel

SESSION_ENDED = "auth.session.ended"


class SessionEnded(BaseModel):
    session_id: str
    person_id: int
    # logout, logout_everywhere, revoked, expired, relogin, password_changed, password_reset,
    # admin, account_disabled
    reason: str
