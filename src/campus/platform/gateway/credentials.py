"""Who is calling: an API key (header ``apikey``), an HMAC signature (``Authorization: hmac
…``, Kong's format) or an OAuth 2 bearer token from the identity center (``Authorization:
Bearer …``, its client bound to a consumer), against this process's configuration snapshot.

The HMAC signing string is ``date: <Date>\\n<METHOD> <path?query> HTTP/1.1\\ndigest: SHA-256=<b64>``
with the headers named ``date request-line digest``; the ``Date`` must be within
CLOCK_SKEW_SECONDS of the gateway's clock, the ``Digest`` must be the body's, and a signature
seen once is refused for the rest of the window (in the shared cache).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from email.utils import parsedate_to_datetime

from campus.kernel import clock
from campus.kernel.cache import Cache
from campus.kernel.errors import Unauthenticated
from campus.kernel.i18n import _
from campus.kernel.runtime import Runtime
from campus.platform.auth.oidc import service as oidc
from campus.platform.gateway.actions import hash_key
from campus.platform.gateway.snapshot import Snapshot

KEY_HEADER = "apikey"
CLOCK_SKEW_SECONDS = 300
SIGNED_HEADERS = "date request-line digest"
ALGORITHMS = {"hmac-sha256": hashlib.sha256, "hmac-sha512": hashlib.sha512}
PARAM = re.compile(r'(\w+)="([^"]*)"')


def by_key(snapshot: Snapshot, key: str) -> str:
    consumer = snapshot.keys.get(hash_key(key.strip()))
    if consumer is None:
        raise Unauthenticated(_("API 密钥无效或已吊销"))
    return consumer


async def by_bearer(rt: Runtime, snapshot: Snapshot, token: str, issuer: str) -> str:
    """The consumer bound to the client of a valid access token (checked as the site's
    ``gateway_token_check`` says: locally, or by introspection)."""
    introspect = rt.settings.gateway_token_check == "introspect"  # noqa: S105 (a mode)
    claims = await oidc.token_claims(rt, issuer, token, introspect=introspect)
    if claims is None:
        raise Unauthenticated(_("访问令牌无效、已过期或已吊销"))
    consumer = snapshot.clients.get(str(claims.get("client_id", "")))
    if consumer is None:
        raise Unauthenticated(_("该令牌所属的客户端没有绑定网关消费者"))
    return consumer


def body_digest(body: bytes) -> str:
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()


def signing_string(method: str, target: str, date: str, digest: str) -> str:
    return f"date: {date}\n{method} {target} HTTP/1.1\ndigest: {digest}"


def sign(secret: str, text: str, algorithm: str = "hmac-sha256") -> str:
    mac = hmac.new(secret.encode(), text.encode(), ALGORITHMS[algorithm])
    return base64.b64encode(mac.digest()).decode()


async def by_signature(
    snapshot: Snapshot,
    cache: Cache,
    authorization: str,
    request: tuple[str, str, str | None, str | None, bytes],
) -> str:
    """The consumer of a valid, fresh, first-seen signature; ``request`` is (method, path with
    query, Date, Digest, body)."""
    method, target, date, digest, body = request
    params = dict(PARAM.findall(authorization))
    key_id, algorithm = params.get("username", ""), params.get("algorithm", "")
    found = snapshot.hmac.get(key_id)
    if found is None or algorithm not in ALGORITHMS:
        raise Unauthenticated(_("HMAC 签名的密钥 id 无效或已吊销"))
    if params.get("headers") != SIGNED_HEADERS:
        raise Unauthenticated(_("HMAC 签名须覆盖 {h}", h=SIGNED_HEADERS))
    _check_date(date)
    if digest is None or not hmac.compare_digest(digest, body_digest(body)):
        raise Unauthenticated(_("Digest 请求头与请求体不符"))
    expected = sign(found[1], signing_string(method, target, date or "", digest), algorithm)
    signature = params.get("signature", "")
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        raise Unauthenticated(_("HMAC 签名不正确"))
    seen = f"gw:hmac-seen:{hashlib.sha256(signature.encode()).hexdigest()}"
    if not await cache.set_if_absent(seen, b"1", ttl=2 * CLOCK_SKEW_SECONDS):
        raise Unauthenticated(_("该签名已使用过，请重新签名"))
    return found[0]


def _check_date(date: str | None) -> None:
    try:
        sent = parsedate_to_datetime(date or "")
    except (TypeError, ValueError):
        sent = None
    if sent is None or sent.tzinfo is None:
        raise Unauthenticated(_("缺少或无法识别 Date 请求头"))
    if abs((clock.now() - sent).total_seconds()) > CLOCK_SKEW_SECONDS:
        raise Unauthenticated(_("Date 与网关时间相差超过 {n} 秒", n=CLOCK_SKEW_SECONDS))
