"""``POST /cas/samlValidate`` (CAS 3.0, section 4): the SAML 1.1 request as python-cas writes it,
the SOAP answer with the assertion and the released attributes, the same one-use and
same-service rules as the other validation endpoints, and requests that are not SAML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import httpx
import pytest
from cas import CASClientWithSAMLV1
from sqlalchemy import select

from campus.kernel.audit import AuditEntry
from campus.kernel.runtime import Runtime
from tests.conftest import LoginAs
from tests.platform.auth.cas.conftest import Receiver, Register, service_ticket

SOAP = "{http://schemas.xmlsoap.org/soap/envelope/}"
SAMLP = "{urn:oasis:names:tc:SAML:1.0:protocol}"
SAML = "{urn:oasis:names:tc:SAML:1.0:assertion}"


@pytest.fixture
async def student(login_as: LoginAs) -> httpx.AsyncClient:
    return await login_as("student")


@pytest.fixture
async def library(register: Register, receiver: Receiver) -> str:
    await register(url_pattern=receiver.url("/lib/"), released_attributes=["name", "roles"])
    return receiver.url("/lib/")


async def saml_validate(client: httpx.AsyncClient, target: str | None, body: str) -> ET.Element:
    """The SAML ``Response`` of a POST to /samlValidate (checked to be a SOAP answer)."""
    params = {"TARGET": target} if target is not None else {}
    headers = {"Content-Type": "text/xml; charset=utf-8"}
    response = await client.post("/cas/samlValidate", params=params, content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/xml")
    assert response.headers["cache-control"] == "no-store"
    found = ET.fromstring(response.text).find(f"{SOAP}Body/{SAMLP}Response")
    assert found is not None, response.text
    return found


def status_of(answer: ET.Element) -> tuple[str, str]:
    code = answer.find(f"{SAMLP}Status/{SAMLP}StatusCode")
    message = answer.find(f"{SAMLP}Status/{SAMLP}StatusMessage")
    assert code is not None
    return code.attrib["Value"], (message.text or "") if message is not None else ""


def attributes_of(answer: ET.Element) -> dict[str, list[str]]:
    return {
        a.attrib["AttributeName"]: [v.text or "" for v in a.findall(f"{SAML}AttributeValue")]
        for a in answer.iter(f"{SAML}Attribute")
    }


async def test_a_ticket_validates_with_its_attributes(
    student: httpx.AsyncClient, anon: httpx.AsyncClient, library: str
) -> None:
    me = (await student.get("/api/v1/auth/me")).json()
    ticket = await service_ticket(student, library)
    request = CASClientWithSAMLV1.get_saml_assertion(ticket)  # python-cas's request document
    answer = await saml_validate(anon, library, request)
    assert status_of(answer)[0] == "samlp:Success"
    assert answer.attrib["Recipient"] == library
    sent = ET.fromstring(request).find(f"{SOAP}Body/{SAMLP}Request")
    assert sent is not None and answer.attrib["InResponseTo"] == sent.attrib["RequestID"]
    identifiers = [n.text for n in answer.iter(f"{SAML}NameIdentifier")]
    assert identifiers and set(identifiers) == {me["login"]}
    audience = answer.find(f".//{SAML}Conditions//{SAML}Audience")
    assert audience is not None and audience.text == library
    values = attributes_of(answer)
    assert values["name"] == [me["name"]]
    assert values["isFromNewLogin"] == ["false"]
    assert "student" in values["roles"]
    statement = answer.find(f".//{SAML}AuthenticationStatement")
    assert statement is not None and statement.attrib["AuthenticationInstant"].endswith("Z")


async def test_a_ticket_validates_once_and_only_for_its_service(
    student: httpx.AsyncClient,
    anon: httpx.AsyncClient,
    library: str,
    register: Register,
    receiver: Receiver,
) -> None:
    ticket = await service_ticket(student, library)
    request = CASClientWithSAMLV1.get_saml_assertion(ticket)
    assert status_of(await saml_validate(anon, library, request))[0] == "samlp:Success"
    again = await saml_validate(anon, library, request)
    assert status_of(again)[0] == "samlp:Responder"
    assert "已被使用过" in status_of(again)[1]
    assert again.find(f"{SAML}Assertion") is None

    await register(url_pattern=receiver.url("/oa/"))
    other = await service_ticket(student, library)
    elsewhere = await saml_validate(
        anon, receiver.url("/oa/"), CASClientWithSAMLV1.get_saml_assertion(other)
    )
    assert status_of(elsewhere)[0] == "samlp:Responder"
    spent = await saml_validate(anon, library, CASClientWithSAMLV1.get_saml_assertion(other))
    assert status_of(spent)[0] == "samlp:Responder", "a refused ticket is spent"


ENTITY = """<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body>
<samlp:Request xmlns:samlp="urn:oasis:names:tc:SAML:1.0:protocol" RequestID="_x">
<samlp:AssertionArtifact>&secret;</samlp:AssertionArtifact></samlp:Request>
</SOAP-ENV:Body></SOAP-ENV:Envelope>"""


@pytest.mark.parametrize(
    ("target", "body"),
    [
        (None, "<ok/>"),  # no TARGET
        ("https://lib.example.edu.cn/", ""),
        ("https://lib.example.edu.cn/", "ST-not-xml"),
        ("https://lib.example.edu.cn/", "<samlp:Request xmlns:samlp='urn:x'/>"),
        ("https://lib.example.edu.cn/", ENTITY),  # an external entity is not read
    ],
)
async def test_a_request_that_is_not_saml_is_the_requesters_fault(
    anon: httpx.AsyncClient, db: Runtime, target: str | None, body: str
) -> None:
    answer = await saml_validate(anon, target, body)
    status, message = status_of(answer)
    assert status == "samlp:Requester"
    assert "TARGET" in message and "root:" not in ET.tostring(answer, encoding="unicode")
    async with db.db.read() as session:
        refused: Any = await session.scalar(
            select(AuditEntry.after)
            .where(AuditEntry.action == "auth.cas.validate.failed")
            .order_by(AuditEntry.id.desc())
        )
    assert refused is not None and refused.get("endpoint") == "samlValidate", refused
