"""Consumers at the gateway: API keys (missing, wrong, revoked), HMAC signatures (good, wrong,
skewed, replayed, body changed), group ACLs and rate limits per route and per consumer."""

from __future__ import annotations

from datetime import timedelta
from email.utils import format_datetime

import httpx
from sqlalchemy import select

from campus.kernel import clock
from campus.kernel.runtime import Runtime
from campus.platform.gateway import credentials, sealed
from campus.platform.gateway.models import GatewayCredential
from tests.platform.gateway.conftest import GW, Setup, Upstreams, echo


async def _protected(setup: Setup, upstreams: Upstreams, **route: object) -> str:
    upstreams.hosts["a.upstream"] = echo
    service = await setup.service()
    await setup.route(service["name"], **route)
    return str(service["name"])


async def test_an_api_key_lets_its_consumer_in_and_stays_at_the_gateway(
    setup: Setup, upstreams: Upstreams, caller: httpx.AsyncClient
) -> None:
    name = await _protected(setup, upstreams)
    consumer = await setup.consumer()
    key = (await setup.credential(consumer["username"]))["key"]
    assert key.startswith("gwk_")
    response = await caller.get(f"/gw/{name}/x", headers={"apikey": key})
    assert response.status_code == 200, response.text
    headers = response.json()["headers"]
    assert "apikey" not in headers
    assert headers["x-consumer-username"] == consumer["username"]
    listed = (await setup.admin.get(f"{GW}/consumers")).json()
    mine = next(c for c in listed if c["username"] == consumer["username"])
    assert "key" not in mine["credentials"][0]  # shown once, never again
    assert key.startswith(mine["credentials"][0]["hint"])


async def test_missing_wrong_and_revoked_keys_are_401(
    setup: Setup, upstreams: Upstreams, caller: httpx.AsyncClient
) -> None:
    name = await _protected(setup, upstreams)
    consumer = await setup.consumer()
    issued = await setup.credential(consumer["username"])
    for headers in ({}, {"apikey": "gwk_not-a-key"}):
        response = await caller.get(f"/gw/{name}/x", headers=headers)
        assert response.status_code == 401, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    revoked = await setup.admin.post(f"{GW}/credentials/{issued['id']}/revoke")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    response = await caller.get(f"/gw/{name}/x", headers={"apikey": issued["key"]})
    assert response.status_code == 401
    assert "吊销" in response.json()["detail"]
    again = await setup.admin.post(f"{GW}/credentials/{issued['id']}/revoke")
    assert again.status_code == 409
    assert upstreams.seen == []


async def test_a_route_open_to_some_groups_refuses_other_consumers_with_403(
    setup: Setup, upstreams: Upstreams, caller: httpx.AsyncClient
) -> None:
    name = await _protected(setup, upstreams, allow_groups=["library", "staff"])
    member = await setup.consumer(groups=["library"])
    outsider = await setup.consumer(groups=["students"])
    member_key = (await setup.credential(member["username"]))["key"]
    outsider_key = (await setup.credential(outsider["username"]))["key"]
    assert (await caller.get(f"/gw/{name}/x", headers={"apikey": member_key})).status_code == 200
    refused = await caller.get(f"/gw/{name}/x", headers={"apikey": outsider_key})
    assert refused.status_code == 403
    assert outsider["username"] in refused.json()["detail"]
    assert len(upstreams.seen) == 1


def _signed(
    key_id: str, secret: str, method: str, target: str, body: bytes, *, at: object = None
) -> dict[str, str]:
    date = format_datetime(at or clock.now(), usegmt=True)  # type: ignore[arg-type]
    digest = credentials.body_digest(body)
    signature = credentials.sign(secret, credentials.signing_string(method, target, date, digest))
    authorization = (
        f'hmac username="{key_id}", algorithm="hmac-sha256", '
        f'headers="date request-line digest", signature="{signature}"'
    )
    return {"Date": date, "Digest": digest, "Authorization": authorization}


