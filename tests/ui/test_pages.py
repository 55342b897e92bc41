"""The browser pages over plain HTTP: signing in and out, the cookie, forms from other
sites, organisation isolation, the security headers, and nothing fetched from elsewhere."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.db import session_scope
from app.ui.security import CONTENT_SECURITY_POLICY, COOKIE_NAME
from app.ui.views import RAG_TEXT, chart, chart_json, fmt
from seed.load import load_demo
from tests.conftest import TokenFactory, bearer

ORIGIN = "http://testserver"
SAME_ORIGIN = {"Origin": ORIGIN}
DEMO_UNTIL = "2019-09"


@pytest.fixture
def demo(sessions: sessionmaker[Session]) -> None:
    """Six months of synthetic returns: enough for every page, quick to load."""
    for session in session_scope(sessions):
        load_demo(session, until=DEMO_UNTIL)


@pytest.fixture
def lead(make_token: TokenFactory) -> str:
    return make_token("read", "plans:write", name="workforce lead")


@pytest.fixture
def browser(app: FastAPI) -> Iterator[TestClient]:
    """A client that, like a browser, does not follow redirects on its own here."""
    with TestClient(app, follow_redirects=False) as client:
        yield client


def sign_in(client: TestClient, token: str) -> None:
    response = client.post(
        "/ui/sign-in", data={"token": token, "next": "/ui/"}, headers=SAME_ORIGIN
    )
    assert response.status_code == 303, response.text
    # The cookie is Path=/ui; the test client keeps it for those pages.


def plan(client: TestClient, token: str, **scenario: Any) -> dict[str, Any]:
    response = client.post(
        "/v1/plans",
        json={"start": "2019-07", "months": 3, "scenario": scenario},
        headers=bearer(token),
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


# Signing in ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/ui/",
        "/ui/plans",
        "/ui/plans/0123456789abcdef",
        "/ui/compare?plan=a&plan=b",
        "/ui/organisations/RHM",
        "/ui/places/Southampton",
    ],
)
def test_signed_out_pages_send_to_sign_in_and_back(browser: TestClient, path: str) -> None:
    response = browser.get(path)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/ui/sign-in?next=")
    form = browser.get(location)
    assert form.status_code == 200
    assert 'name="next"' in form.text


def test_a_bad_token_is_refused_and_no_cookie_is_set(browser: TestClient) -> None:
    response = browser.post("/ui/sign-in", data={"token": "wf_nonsense"}, headers=SAME_ORIGIN)
    assert response.status_code == 401
    assert "unknown or has been revoked" in response.text
    assert "set-cookie" not in response.headers
    empty = browser.post("/ui/sign-in", data={"token": ""}, headers=SAME_ORIGIN)
    assert empty.status_code == 401


def test_a_revoked_token_signs_out_the_browser(
    browser: TestClient, lead: str, admin_headers: dict[str, str]
) -> None:
    sign_in(browser, lead)
    assert browser.get("/ui/").status_code == 200
    tokens = browser.get("/v1/tokens", headers=admin_headers).json()
    items = tokens["items"] if isinstance(tokens, dict) else tokens
    lead_id = next(t["id"] for t in items if t["name"] == "workforce lead")
    assert browser.delete(f"/v1/tokens/{lead_id}", headers=admin_headers).status_code in (
        200,
        204,
    )
    response = browser.get("/ui/")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/ui/sign-in")
    assert f"{COOKIE_NAME}=" in response.headers["set-cookie"]  # cleared


def cookie_attributes(header: str) -> dict[str, str]:
    parts = [p.strip() for p in header.split(";")]
    attributes = {}
    for part in parts[1:]:
        key, _, value = part.partition("=")
        attributes[key.lower()] = value
    return attributes


def test_the_cookie_is_http_only_strict_and_secure_over_https(app: FastAPI, lead: str) -> None:
    with TestClient(app, follow_redirects=False) as client:
        response = client.post("/ui/sign-in", data={"token": lead}, headers=SAME_ORIGIN)
        assert response.status_code == 303
        assert response.headers["location"] == "/ui/"
        header = response.headers["set-cookie"]
        assert header.startswith(f"{COOKIE_NAME}={lead};")
        attributes = cookie_attributes(header)
        assert "httponly" in attributes
        assert attributes["samesite"].lower() == "strict"
        assert attributes["path"] == "/ui"
        assert "secure" not in attributes  # plain http: a Secure cookie would never come back

        signed_out = client.post("/ui/sign-out", headers=SAME_ORIGIN)
        assert signed_out.status_code == 303
        cleared = cookie_attributes(signed_out.headers["set-cookie"])
        assert cleared["max-age"] == "0"
        assert client.get("/ui/").status_code == 303

    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        response = client.post(
            "/ui/sign-in", data={"token": lead}, headers={"Origin": "https://testserver"}
        )
        assert response.status_code == 303
        assert "secure" in cookie_attributes(response.headers["set-cookie"])


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Referer": "http://evil.example/page"},
        {},
    ],
    ids=["other-origin", "null-origin", "other-referer", "neither"],
)
def test_forms_from_elsewhere_are_refused(
    browser: TestClient, lead: str, headers: dict[str, str], demo: None
) -> None:
    response = browser.post("/ui/sign-in", data={"token": lead}, headers=headers)
    assert response.status_code == 403
    assert "set-cookie" not in response.headers

    sign_in(browser, lead)
    plan_form = {"start": "2019-07", "months": "3"}
    refused = browser.post("/ui/plans", data=plan_form, headers=headers)
    assert refused.status_code == 403
    assert browser.get("/v1/plans", headers=bearer(lead)).json()["total"] == 0
    assert browser.post("/ui/sign-out", headers=headers).status_code == 403


def test_a_same_origin_referer_is_enough_without_origin(browser: TestClient, lead: str) -> None:
    response = browser.post(
        "/ui/sign-in", data={"token": lead}, headers={"Referer": f"{ORIGIN}/ui/sign-in"}
    )
    assert response.status_code == 303


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/ui/plans", "/ui/plans"),
        ("https://evil.example/ui/", "/ui/"),
        ("//evil.example/ui/", "/ui/"),
        ("/v1/tokens", "/ui/"),
        ("/ui/\\evil", "/ui/"),
    ],
)
def test_sign_in_goes_back_only_to_the_ui(
    browser: TestClient, lead: str, target: str, expected: str
) -> None:
    response = browser.post(
        "/ui/sign-in", data={"token": lead, "next": target}, headers=SAME_ORIGIN
    )
    assert response.headers["location"] == expected


# What each token sees ------------------------------------------------------------------


VOID_ELEMENTS = frozenset({"br", "img", "input", "meta", "link", "hr", "col", "wbr"})


class Rows(HTMLParser):
    """The rated items (``.status-item``: a row, or a cell of a matrix) of one table, by id,
    with the ``data-value`` and the text of each ``data-field`` inside them."""

    def __init__(self, table_id: str) -> None:
        super().__init__()
        self.table_id = table_id
        self.inside = False
        self.rows: list[dict[str, Any]] = []
        self.field: str | None = None
        self.depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        if tag == "table":
            self.inside = attributes.get("id") == self.table_id
        if not self.inside:
            return
        if self.field is not None and tag not in VOID_ELEMENTS:
            self.depth += 1
        if "status-item" in attributes.get("class", "").split():
            self.rows.append({**attributes, "cells": {}, "texts": {}})
        elif self.rows and "data-field" in attributes and self.field is None:
            self.field = attributes["data-field"]
            self.depth = 0
            self.rows[-1]["cells"][self.field] = attributes.get("data-value", "")
            self.rows[-1]["texts"][self.field] = ""

    def handle_data(self, data: str) -> None:
        if self.field is not None:
            self.rows[-1]["texts"][self.field] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.inside = False
        if self.field is not None and tag not in VOID_ELEMENTS:
            if self.depth == 0:
                self.field = None
            else:
                self.depth -= 1


def status_table(html: str, table_id: str) -> list[dict[str, Any]]:
    parser = Rows(table_id)
    parser.feed(html)
    return parser.rows


def test_the_dashboard_shows_the_api_s_ratings(browser: TestClient, lead: str, demo: None) -> None:
    sign_in(browser, lead)
    page = browser.get("/ui/")
    assert page.status_code == 200
    assert "Synthetic demo data" in page.text
    for level in ("system", "place", "organisation"):
        api = browser.get(f"/v1/targets/status?level={level}", headers=bearer(lead)).json()
        rows = status_table(page.text, f"status-{level}")
        shown = {(r["data-unit"], r["data-target"]): r for r in rows}
        assert set(shown) == {(i["code"], i["target"]) for i in api["items"]}
        for item in api["items"]:
            row = shown[item["code"], item["target"]]
            assert row["texts"]["rag"].strip() == RAG_TEXT[item["rag"]]
            if item["latest"] is not None:
                assert float(row["cells"]["latest"]) == pytest.approx(item["latest"])
                kind = "percent" if item["measure"] == "turnover_rate_12m" else "wte"
                assert row["texts"]["latest"].strip().startswith(fmt(item["latest"], kind))


def test_an_organisation_token_sees_its_own_organisation_only(
    browser: TestClient, make_token: TokenFactory, lead: str, demo: None
) -> None:
    finished = plan(browser, lead)
    other = plan(browser, lead, agency_reduction=0.2)
    sign_in(browser, make_token("returns:write", organisation="RHM", name="UHS feed"))

    home = browser.get("/ui/")
    assert home.status_code == 303
    assert home.headers["location"] == "/ui/organisations/RHM"
    own = browser.get("/ui/organisations/RHM")
    assert own.status_code == 200
    assert "University Hospital Southampton" in own.text
    assert {r["data-unit"] for r in status_table(own.text, "status-unit")} == {"RHM"}
    assert "Portsmouth Hospitals" not in own.text
    assert 'href="/ui/plans"' not in own.text  # no link to what it may not read

    for path in (
        "/ui/organisations/RHU",
        "/ui/places/Southampton",
        "/ui/plans",
        f"/ui/plans/{finished['id']}",
        f"/ui/plans/{finished['id']}/allocations.csv",
        f"/ui/plans/{finished['id']}/workbook.xlsx",
        f"/ui/compare?plan={finished['id']}&plan={other['id']}",
    ):
        response = browser.get(path)
        assert response.status_code == 403, path
        assert response.headers["content-type"].startswith("text/html")
        assert "These credentials may not do this" in response.text
    refused = browser.post(
        "/ui/plans", data={"start": "2019-07", "months": "3"}, headers=SAME_ORIGIN
    )
    assert refused.status_code == 403


def test_unknown_things_are_404_pages(browser: TestClient, lead: str, demo: None) -> None:
    sign_in(browser, lead)
    for path in ("/ui/organisations/NOPE", "/ui/places/Atlantis", "/ui/plans/nope"):
        response = browser.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("text/html")


# Plans from the browser ----------------------------------------------------------------


def test_the_plan_form_requests_a_plan_and_its_page_shows_the_api_s_figures(
    browser: TestClient, lead: str, demo: None
) -> None:
    sign_in(browser, lead)
    response = browser.post(
        "/ui/plans",
        data={
            "start": "2019-07",
            "months": "3",
            "agency_reduction": "0.2",
            "island_mainland_allowed": "no",
            "scenario_json": '{"travel_cost_per_wte_month": 75}',
        },
        headers=SAME_ORIGIN,
    )
    assert response.status_code == 303
    plan_id = response.headers["location"].rsplit("/", 1)[-1]
    api = browser.get(f"/v1/plans/{plan_id}", headers=bearer(lead)).json()
    assert api["scenario"] == {
        "agency_reduction": 0.2,
        "island_mainland_allowed": False,
        "travel_cost_per_wte_month": 75,
    }
    page = browser.get(f"/ui/plans/{plan_id}")
    assert page.status_code == 200
    assert api["state"] == "finished"
    cash = api["cost"]["bank"] + api["cost"]["travel"] + api["cost"]["agency"]
    shown = re.search(r'data-field="cash" data-value="([^"]+)"', page.text)
    assert shown is not None
    assert float(shown[1]) == pytest.approx(cash)
    assert fmt(cash, "gbp") in page.text
    penalty = re.search(r'data-field="penalty" data-value="([^"]+)"', page.text)
    assert penalty is not None
    assert float(penalty[1]) == pytest.approx(api["cost"]["unfilled_penalty"])
    assert "saving" not in page.text.lower()
    assert "Synthetic demo data" in page.text
    csv = browser.get(f"/ui/plans/{plan_id}/allocations.csv")
    assert csv.status_code == 200
    assert csv.text.splitlines()[0] == "pool,organisation,staff_group,period,wte,cost"
    assert len(csv.text.splitlines()) == len(api["allocations"]) + 1


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"start": "2019-07", "months": "0"}, "months"),
        ({"start": "July", "months": "3"}, "start"),
        ({"start": "2019-07", "months": "3", "turnover_target": "2"}, "turnover_target"),
        ({"start": "2019-07", "months": "3", "scenario_json": "{"}, "does not parse"),
        ({"start": "2019-07", "months": "3", "scenario_json": '{"colour": 1}'}, "colour"),
    ],
)
def test_a_bad_plan_form_is_shown_again_with_its_problems(
    browser: TestClient, lead: str, demo: None, form: dict[str, str], message: str
) -> None:
    sign_in(browser, lead)
    response = browser.post("/ui/plans", data=form, headers=SAME_ORIGIN)
    assert response.status_code == 422
    assert 'id="plan-problems"' in response.text
    assert message in response.text
    assert browser.get("/v1/plans", headers=bearer(lead)).json()["total"] == 0


def test_the_comparison_shows_what_differs(browser: TestClient, lead: str, demo: None) -> None:
    first = plan(browser, lead, agency_reduction=0.2)
    second = plan(browser, lead, turnover_target=0.13)
    sign_in(browser, lead)
    page = browser.get(f"/ui/compare?plan={first['id']}&plan={second['id']}")
    assert page.status_code == 200
    differing = re.findall(r'<tr data-key="([a-z_]+)">', page.text.split('id="comparison"')[0])
    assert set(differing) == {"agency_reduction", "turnover_target"}
    for body in (first, second):
        cash = body["cost"]["bank"] + body["cost"]["travel"] + body["cost"]["agency"]
        assert fmt(cash, "gbp") in page.text
    assert "saving" not in page.text.lower()
    too_few = browser.get(f"/ui/compare?plan={first['id']}")
    assert too_few.status_code == 422
    assert "two to four" in too_few.text
    unknown = browser.get(f"/ui/compare?plan={first['id']}&plan=nope")
    assert unknown.status_code == 404


# Headers, assets and accessibility -----------------------------------------------------


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.assets: list[str] = []
        self.scripts: list[dict[str, str]] = []
        self.styled: list[str] = []
        self.canvases = 0
        self.chart_tables = 0
        self.unscoped_th: list[str] = []
        self.tables = 0
        self.captions = 0
        self.in_thead = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "script":
            self.scripts.append(a)
        if tag in ("script", "img") and a.get("src"):
            self.assets.append(a["src"])
        if tag == "link" and a.get("href"):
            self.assets.append(a["href"])
        if "style" in a:
            self.styled.append(tag)
        if tag == "canvas":
            self.canvases += 1
        if tag == "table":
            self.tables += 1
            if a.get("id", "").startswith("table-"):
                self.chart_tables += 1
        if tag == "caption":
            self.captions += 1
        if tag == "thead":
            self.in_thead = True
        if tag == "th" and "scope" not in a:
            self.unscoped_th.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "thead":
            self.in_thead = False


@pytest.fixture
def every_page(browser: TestClient, lead: str, demo: None) -> dict[str, str]:
    """Each kind of page, signed in, by path: what the checks below read."""
    first = plan(browser, lead)
    second = plan(browser, lead, turnover_target=0.13)
    paths = [
        "/ui/",
        "/ui/places/Isle%20of%20Wight",
        "/ui/organisations/R1F",
        "/ui/plans",
        f"/ui/plans/{first['id']}",
        f"/ui/compare?plan={first['id']}&plan={second['id']}",
        "/ui/organisations/NOPE",
    ]
    pages = {"/ui/sign-in": browser.get("/ui/sign-in").text}
    sign_in(browser, lead)
    for path in paths:
        response = browser.get(path)
        assert response.status_code in (200, 404), path
        pages[path] = response.text
    return pages


LICENCE_COMMENT = re.compile(r"/\*!.*?\*/", re.DOTALL)
SOURCE_MAP = re.compile(r"//# sourceMappingURL=\S+")
XML_NAMESPACE = re.compile(r'xmlns="http://www\.w3\.org/2000/svg"')
URL = re.compile(r"(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}|https?://[^\s\"'<>)]+")


def test_no_page_or_asset_refers_to_another_origin(
    browser: TestClient, every_page: dict[str, str]
) -> None:
    assets: set[str] = set()
    for path, html in every_page.items():
        found = [u for u in URL.findall(html) if not u.startswith(ORIGIN)]
        assert not found, (path, found)
        links = Links()
        links.feed(html)
        assets.update(links.assets)
    assert {"/ui/static/ui.css", "/ui/static/ui.js", "/ui/static/vendor/chart.umd.min.js"} <= assets
    for asset in sorted(assets):
        assert asset.startswith("/ui/static/"), asset
        response = browser.get(asset)
        assert response.status_code == 200, asset
        # The vendored file names its project's site in its licence banner: text, not a request.
        # An SVG's namespace is a name, never fetched.
        text = SOURCE_MAP.sub("", LICENCE_COMMENT.sub("", response.text))
        text = XML_NAMESPACE.sub("", text)
        assert not URL.findall(text), (asset, URL.findall(text)[:5])


def test_pages_run_no_inline_script_or_style(every_page: dict[str, str]) -> None:
    """What the Content-Security-Policy would block anyway: proves the pages need none."""
    for path, html in every_page.items():
        links = Links()
        links.feed(html)
        for script in links.scripts:
            assert script.get("src") or script.get("type") == "application/json", path
        assert not links.styled, path
        assert "<style" not in html, path
        assert not re.search(r"<[^>]+\son[a-z]+=", html), path


def test_tables_and_charts_are_accessible(every_page: dict[str, str]) -> None:
    for path, html in every_page.items():
        links = Links()
        links.feed(html)
        assert links.tables == links.captions, path
        assert not links.unscoped_th, path
        assert links.canvases == links.chart_tables, path  # each chart has its data table
        assert html.count("<h1") == 1, path
    assert every_page["/ui/"].count("<canvas") == 4
    for path, html in every_page.items():
        # Every page that shows figures says they are synthetic demo data.
        if path not in ("/ui/sign-in", "/ui/organisations/NOPE"):
            assert "Synthetic demo data" in html, path
    assert "Green — " in every_page["/ui/"] or "Red — " in every_page["/ui/"]


def test_every_ui_response_carries_the_security_headers(
    browser: TestClient, every_page: dict[str, str]
) -> None:
    for path in [*every_page, "/ui/static/ui.js", "/ui/static/vendor/chart.umd.min.js"]:
        response = browser.get(path)
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY, path
        assert response.headers["content-security-policy"].startswith("default-src 'self'")
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        if not path.startswith("/ui/static/"):
            assert response.headers["cache-control"] == "no-store"
    redirect = browser.post("/ui/sign-out", headers=SAME_ORIGIN)
    assert redirect.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "content-security-policy" not in browser.get("/healthz").headers


def test_ui_routes_stay_out_of_the_openapi_document(app: FastAPI) -> None:
    assert not [path for path in app.openapi()["paths"] if path.startswith("/ui")]


def test_names_an_admin_sets_cannot_break_out_of_a_page(
    browser: TestClient, lead: str, demo: None, admin_headers: dict[str, str]
) -> None:
    hostile = "</script><script>alert(1)</script>"
    response = browser.patch(
        "/v1/organisations/R1F", json={"place": hostile}, headers=admin_headers
    )
    assert response.status_code == 200, response.text
    sign_in(browser, lead)
    page = browser.get("/ui/")
    assert page.status_code == 200
    assert hostile not in page.text
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page.text  # in the tables


def test_chart_data_cannot_close_its_script_element() -> None:
    hostile = "</script><script>alert(1)</script> & more"
    text = chart_json([chart("c", hostile, [hostile], [{"label": hostile, "data": [1.0]}])])
    assert not set("<>&") & set(text)
    decoded = json.loads(text)["c"]
    assert decoded["title"] == decoded["labels"][0] == decoded["datasets"][0]["label"] == hostile


def test_the_dashboard_rates_the_complete_month_and_shows_a_later_one_as_partial(
    browser: TestClient, lead: str, demo: None, make_token: TokenFactory
) -> None:
    organisations = browser.get("/v1/organisations", headers=bearer(lead)).json()
    total = len(organisations["items"] if isinstance(organisations, dict) else organisations)
    later = "2019-10"  # the month after the demo's last
    early = browser.put(
        f"/v1/organisations/RHM/returns/{later}",
        json={
            "lines": [
                {
                    "staff_group": "NURSE",
                    "establishment_wte": 100,
                    "staff_in_post_wte": 90,
                    "starters_wte": 1,
                    "leavers_wte": 1,
                    "bank_wte": 2,
                    "agency_wte": 1,
                }
            ]
        },
        headers=bearer(make_token("returns:write", organisation="RHM", name="RHM")),
    )
    assert early.status_code == 201, early.text
    sign_in(browser, lead)
    page = browser.get("/ui/").text
    assert (
        f"Based on {DEMO_UNTIL}, the latest month every organisation has returned; "
        f"{later}: 1 of {total} returned, partial."
    ) in page
    assert (
        "Not charted, as they stand for part of the system only: "
        f"{later} (1 of {total} organisations returned)."
    ) in page
    # Rated on the complete month, as the API rates it.
    api = browser.get("/v1/targets/status?level=system", headers=bearer(lead)).json()
    assert api["period"] == DEMO_UNTIL
    rows = status_table(page, "status-system")
    assert all(f"({DEMO_UNTIL})" in r["texts"]["latest"] for r in rows)
    # The partial month is not charted as a fall: its cell is empty in the data table.
    table = re.search(r'<table id="table-system-nursing_capacity_wte">.*?</table>', page, re.S)
    assert table is not None
    cell = re.search(rf"<th scope=\"row\">{later}</th>\s*<td[^>]*>([^<]*)</td>", table.group(0))
    assert cell is not None
    assert cell.group(1) == "—"
    # The councils employ no nurses: not applicable, never red.
    places = status_table(page, "status-organisation")
    council = [r for r in places if r["data-unit"] == "E06000045"]
    nursing = next(r for r in council if r["data-target"] == "nursing_capacity_growth")
    assert nursing["texts"]["rag"].strip() == RAG_TEXT["not_applicable"]
    organisation_page = browser.get("/ui/organisations/E06000045").text
    assert "Not applicable" in organisation_page
    assert f"Based on {DEMO_UNTIL}" in organisation_page
