"""An app's uploaded icon: an administrator's picture (PNG, JPEG, GIF or WebP) bound to the
app, shown in the catalog, the administrators' list and the portal instead of the icon-set
icon, served only to those who may see the app, replaced or removed like any field."""

from __future__ import annotations

import secrets

import httpx

from tests.conftest import LoginAs
from tests.platform.appcenter.conftest import APPS, MINE, MakeApp, app_body, unique
from tests.platform.files.conftest import pdf_bytes

HTML = {"Accept": "text/html"}


def png() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + secrets.token_bytes(64)


async def upload(
    client: httpx.AsyncClient, content: bytes, name: str = "图标.png", kind: str = "image/png"
) -> str:
    response = await client.post("/api/v1/files", files={"file": (name, content, kind)})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def card(cards: list[dict[str, object]], code: str) -> dict[str, object]:
    return next(c for c in cards if c["code"] == code)


async def test_an_uploaded_icon_is_shown_and_served_to_those_who_see_the_app(
    login_as: LoginAs, admin: httpx.AsyncClient, make_app: MakeApp
) -> None:
    picture = png()
    file_id = await upload(admin, picture)
    app = await make_app(icon_file_id=file_id)
    assert app["icon_file_id"] == file_id
    assert app["icon_url"] == f"{APPS}/{app['code']}/icon?v={file_id}"

    student = await login_as("student")
    mine = (await student.get(MINE)).json()
    assert card(mine, str(app["code"]))["icon_url"] == app["icon_url"]
    served = await student.get(str(app["icon_url"]))
    assert served.status_code == 200, served.text
    assert served.content == picture
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "immutable" in served.headers["cache-control"]

    # A favourite leads the home page's grid, with its picture.
    starred = await student.put(f"/api/v1/appcenter/favourites/{app['code']}")
    assert starred.status_code == 204
    home = await student.get("/", headers=HTML)
    assert f'src="{app["icon_url"]}"' in home.text
    assert (await student.delete(f"/api/v1/appcenter/favourites/{app['code']}")).status_code == 204
    catalog = await student.get("/apps", headers=HTML)
    assert f'src="{app["icon_url"]}"' in catalog.text

    # Only for staff: a student is told it does not exist, the administrator still sees it.
    hidden = await make_app(roles=["staff"], icon_file_id=await upload(admin, png()))
    assert (await student.get(str(hidden["icon_url"]))).status_code == 404
    assert (await admin.get(str(hidden["icon_url"]))).status_code == 200
    listing = await admin.get("/appcenter/manage", headers=HTML)
    assert f'src="{hidden["icon_url"]}"' in listing.text


async def test_replacing_and_removing_the_icon(admin: httpx.AsyncClient, make_app: MakeApp) -> None:
    first = await upload(admin, png())
    app = await make_app(icon_file_id=first)
    second = await upload(admin, png())
    replaced = await admin.patch(f"{APPS}/{app['code']}", json={"icon_file_id": second})
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["icon_url"].endswith(f"?v={second}")
    # The first picture went back to its uploader: it can be attached again elsewhere.
    other = await make_app(icon_file_id=first)
    assert other["icon_file_id"] == first

    unchanged = await admin.patch(f"{APPS}/{app['code']}", json={"name": f"改名{unique()[-6:]}"})
    assert unchanged.json()["icon_file_id"] == second
    removed = await admin.patch(f"{APPS}/{app['code']}", json={"icon_file_id": None})
    assert removed.status_code == 200
    assert removed.json()["icon_file_id"] is None and removed.json()["icon_url"] is None
    gone = await admin.get(f"{APPS}/{app['code']}/icon")
    assert gone.status_code == 404
    assert gone.headers["content-type"].startswith("application/problem+json")


async def test_a_bad_icon_is_422_on_the_field_and_saves_nothing(
    login_as: LoginAs, admin: httpx.AsyncClient, make_app: MakeApp
) -> None:
    pdf = await upload(admin, pdf_bytes(), "说明.pdf", "application/pdf")
    someone_elses = await upload(await login_as("student"), png())
    bound_elsewhere = (await make_app(icon_file_id=await upload(admin, png())))["icon_file_id"]
    for file_id in (pdf, someone_elses, bound_elsewhere, "f" * 32):
        body = app_body(icon_file_id=file_id)
        response = await admin.post(APPS, json=body)
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"].startswith("icon_file_id")
        assert (await admin.get(f"{APPS}/{body['code']}")).status_code == 404
    app = await make_app()
    refused = await admin.patch(f"{APPS}/{app['code']}", json={"icon_file_id": pdf})
    assert refused.status_code == 422
    assert refused.json()["errors"][0] == {
        "field": "icon_file_id",
        "reason": "请上传图片（PNG、JPEG、GIF 或 WebP）",
    }
    assert (await admin.get(f"{APPS}/{app['code']}")).json() == app


async def test_the_form_uploads_keeps_and_removes_the_picture(admin: httpx.AsyncClient) -> None:
    code = unique()
    file_id = await upload(admin, png())
    form = {
        "code": code,
        "name": f"图标应用{code[-6:]}",
        "kind": "link",
        "url": "https://icon.demo.edu.cn/",
        "category": "办公",
        "icon": "mail",
        "order": "5",
        "enabled": "on",
        "icon_file_id": file_id,
    }
    created = await admin.post("/appcenter/manage/new", data=form, headers=HTML)
    assert created.status_code == 303, created.text
    edit = await admin.get(f"/appcenter/manage/{code}", headers=HTML)
    assert file_id in edit.text and 'data-testid="icon-upload"' in edit.text
    kept = await admin.post(f"/appcenter/manage/{code}", data=form, headers=HTML)
    assert kept.status_code == 303
    assert (await admin.get(f"{APPS}/{code}")).json()["icon_file_id"] == file_id
    without = {k: v for k, v in form.items() if k not in ("code", "icon_file_id")}
    cleared = await admin.post(f"/appcenter/manage/{code}", data=without, headers=HTML)
    assert cleared.status_code == 303
    assert (await admin.get(f"{APPS}/{code}")).json()["icon_file_id"] is None
    pdf = await upload(admin, pdf_bytes(), "说明.pdf", "application/pdf")
    bad = await admin.post(
        f"/appcenter/manage/{code}", data={**without, "icon_file_id": pdf}, headers=HTML
    )
    assert bad.status_code == 422 and 'data-testid="error-icon_file_id"' in bad.text
