"""The app center over HTTP: what each person sees (by role and org unit), opening and counting,
favourites, and the order the portal's home grid shows."""

from __future__ import annotations

import re

import httpx
import pytest

from campus.kernel.i18n import _
from campus.kernel.manifest import MenuEntry, Module
from campus.kernel.runtime import Runtime
from tests.conftest import LoginAs
from tests.platform.appcenter.conftest import MINE, MakeApp, my_codes

HTML = {"Accept": "text/html"}


async def test_module_apps_come_from_the_running_modules(login_as: LoginAs) -> None:
    student = await login_as("student")
    codes = await my_codes(student)
    assert "m.appcenter.apps" in codes
    assert "m.appcenter.appcenter.manage" not in codes, "needs appcenter.app.manage"
    admin = await login_as("admin")
    assert "m.appcenter.appcenter.manage" in await my_codes(admin)


async def test_visibility_by_role(login_as: LoginAs, make_app: MakeApp) -> None:
    app = await make_app(roles=["staff"])
    staff, student = await login_as("staff"), await login_as("student")
    assert app["code"] in await my_codes(staff)
    assert app["code"] not in await my_codes(student)
    for response in (
        await student.get(f"/apps/{app['code']}/open"),
        await student.put(f"/api/v1/appcenter/favourites/{app['code']}"),
        await student.post(f"/apps/{app['code']}/favourite", data={"on": "true"}, headers=HTML),
    ):
        assert response.status_code == 404
    page = await student.get("/apps", headers=HTML)
    assert app["name"] not in page.text
    home = await student.get("/", headers=HTML)
    assert app["name"] not in home.text


async def test_visibility_by_org_unit_includes_units_below(
    login_as: LoginAs, make_app: MakeApp
) -> None:
    app = await make_app(org_units=["12"])  # the demo college; the demo student's class is below
    student, staff = await login_as("student"), await login_as("staff")
    assert app["code"] in await my_codes(student)
    assert app["code"] not in await my_codes(staff)
    assert (await staff.get(f"/apps/{app['code']}/open")).status_code == 404


async def test_disabled_apps_vanish_for_everyone(
    login_as: LoginAs, make_app: MakeApp, admin: httpx.AsyncClient
) -> None:
    app = await make_app()
    student = await login_as("student")
    assert app["code"] in await my_codes(student)
    response = await admin.patch(f"/api/v1/appcenter/apps/{app['code']}", json={"enabled": False})
    assert response.status_code == 200 and response.json()["enabled"] is False
    assert app["code"] not in await my_codes(student)
    assert (await student.get(f"/apps/{app['code']}/open")).status_code == 404


async def test_open_counts_and_redirects_and_orders_by_use(
    login_as: LoginAs, make_app: MakeApp
) -> None:
    first, second = await make_app(order=1), await make_app(order=2)
    student = await login_as("student")
    codes = await my_codes(student)
    assert codes.index(first["code"]) < codes.index(second["code"])
    for _attempt in range(3):
        response = await student.get(f"/apps/{second['code']}/open")
        assert response.status_code == 303
        assert response.headers["location"] == "https://x.demo.edu.cn/"
    apps = (await student.get(MINE)).json()
    used = next(a for a in apps if a["code"] == second["code"])
    assert used["uses"] == 3
    codes = [a["code"] for a in apps]
    assert codes.index(second["code"]) < codes.index(first["code"])
    module = await student.get("/apps/m.appcenter.apps/open")
    assert module.status_code == 303 and module.headers["location"] == "/apps"
    assert (await student.get("/apps/none-such/open")).status_code == 404


async def test_favourites_come_first_and_can_be_removed(
    login_as: LoginAs, make_app: MakeApp
) -> None:
    app = await make_app(order=9999)
    student = await login_as("student")
    assert (await student.put(f"/api/v1/appcenter/favourites/{app['code']}")).status_code == 204
    assert (await student.put(f"/api/v1/appcenter/favourites/{app['code']}")).status_code == 204
    apps = (await student.get(MINE)).json()
    assert apps[0]["code"] == app["code"] and apps[0]["favourite"] is True
    assert (await student.delete(f"/api/v1/appcenter/favourites/{app['code']}")).status_code == 204
    apps = (await student.get(MINE)).json()
    assert apps[0]["code"] != app["code"]


