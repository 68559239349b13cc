"""The CAS wire formats: the ``cas:serviceResponse`` document of CAS 2.0/3.0 (XML, or JSON when
``format=JSON``), the CAS 1.0 text answer and the SAML ``LogoutRequest`` of single logout.

Follows the CAS Protocol 3.0 specification (Apereo, version 3.0.3), Appendix A (schema) and
Appendix C (logout document).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from starlette.responses import Response

CAS_NAMESPACE = "http://www.yale.edu/tp/cas"
XML_MEDIA_TYPE = "application/xml; charset=utf-8"
JSON_MEDIA_TYPE = "application/json"
TEXT_MEDIA_TYPE = "text/plain; charset=utf-8"
# Validation answers are about one ticket: never cached by anyone in between.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class Code(StrEnum):
    """The failure codes of the CAS 3.0 specification (sections 2.5.3 and 2.7.3)."""

    INVALID_REQUEST = "INVALID_REQUEST"
    INVALID_TICKET_SPEC = "INVALID_TICKET_SPEC"
    UNAUTHORIZED_SERVICE_PROXY = "UNAUTHORIZED_SERVICE_PROXY"
    INVALID_PROXY_CALLBACK = "INVALID_PROXY_CALLBACK"
    INVALID_TICKET = "INVALID_TICKET"
    INVALID_SERVICE = "INVALID_SERVICE"
    UNAUTHORIZED_SERVICE = "UNAUTHORIZED_SERVICE"
    INTERNAL_ERROR = "INTERNAL_ERROR"


class Format(StrEnum):
    XML = "XML"
    JSON = "JSON"


@dataclass(frozen=True)
class Failure:
    code: Code
    description: str


@dataclass(frozen=True)
class Success:
    user: str
    # None: no <cas:attributes> (CAS 2.0 endpoints); otherwise name -> values, in order.
    attributes: dict[str, list[str]] | None = None
    pgt_iou: str | None = None
    proxies: list[str] = field(default_factory=list)


def standard_attributes(
    authenticated_at: datetime, long_term: bool, from_new_login: bool
) -> dict[str, list[str]]:
    """The three attributes Appendix A requires first in every ``<cas:attributes>``."""
    return {
        "authenticationDate": [authenticated_at.strftime("%Y-%m-%dT%H:%M:%SZ")],
        "longTermAuthenticationRequestTokenUsed": [_bool(long_term)],
        "isFromNewLogin": [_bool(from_new_login)],
    }


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _element(name: str, text: str) -> str:
    return f"<cas:{name}>{escape(text)}</cas:{name}>"


def _document(body: str) -> str:
    return f'<cas:serviceResponse xmlns:cas="{CAS_NAMESPACE}">{body}</cas:serviceResponse>\n'


def validation_xml(result: Success | Failure) -> str:
    if isinstance(result, Failure):
        return _document(_failure("authenticationFailure", result))
    parts = [_element("user", result.user)]
    if result.attributes is not None:
        values = "".join(
            _element(name, value) for name, items in result.attributes.items() for value in items
        )
        parts.append(f"<cas:attributes>{values}</cas:attributes>")
    if result.pgt_iou:
        parts.append(_element("proxyGrantingTicket", result.pgt_iou))
    if result.proxies:
        proxies = "".join(_element("proxy", url) for url in result.proxies)
        parts.append(f"<cas:proxies>{proxies}</cas:proxies>")
    return _document(f"<cas:authenticationSuccess>{''.join(parts)}</cas:authenticationSuccess>")


def _failure(element: str, failure: Failure) -> str:
    return (
        f"<cas:{element} code={quoteattr(failure.code.value)}>"
        f"{escape(failure.description)}</cas:{element}>"
    )


def validation_json(result: Success | Failure) -> dict[str, Any]:
    if isinstance(result, Failure):
        failure = {"code": result.code.value, "description": result.description}
        return {"serviceResponse": {"authenticationFailure": failure}}
    success: dict[str, Any] = {"user": result.user}
    if result.attributes is not None:
        success["attributes"] = {
            name: items[0] if len(items) == 1 else items
            for name, items in result.attributes.items()
        }
    if result.pgt_iou:
        success["proxyGrantingTicket"] = result.pgt_iou
    if result.proxies:
        success["proxies"] = list(result.proxies)
    return {"serviceResponse": {"authenticationSuccess": success}}


def proxy_xml(result: str | Failure) -> str:
    """``/proxy``'s answer: a proxy ticket, or a ``proxyFailure``."""
    if isinstance(result, Failure):
        return _document(_failure("proxyFailure", result))
    return _document(f"<cas:proxySuccess>{_element('proxyTicket', result)}</cas:proxySuccess>")


def proxy_json(result: str | Failure) -> dict[str, Any]:
    if isinstance(result, Failure):
        failure = {"code": result.code.value, "description": result.description}
        return {"serviceResponse": {"proxyFailure": failure}}
    return {"serviceResponse": {"proxySuccess": {"proxyTicket": result}}}


def respond(result: Success | Failure, fmt: Format) -> Response:
    if fmt is Format.JSON:
        return _json(validation_json(result))
    return Response(validation_xml(result), media_type=XML_MEDIA_TYPE, headers=NO_STORE)


def respond_proxy(result: str | Failure, fmt: Format) -> Response:
    if fmt is Format.JSON:
        return _json(proxy_json(result))
    return Response(proxy_xml(result), media_type=XML_MEDIA_TYPE, headers=NO_STORE)


def _json(body: dict[str, Any]) -> Response:
    content = json.dumps(body, ensure_ascii=False)
    return Response(content, media_type=JSON_MEDIA_TYPE, headers=NO_STORE)


def cas1_text(user: str | None) -> Response:
    """CAS 1.0 ``/validate``: ``yes<LF>user<LF>`` or ``no<LF><LF>``."""
    body = f"yes\n{user}\n" if user is not None else "no\n\n"
    return Response(body, media_type=TEXT_MEDIA_TYPE, headers=NO_STORE)


def logout_request(session_index: str, issued_at: datetime) -> str:
    """The SAML 2.0 ``LogoutRequest`` that single logout posts to a service (Appendix C)."""
    request_id = "LR-" + secrets.token_hex(16)
    instant = issued_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        '<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
        f'ID="{request_id}" Version="2.0" IssueInstant="{instant}">'
        '<saml:NameID xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">@NOT_USED@</saml:NameID>'
        f"<samlp:SessionIndex>{escape(session_index)}</samlp:SessionIndex>"
        "</samlp:LogoutRequest>"
    )
