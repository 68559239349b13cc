"""JSON endpoints: the protocol (discovery, JWKS, token, introspection, revocation, userinfo)
and the administrators' API of the client registry and signing keys (/api/v1/auth/oidc/...)."""

from __future__ import annotations

from typing import Annotated, Any

from authlib.oauth2.rfc6749.errors import OAuth2Error
from authlib.oauth2.rfc6750.errors import InsufficientScopeError, InvalidTokenError
from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response

from campus.kernel.deps import ReadSessionDep, SessionDep
from campus.kernel.errors import NotFound
from campus.kernel.i18n import _
from campus.platform.access.service import public, require
from campus.platform.auth.oidc import actions, grants, keys, queries
from campus.platform.auth.oidc.claims import (
    CAMPUS_CLAIMS,
    OPENID,
    STANDARD_CLAIMS,
    SUPPORTED_SCOPES,
    person_claims,
)
from campus.platform.auth.oidc.keys import ALGORITHM
from campus.platform.auth.oidc.protocol import (
    NO_STORE,
    ClientCredentials,
    Provider,
    authenticate_client,
    client_credentials_of,
    error_response,
    record_refusal,
    reject,
)
from campus.platform.auth.oidc.schemas import (
    CLIENT_ID_PATTERN,
    ClientCreate,
    ClientOut,
    ClientUpdate,
    ClientWithSecret,
    KeyOut,
)
from campus.platform.auth.permissions import CLIENT_MANAGE, CLIENT_READ

AUTHORIZE_PATH = "/oauth/authorize"
TOKEN_PATH = "/oauth/token"  # noqa: S105 (a name, not a secret)
USERINFO_PATH = "/oauth/userinfo"
JWKS_PATH = "/oauth/jwks"
INTROSPECT_PATH = "/oauth/introspect"
REVOKE_PATH = "/oauth/revoke"
END_SESSION_PATH = "/oauth/logout"
# Called by other servers, which hold no CSRF cookie and authenticate as clients instead, or
# by a relying party's page (authorization and logout requests may come as forms).
CSRF_EXEMPT = (
    AUTHORIZE_PATH,
    TOKEN_PATH,
    INTROSPECT_PATH,
    REVOKE_PATH,
    USERINFO_PATH,
    END_SESSION_PATH,
)
CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
JWKS_MAX_AGE = 300

protocol = APIRouter(tags=["oidc"])
api = APIRouter(prefix="/api/v1/auth/oidc", tags=["auth-oidc"])

# ---------------------------------------------------------------- discovery and keys