async def test_home_grid_orders_favourites_then_most_used(
    login_as: LoginAs, make_app: MakeApp
) -> None:
    starred, used = await make_app(order=9000), await make_app(order=9001)
    student = await login_as("student")
    await student.get(f"/apps/{used['code']}/open")
    form = await student.post(
        f"/apps/{starred['code']}/favourite", data={"on": "true"}, headers=HTML
    )
    assert form.status_code == 303
    home = await student.get("/", headers=HTML)
    assert home.status_code == 200
    order = re.findall(r'data-app="([^"]+)"', home.text)
    assert order[:2] == [starred["code"], used["code"]]
    assert 'data-testid="shortcuts"' in home.text, "the 常用 row stays"
    assert 'data-testid="todo-summary"' in home.text, "the to-dos stay"


async def test_search_by_name_and_pinyin_initials_and_category(
    login_as: LoginAs, make_app: MakeApp
) -> None:
    app = await make_app(name="迎新报到测试", category="迎新")
    student = await login_as("student")
    assert app["code"] in await my_codes(student, q="yxbd")
    assert app["code"] in await my_codes(student, q="报到")
    assert app["code"] not in await my_codes(student, q="zzzz")
    assert await my_codes(student, category="迎新") == [app["code"]]
    page = await student.get("/apps", params={"q": "yxbd"}, headers=HTML)
    assert "迎新报到测试" in page.text and 'data-testid="category"' in page.text


async def test_demo_apps_are_seeded_with_visibility(login_as: LoginAs, db: Runtime) -> None:
    student, staff = await login_as("student"), await login_as("staff")
    student_codes, staff_codes = await my_codes(student), await my_codes(staff)
    assert {"library", "mail", "vpn"} <= set(student_codes)
    assert "finance" in staff_codes and "finance" not in student_codes
    admin = await login_as("admin")
    library = (await admin.get("/api/v1/appcenter/apps/library")).json()
    assert library["demo"] is True and library["sso_client"].startswith("cas:")


async def test_a_module_app_is_there_exactly_while_its_module_runs(
    login_as: LoginAs, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    extra = Module(
        name="library_test",
        title=_("图书馆测试"),
        package="campus.web.portal",
        menu=(
            MenuEntry(_("我的借阅"), "/library-test/mine", icon="book"),
            MenuEntry(_("借阅管理"), "/library-test/admin", permission="library.manage"),
        ),
    )
    student = await login_as("student")
    code = "m.library_test.library-test.mine"
    assert code not in await my_codes(student)
    assert (await student.get(f"/apps/{code}/open")).status_code == 404
    monkeypatch.setattr(runtime, "modules", [*runtime.modules, extra])
    codes = await my_codes(student)
    assert code in codes
    assert "m.library_test.library-test.admin" not in codes, "needs library.manage"
    opened = await student.get(f"/apps/{code}/open")
    assert opened.status_code == 303 and opened.headers["location"] == "/library-test/mine"
    assert (await student.get("/apps/m.library_test.library-test.admin/open")).status_code == 404


async def test_administrators_see_each_apps_use(
    login_as: LoginAs, admin: httpx.AsyncClient
) -> None:
    student, teacher = await login_as("student"), await login_as("teacher")
    code = "m.academic.academic.calendar"
    before = {u["code"]: u for u in (await admin.get("/api/v1/appcenter/usage")).json()}
    for client, times in ((student, 3), (teacher, 1)):
        for _time in range(times):
            opened = await client.get(f"/apps/{code}/open")
            assert opened.status_code in (302, 303, 307), opened.text
    after = {u["code"]: u for u in (await admin.get("/api/v1/appcenter/usage")).json()}
    was = before.get(code, {"uses": 0, "people": 0})
    assert after[code]["uses"] == was["uses"] + 4
    assert after[code]["people"] >= 2 and after[code]["kind"] == "module"
    assert after[code]["name"] == "校历"
    uses = [u["uses"] for u in after.values()]
    assert uses == sorted(uses, reverse=True)
    assert (await student.get("/api/v1/appcenter/usage")).status_code == 403
    page = await admin.get("/appcenter/usage")
    assert page.status_code == 200 and "校历" in page.text and "usage-chart" in page.text
    assert (await student.get("/appcenter/usage")).status_code == 403


async def test_the_portal_search_finds_stored_apps_by_pinyin(
    login_as: LoginAs, make_app: MakeApp
) -> None:
    staff_only = await make_app(name="图书馆座位预约", roles=["staff"])
    staff, student = await login_as("staff"), await login_as("student")
    found = (await staff.get("/search", params={"q": "tsgzw"}, headers=HTML)).text
    assert f"/apps/{staff_only['code']}/open" in found and "图书馆座位预约" in found
    hidden = (await student.get("/search", params={"q": "图书馆座位"}, headers=HTML)).text
    assert staff_only["code"] not in hidden
