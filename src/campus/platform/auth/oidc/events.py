"""Events of the OpenID Connect provider."""

from __future__ import annotations

from pydantic import BaseModel

# One relying party is to be told, over its back channel, that a session it took part in ended.
BACKCHANNEL_LOGOUT = "auth.oidc.backchannel_logout"


class BackchannelLogout(BaseModel):
    client_id: str
    issuer: str
    subject: str | None
    sid: str | None
