"""CAS ticket validation endpoints (called by the services' back ends) and the JSON API of the
CAS service registry (/api/v1/auth/cas/...).

Validation endpoints answer every outcome with the protocol's own document (CAS 1.0 text, or
``cas:serviceResponse`` XML / JSON), never problem+json: a CAS client can only read those.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.datastructures import QueryParams

from campus.kernel import clock
from campus.kernel.deps import ReadSessionDep, RuntimeDep, SessionDep
from campus.kernel.errors import NotFound
from campus.kernel.i18n import _
from campus.kernel.pagination import Page, PageParamsDep
from campus.platform.access.service import public, require
from campus.platform.auth.cas import actions, attributes, protocol, queries, urls
from campus.platform.auth.cas.protocol import Code, Failure, Format, Success
from campus.platform.auth.cas.schemas import (
    AttributeOut,
    CasServiceIn,
    CasServiceOut,
    CasServicePatch,
    ServiceMatch,
)
from campus.platform.auth.permissions import CAS_MANAGE, CAS_READ

router = APIRouter(tags=["auth-cas"])
SAML_VALIDATE = "/cas/samlValidate"
# A back end posts its SOAP request without a browser's CSRF token; the ticket authenticates it.
CSRF_EXEMPT = (SAML_VALIDATE,)


def flag(value: str | None) -> bool:
    """A CAS flag parameter (renew, gateway) is set unless absent or explicitly false."""
    return value is not None and value.strip().lower() not in ("false", "0", "no")


def response_format(value: str | None) -> Format | Failure:
    if value is None or value.upper() == Format.XML:
        return Format.XML
    if value.upper() == Format.JSON:
        return Format.JSON
    return Failure(Code.INVALID_REQUEST, str(_("不支持的 format：{value}", value=value[:20])))


def _validation_request(
    params: QueryParams, endpoint: str, *, proxies: bool
) -> actions.ValidationRequest | Failure:
    ticket, service = params.get("ticket"), params.get("service")
    if not ticket or not service:
        return Failure(Code.INVALID_REQUEST, str(_("必须同时提供 ticket 和 service 参数")))
    return actions.ValidationRequest(
        endpoint=endpoint,
        ticket=ticket,
        service_url=service,
        renew=flag(params.get("renew")),
        accept_proxy_tickets=proxies,
    )


async def _refused(rt: RuntimeDep, params: QueryParams, endpoint: str, failure: Failure) -> None:
    """Audit a request refused before its ticket was looked at."""
    ticket, service = params.get("ticket") or "", params.get("service") or ""
    async with rt.db.transaction() as session:
        actions.audit_failure(session, endpoint, ticket, service, failure)


async def _validation_response(
    request: Request, rt: RuntimeDep, endpoint: str, *, proxies: bool, with_attributes: bool
) -> Response:
    params = request.query_params
    fmt = response_format(params.get("format"))
    if isinstance(fmt, Failure):
        await _refused(rt, params, endpoint, fmt)
        return protocol.respond(fmt, Format.XML)
    check = _validation_request(params, endpoint, proxies=proxies)
    if isinstance(check, Failure):
        await _refused(rt, params, endpoint, check)
        return protocol.respond(check, fmt)
    result = await actions.validate(rt.db, check)
    if isinstance(result, Failure):
        return protocol.respond(result, fmt)
    return protocol.respond(await _success(rt, result, params.get("pgtUrl"), with_attributes), fmt)


async def _success(
    rt: RuntimeDep, validated: actions.Validated, pgt_url: str | None, with_attributes: bool
) -> Success | Failure:
    ticket = validated.ticket
    iou = None
    if pgt_url:
        granted = await actions.grant_proxy(rt, validated, pgt_url)
        if isinstance(granted, Failure):
            return granted
        iou = granted
    released = None
    if with_attributes:
        released = protocol.standard_attributes(
            ticket.authenticated_at, ticket.long_term, ticket.from_new_login
        )
        async with rt.db.read() as session:
            released |= await attributes.released(
                session, ticket.person_id, validated.service.released_attributes
            )
    return Success(user=ticket.user, attributes=released, pgt_iou=iou, proxies=list(ticket.proxies))


@router.get("/cas/validate", dependencies=[public()], summary="CAS 1.0 票据校验（纯文本）")
async def validate_cas1(request: Request, rt: RuntimeDep) -> Response:
    check = _validation_request(request.query_params, "validate", proxies=False)
    if isinstance(check, Failure):
        await _refused(rt, request.query_params, "validate", check)
        return protocol.cas1_text(None)
    result = await actions.validate(rt.db, check)
    return protocol.cas1_text(None if isinstance(result, Failure) else result.ticket.user)


@router.get("/cas/serviceValidate", dependencies=[public()], summary="CAS 2.0 服务票据校验")
async def service_validate(request: Request, rt: RuntimeDep) -> Response:
    return await _validation_response(
        request, rt, "serviceValidate", proxies=False, with_attributes=False
    )


@router.get("/cas/proxyValidate", dependencies=[public()], summary="CAS 2.0 服务/代理票据校验")
async def proxy_validate(request: Request, rt: RuntimeDep) -> Response:
    return await _validation_response(
        request, rt, "proxyValidate", proxies=True, with_attributes=False
    )


@router.get(
    "/cas/p3/serviceValidate", dependencies=[public()], summary="CAS 3.0 服务票据校验（含属性）"
)
async def p3_service_validate(request: Request, rt: RuntimeDep) -> Response:
    return await _validation_response(
        request, rt, "p3/serviceValidate", proxies=False, with_attributes=True
    )


@router.get(
    "/cas/p3/proxyValidate", dependencies=[public()], summary="CAS 3.0 服务/代理票据校验（含属性）"
)
async def p3_proxy_validate(request: Request, rt: RuntimeDep) -> Response:
    return await _validation_response(
        request, rt, "p3/proxyValidate", proxies=True, with_attributes=True
    )


@router.post(
    SAML_VALIDATE,
    dependencies=[public()],
    summary="CAS 3.0 SAML 1.1 服务票据校验（含属性）",
    response_class=Response,
)
async def saml_validate(request: Request, rt: RuntimeDep) -> Response:
    """``POST /cas/samlValidate?TARGET=<service>`` with the ticket in a SOAP ``samlp:Request``
    (the Java client's ``Saml11TicketValidator``, python-cas's ``CASClientWithSAMLV1``)."""
    target = request.query_params.get("TARGET") or ""
    parsed = protocol.saml_request(await request.body())
    issuer = request.url.hostname or "campus"
    request_id = parsed.request_id if parsed is not None else None
    if not target or parsed is None:
        failure = Failure(
            Code.INVALID_REQUEST,
            str(_("必须提供 TARGET 参数，并在 SAML 请求中给出 AssertionArtifact（票据）")),
        )
        async with rt.db.transaction() as session:
            actions.audit_failure(session, "samlValidate", "", target, failure)
        return protocol.saml_response(failure, target, issuer, request_id, clock.now())
    check = actions.ValidationRequest(
        endpoint="samlValidate",
        ticket=parsed.ticket,
        service_url=target,
        renew=flag(request.query_params.get("renew")),
        accept_proxy_tickets=False,
    )
    result = await actions.validate(rt.db, check)
    answer = (
        result
        if isinstance(result, Failure)
        else await _success(rt, result, None, with_attributes=True)
    )
    return protocol.saml_response(answer, target, issuer, request_id, clock.now())


@router.get("/cas/proxy", dependencies=[public()], summary="用代理授权票据（PGT）换取代理票据")
async def proxy(request: Request, session: SessionDep, rt: RuntimeDep) -> Response:
    params = request.query_params
    fmt = response_format(params.get("format"))
    pgt, target = params.get("pgt"), params.get("targetService")
    result = (
        fmt
        if isinstance(fmt, Failure)
        else await actions.do_issue_proxy_ticket(session, rt, pgt, target)
    )
    if isinstance(result, Failure):
        actions.audit_failure(session, "proxy", pgt or "", target or "", result)
    return protocol.respond_proxy(result, Format.XML if isinstance(fmt, Failure) else fmt)


# ---------------------------------------------------------------- the registry (JSON API)

API = "/api/v1/auth/cas"


@router.get(
    f"{API}/services",
    response_model=Page[CasServiceOut],
    dependencies=[require(CAS_READ)],
    summary="CAS 应用列表",
)
async def list_services(
    session: ReadSessionDep,
    paging: PageParamsDep,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> Page[CasServiceOut]:
    return await queries.services_page(session, paging, q.strip() if q else None)


@router.get(
    f"{API}/services/match",
    response_model=ServiceMatch,
    dependencies=[require(CAS_READ)],
    summary="某个网址属于哪个已注册应用（与 /cas/login 的判断相同）",
)
async def match_service(
    session: ReadSessionDep, url: Annotated[str, Query(min_length=1, max_length=2048)]
) -> ServiceMatch:
    return ServiceMatch(
        url=url,
        acceptable=urls.canonical_url(url) is not None,
        service=await queries.service_for_url(session, url),
    )


@router.get(
    f"{API}/attributes",
    response_model=list[AttributeOut],
    dependencies=[require(CAS_READ)],
    summary="可释放给应用的属性",
)
async def list_attributes() -> list[AttributeOut]:
    return attributes.catalog()


@router.get(
    f"{API}/services/{{service_id}}",
    response_model=CasServiceOut,
    dependencies=[require(CAS_READ)],
    summary="一个 CAS 应用",
)
async def get_service(service_id: int, session: ReadSessionDep) -> CasServiceOut:
    service = await queries.get_service(session, service_id)
    if service is None:
        raise NotFound(_("CAS 应用 {id} 不存在", id=service_id))
    return service


@router.post(
    f"{API}/services",
    response_model=CasServiceOut,
    status_code=201,
    dependencies=[require(CAS_MANAGE)],
    summary="注册 CAS 应用",
)
async def create_service(body: CasServiceIn, session: SessionDep) -> CasServiceOut:
    return await actions.do_create_service(session, body)


@router.patch(
    f"{API}/services/{{service_id}}",
    response_model=CasServiceOut,
    dependencies=[require(CAS_MANAGE)],
    summary="修改 CAS 应用",
)
async def update_service(
    service_id: int, body: CasServicePatch, session: SessionDep
) -> CasServiceOut:
    return await actions.do_update_service(session, service_id, body)


@router.delete(
    f"{API}/services/{{service_id}}",
    status_code=204,
    dependencies=[require(CAS_MANAGE)],
    summary="删除 CAS 应用（其未用票据随之作废）",
)
async def delete_service(service_id: int, session: SessionDep) -> Response:
    await actions.do_delete_service(session, service_id)
    return Response(status_code=204)