def discovery_document(provider: Provider) -> dict[str, Any]:
    """OpenID Connect Discovery 1.0 §3 (with RFC 8414 fields for introspection and revocation)."""
    return {
        "issuer": provider.issuer,
        "authorization_endpoint": provider.url(AUTHORIZE_PATH),
        "token_endpoint": provider.url(TOKEN_PATH),
        "userinfo_endpoint": provider.url(USERINFO_PATH),
        "jwks_uri": provider.url(JWKS_PATH),
        "end_session_endpoint": provider.url(END_SESSION_PATH),
        "introspection_endpoint": provider.url(INTROSPECT_PATH),
        "revocation_endpoint": provider.url(REVOKE_PATH),
        "scopes_supported": list(SUPPORTED_SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": list(grants.GRANT_TYPES),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [ALGORITHM],
        "token_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "introspection_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS[:2],
        "revocation_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "code_challenge_methods_supported": ["S256"],
        "prompt_values_supported": ["none", "consent"],
        "claims_supported": [
            *STANDARD_CLAIMS,
            *CAMPUS_CLAIMS,
            *("iss", "aud", "exp", "iat", "auth_time", "nonce", "sid", "amr", "azp", "at_hash"),
        ],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "authorization_response_iss_parameter_supported": True,
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "frontchannel_logout_supported": True,
        "frontchannel_logout_session_supported": True,
        "ui_locales_supported": ["zh-CN", "en"],
    }


@protocol.get("/.well-known/openid-configuration", dependencies=[public()])
async def discovery(request: Request) -> JSONResponse:
    return JSONResponse(
        discovery_document(Provider.of(request)),
        headers={"Cache-Control": f"public, max-age={JWKS_MAX_AGE}"},
    )


@protocol.get(JWKS_PATH, dependencies=[public()])
async def jwks(request: Request, session: ReadSessionDep) -> JSONResponse:
    provider = Provider.of(request)
    return JSONResponse(
        await keys.jwks(session, provider.keep_retired_keys),
        headers={"Cache-Control": f"public, max-age={JWKS_MAX_AGE}"},
    )


# ---------------------------------------------------------------- client-authenticated endpoints


async def _authenticated(request: Request, session: SessionDep) -> tuple[Any, ClientCredentials]:
    form = await request.form()
    return form, client_credentials_of(request.headers, form)


@protocol.post(TOKEN_PATH, dependencies=[public()])
async def token(request: Request, session: SessionDep) -> Response:
    """RFC 6749 §3.2 and §5."""
    provider = Provider.of(request)
    credentials: ClientCredentials | None = None
    try:
        form, credentials = await _authenticated(request, session)
        client = await authenticate_client(session, credentials)
        body = await grants.token_response(session, provider, client, form)
    except OAuth2Error as error:
        return reject(session, "token", error, credentials.client_id if credentials else None)
    return JSONResponse(body, headers=NO_STORE)


@protocol.post(INTROSPECT_PATH, dependencies=[public()])
async def introspect(request: Request, session: SessionDep) -> Response:
    """RFC 7662."""
    provider = Provider.of(request)
    credentials: ClientCredentials | None = None
    try:
        form, credentials = await _authenticated(request, session)
        client = await authenticate_client(session, credentials)
        body = await grants.introspection(session, provider, client, form)
    except OAuth2Error as error:
        return reject(session, "introspect", error, credentials.client_id if credentials else None)
    return JSONResponse(body, headers=NO_STORE)


@protocol.post(REVOKE_PATH, dependencies=[public()])
async def revoke(request: Request, session: SessionDep) -> Response:
    """RFC 7009: 200 whether or not the token was valid."""
    provider = Provider.of(request)
    credentials: ClientCredentials | None = None
    try:
        form, credentials = await _authenticated(request, session)
        client = await authenticate_client(session, credentials)
        await grants.revocation(session, provider, client, form)
    except OAuth2Error as error:
        return reject(session, "revoke", error, credentials.client_id if credentials else None)
    return Response(status_code=200, headers=NO_STORE)


# ---------------------------------------------------------------- userinfo


def _bearer(request: Request) -> str | None:
    scheme, _sep, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


@protocol.api_route(USERINFO_PATH, methods=["GET", "POST"], dependencies=[public()])
async def userinfo(request: Request, session: SessionDep) -> Response:
    """OpenID Connect Core §5.3: the claims the token's scopes release about its person."""
    provider = Provider.of(request)
    value = _bearer(request)
    if value is None:
        return Response(
            status_code=401, headers={"WWW-Authenticate": 'Bearer realm="campus"', **NO_STORE}
        )
    live = await grants.live_access_token(session, provider, value)
    if live is None:
        error: OAuth2Error = InvalidTokenError(realm="campus")
        return reject(session, "userinfo", error, None)
    scopes = str(live.claims.get("scope", "")).split()
    if OPENID not in scopes or live.grant.person_id is None:
        error = InsufficientScopeError()
        record_refusal(session, "userinfo", error, live.grant.client_id)
        return error_response(error)
    return JSONResponse(
        await person_claims(session, live.grant.person_id, scopes), headers=NO_STORE
    )


# ---------------------------------------------------------------- the registry API


ClientIdPath = Annotated[str, Path(pattern=CLIENT_ID_PATTERN, max_length=64)]


@api.get("/clients", response_model=list[ClientOut], dependencies=[require(CLIENT_READ)])
async def list_clients(session: ReadSessionDep) -> list[ClientOut]:
    return [ClientOut.model_validate(c) for c in await queries.clients(session)]


@api.post(
    "/clients",
    response_model=ClientWithSecret,
    status_code=201,
    dependencies=[require(CLIENT_MANAGE)],
)
async def create_client(body: ClientCreate, session: SessionDep) -> ClientWithSecret:
    """Register a client. The answer holds its secret, which is never shown again."""
    client, secret = await actions.do_create_client(session, body)
    return ClientWithSecret.model_validate(client).model_copy(update={"client_secret": secret})


@api.get("/clients/{client_id}", response_model=ClientOut, dependencies=[require(CLIENT_READ)])
async def get_client(client_id: ClientIdPath, session: ReadSessionDep) -> ClientOut:
    client = await queries.client(session, client_id)
    if client is None:
        raise NotFound(_("客户端 {id} 不存在", id=client_id))
    return ClientOut.model_validate(client)


@api.patch("/clients/{client_id}", response_model=ClientOut, dependencies=[require(CLIENT_MANAGE)])
async def update_client(
    client_id: ClientIdPath, body: ClientUpdate, session: SessionDep
) -> ClientOut:
    return ClientOut.model_validate(await actions.do_update_client(session, client_id, body))


@api.post(
    "/clients/{client_id}/secret",
    response_model=ClientWithSecret,
    dependencies=[require(CLIENT_MANAGE)],
)
async def new_client_secret(client_id: ClientIdPath, session: SessionDep) -> ClientWithSecret:
    """A new secret for a confidential client; the old one stops working at once."""
    client, secret = await actions.do_new_secret(session, client_id)
    return ClientWithSecret.model_validate(client).model_copy(update={"client_secret": secret})


@api.get("/keys", response_model=list[KeyOut], dependencies=[require(CLIENT_READ)])
async def list_keys(request: Request, session: ReadSessionDep) -> list[KeyOut]:
    provider = Provider.of(request)
    infos = await keys.key_infos(session, provider.keep_retired_keys)
    return [KeyOut.model_validate(info, from_attributes=True) for info in infos]


@api.post(
    "/keys/rotate", response_model=KeyOut, status_code=201, dependencies=[require(CLIENT_MANAGE)]
)
async def rotate_keys(request: Request, session: SessionDep) -> KeyOut:
    """Retire the active signing key and start signing with a new one."""
    provider = Provider.of(request)
    row = await actions.do_rotate_keys(session, provider.secret_key)
    return KeyOut(kid=row.kid, status="active", created_at=row.created_at, retired_at=None)


# One router for the manifest, its routes taken as they are (see campus.kernel.routing).
router = APIRouter()
router.routes.extend([*protocol.routes, *api.routes])
