"""The CAS wire formats: the ``cas:serviceResponse`` document of CAS 2.0/3.0 (XML, or JSON when
``format=JSON``), the CAS 1.0 text answer, the SAML 1.1 request and response of
``/samlValidate`` and the SAML ``LogoutRequest`` of single logout.

Follows the CAS Protocol 3.0 specification (Apereo, version 3.0.3): section 4 and Appendix A
(schema), Appendix C (logout document).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from lxml import etree
from starlette.responses import Response

CAS_NAMESPACE = "http://www.yale.edu/tp/cas"
XML_MEDIA_TYPE = "application/xml; charset=utf-8"
JSON_MEDIA_TYPE = "application/json"
TEXT_MEDIA_TYPE = "text/plain; charset=utf-8"
SOAP_MEDIA_TYPE = "text/xml; charset=utf-8"
SOAP_NAMESPACE = "http://schemas.xmlsoap.org/soap/envelope/"
SAML1_PROTOCOL = "urn:oasis:names:tc:SAML:1.0:protocol"
SAML1_ASSERTION = "urn:oasis:names:tc:SAML:1.0:assertion"
# The namespace CAS servers give the attributes of a SAML 1.1 answer.
SAML1_ATTRIBUTE_NAMESPACE = "http://www.ja-sig.org/products/cas/"
# How long a SAML 1.1 assertion may be relied on after it is issued (its Conditions).
SAML1_ASSERTION_SECONDS = 30
# A SAML request is a few hundred bytes; anything much larger is not one.
SAML1_REQUEST_MAX_BYTES = 16384
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


# ---------------------------------------------------------------- SAML 1.1 (/samlValidate)


@dataclass(frozen=True)
class SamlRequest:
    ticket: str
    request_id: str | None


def saml_request(body: bytes) -> SamlRequest | None:
    """The ticket of a ``/samlValidate`` request: the ``samlp:AssertionArtifact`` of the
    ``samlp:Request`` in the SOAP body; None when the body is not such a document. Entities
    are not resolved and nothing is fetched (the body comes from anyone)."""
    if not body or len(body) > SAML1_REQUEST_MAX_BYTES:
        return None
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False
    )
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError:
        return None
    request = root.find(f".//{{{SAML1_PROTOCOL}}}Request")
    artifact = (
        request.find(f"{{{SAML1_PROTOCOL}}}AssertionArtifact") if request is not None else None
    )
    ticket = (artifact.text or "").strip() if artifact is not None else ""
    if request is None or not ticket:
        return None
    return SamlRequest(ticket=ticket, request_id=request.get("RequestID"))


def _saml_id() -> str:
    return "_" + secrets.token_hex(16)


def _instant(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _saml_subject(user: str) -> str:
    return (
        f"<Subject><NameIdentifier>{escape(user)}</NameIdentifier><SubjectConfirmation>"
        "<ConfirmationMethod>urn:oasis:names:tc:SAML:1.0:cm:artifact</ConfirmationMethod>"
        "</SubjectConfirmation></Subject>"
    )


def _saml_assertion(result: Success, target: str, issuer: str, now: datetime) -> str:
    attributes = "".join(
        f"<Attribute AttributeName={quoteattr(name)} "
        f"AttributeNamespace={quoteattr(SAML1_ATTRIBUTE_NAMESPACE)}>"
        + "".join(f"<AttributeValue>{escape(value)}</AttributeValue>" for value in values)
        + "</Attribute>"
        for name, values in (result.attributes or {}).items()
    )
    authenticated = (result.attributes or {}).get("authenticationDate", [_instant(now)])[0]
    subject = _saml_subject(result.user)
    until = _instant(now + timedelta(seconds=SAML1_ASSERTION_SECONDS))
    return (
        f'<Assertion xmlns="{SAML1_ASSERTION}" AssertionID="{_saml_id()}" '
        f'IssueInstant="{_instant(now)}" Issuer={quoteattr(issuer)} MajorVersion="1" '
        'MinorVersion="1">'
        f'<Conditions NotBefore="{_instant(now)}" NotOnOrAfter="{until}">'
        f"<AudienceRestrictionCondition><Audience>{escape(target)}</Audience>"
        "</AudienceRestrictionCondition></Conditions>"
        f"<AttributeStatement>{subject}{attributes}</AttributeStatement>"
        f"<AuthenticationStatement AuthenticationInstant={quoteattr(authenticated)} "
        'AuthenticationMethod="urn:oasis:names:tc:SAML:1.0:am:password">'
        f"{subject}</AuthenticationStatement></Assertion>"
    )


def saml_response(
    result: Success | Failure, target: str, issuer: str, request_id: str | None, now: datetime
) -> Response:
    """The SOAP envelope of a SAML 1.1 ``Response``: ``samlp:Success`` with the assertion,
    ``samlp:Requester`` for a request that is not one, ``samlp:Responder`` for a ticket
    that does not validate (its message says why)."""
    if isinstance(result, Failure):
        status = "samlp:Requester" if result.code is Code.INVALID_REQUEST else "samlp:Responder"
        body = (
            f'<Status><StatusCode Value="{status}"/>'
            f"<StatusMessage>{escape(result.description)}</StatusMessage></Status>"
        )
    else:
        body = '<Status><StatusCode Value="samlp:Success"/></Status>' + _saml_assertion(
            result, target, issuer, now
        )
    in_response = f" InResponseTo={quoteattr(request_id)}" if request_id else ""
    document = (
        f'<SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP_NAMESPACE}"><SOAP-ENV:Header/><SOAP-ENV:Body>'
        f'<Response xmlns="{SAML1_PROTOCOL}" xmlns:samlp="{SAML1_PROTOCOL}" '
        f'IssueInstant="{_instant(now)}" MajorVersion="1" MinorVersion="1" '
        f'Recipient={quoteattr(target)} ResponseID="{_saml_id()}"{in_response}>'
        f"{body}</Response></SOAP-ENV:Body></SOAP-ENV:Envelope>\n"
    )
    return Response(document, media_type=SOAP_MEDIA_TYPE, headers=NO_STORE)