async def test_hmac_signatures_good_wrong_skewed_replayed_and_tampered(
    setup: Setup, upstreams: Upstreams, caller: httpx.AsyncClient
) -> None:
    name = await _protected(setup, upstreams)
    consumer = await setup.consumer()
    issued = await setup.credential(consumer["username"], kind="hmac")
    key_id, secret = issued["key_id"], issued["secret"]
    target, body = f"/gw/{name}/orders?page=2", b'{"n":1}'
    good = _signed(key_id, secret, "POST", target, body)
    response = await caller.post(target, content=body, headers=good)
    assert response.status_code == 200, response.text
    seen = response.json()
    assert seen["headers"]["x-consumer-username"] == consumer["username"]
    assert "authorization" not in seen["headers"]

    replayed = await caller.post(target, content=body, headers=good)
    assert replayed.status_code == 401 and "已使用" in replayed.json()["detail"]

    wrong = _signed(key_id, "not-the-secret", "POST", target, body)
    assert (await caller.post(target, content=body, headers=wrong)).status_code == 401
    skewed = _signed(key_id, secret, "POST", target, body, at=clock.now() - timedelta(seconds=301))
    response = await caller.post(target, content=body, headers=skewed)
    assert response.status_code == 401 and "300" in response.json()["detail"]
    fresh = _signed(key_id, secret, "POST", target, body)
    tampered = await caller.post(target, content=b'{"n":2}', headers=fresh)
    assert tampered.status_code == 401 and "Digest" in tampered.json()["detail"]
    other_path = _signed(key_id, secret, "POST", f"/gw/{name}/orders", body)
    assert (await caller.post(target, content=body, headers=other_path)).status_code == 401
    assert len(upstreams.seen) == 1


async def test_an_hmac_secret_is_stored_sealed_and_opens_only_with_the_site_key(
    setup: Setup, upstreams: Upstreams, caller: httpx.AsyncClient, db: Runtime
) -> None:
    name = await _protected(setup, upstreams)
    consumer = await setup.consumer()
    issued = await setup.credential(consumer["username"], kind="hmac")
    key_id, secret = issued["key_id"], issued["secret"]
    async with db.db.read() as session:
        stored = await session.scalar(
            select(GatewayCredential.secret).where(GatewayCredential.key_id == key_id)
        )
    assert stored is not None and stored.startswith(sealed.PREFIX)
    assert secret not in stored
    site_key = db.settings.secret_key
    assert sealed.open_secret(site_key, key_id, stored) == secret
    assert sealed.open_secret("another site key", key_id, stored) is None
    assert sealed.open_secret(site_key, "hmac_other", stored) is None  # bound to its key id
    target = f"/gw/{name}/x"
    signed = await caller.get(target, headers=_signed(key_id, secret, "GET", target, b""))
    assert signed.status_code == 200, signed.text


async def test_over_a_route_limit_is_429_with_retry_after(
    setup: Setup, upstreams: Upstreams, caller: httpx.AsyncClient
) -> None:
    name = await _protected(setup, upstreams, public=True, rate_limit_per_minute=2)
    statuses = [(await caller.get(f"/gw/{name}/x")).status_code for _ in range(2)]
    assert statuses == [200, 200]
    refused = await caller.get(f"/gw/{name}/x")
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert "2" in refused.json()["detail"]
    assert len(upstreams.seen) == 2


async def test_a_consumer_limit_counts_its_calls_on_every_route(
    setup: Setup, upstreams: Upstreams, caller: httpx.AsyncClient
) -> None:
    upstreams.hosts["a.upstream"] = echo
    service = await setup.service()
    await setup.route(service["name"], path_prefix="/a")
    await setup.route(service["name"], path_prefix="/b")
    limited = await setup.consumer(rate_limit_per_minute=3)
    other = await setup.consumer()
    key = {"apikey": (await setup.credential(limited["username"]))["key"]}
    other_key = {"apikey": (await setup.credential(other["username"]))["key"]}
    paths = ["/a", "/b", "/a", "/b"]
    statuses = [
        (await caller.get(f"/gw/{service['name']}{p}", headers=key)).status_code for p in paths
    ]
    assert statuses == [200, 200, 200, 429]
    assert (await caller.get(f"/gw/{service['name']}/a", headers=other_key)).status_code == 200
