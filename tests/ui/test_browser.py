"""The pages in a real browser: headless Chromium, driven through chromedriver, against the
service running in uvicorn on a seeded SQLite database.

One walk, in order: signed out to sign-in, a refused token, the dashboard, a place, two
plans requested through the form, a plan page, the comparison, a PDF of the plan, signing
out, and an organisation's token kept to its own pages. Each figure checked on a page is
compared with the API's JSON for the same thing. Screenshots and the PDF are saved to
``tmp/artifacts/`` (or ``$UI_ARTIFACTS``).

Skips, saying why, when Debian's ``chromium`` and ``chromium-driver`` are not installed;
``.ci/run`` installs them so that CI never skips.
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from sqlalchemy.orm import Session

from app.auth import Scope
from app.db import make_engine, make_sessionmaker, session_scope
from app.tokens.service import create_token
from app.ui.views import RAG_TEXT, fmt
from seed.load import load_demo
from tests.conftest import ROOT, alembic_config

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = (
    os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver") or "/usr/bin/chromedriver"
)
if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
    why = (
        f"no Chromium to drive ({CHROMIUM} and {CHROMEDRIVER} are needed): "
        "apt-get install -y chromium chromium-driver"
    )
    if os.environ.get("UI_REQUIRE_BROWSER"):
        pytest.fail(why, pytrace=False)
    pytest.skip(why, allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
from selenium.common.exceptions import (  # noqa: E402
    NoSuchElementException,
    StaleElementReferenceException,
    TimeoutException,
    WebDriverException,
)
from selenium.webdriver.chrome.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webelement import WebElement  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

DEMO_UNTIL = "2022-03"
ARTIFACTS = Path(os.environ.get("UI_ARTIFACTS", ROOT / "tmp" / "artifacts"))


@dataclass
class Served:
    base: str
    lead_token: str
    organisation_token: str

    def api(self, path: str) -> Any:
        response = httpx.get(
            self.base + path, headers={"Authorization": f"Bearer {self.lead_token}"}, timeout=30
        )
        response.raise_for_status()
        return response.json()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """uvicorn serving the app on a free port, on a database with the synthetic demo data."""
    url = f"sqlite:///{tmp_path_factory.mktemp('ui') / 'ui.db'}"
    command.upgrade(alembic_config(url), "head")
    engine = make_engine(url)
    session: Session
    for session in session_scope(make_sessionmaker(engine)):
        load_demo(session, until=DEMO_UNTIL)
        _row, lead = create_token(
            session, name="workforce lead", scopes=[Scope.READ, Scope.PLANS_WRITE]
        )
        _row, hr = create_token(
            session, name="UHS ESR feed", scopes=[Scope.RETURNS_WRITE], organisation="RHM"
        )
    engine.dispose()
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "WORKFORCE_ENVIRONMENT": "test",
        "WORKFORCE_LOG_REQUESTS": "false",
        "WORKFORCE_LOG_LEVEL": "WARNING",
        "WORKFORCE_PLAN_START_METHOD": "fork",
        "WORKFORCE_PLAN_PREWARM": "false",
    }
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1"),
            *("--port", str(port), "--log-level", "warning"),
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the service did not start")
            time.sleep(0.2)
        yield Served(base=base, lead_token=lead, organisation_token=hr)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()


def start_chromium(*arguments: str) -> WebDriver:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,1000",
        "--lang=en-GB",
        *arguments,
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver: WebDriver = webdriver.Chrome(
        options=options, service=webdriver.ChromeService(CHROMEDRIVER)
    )
    driver.set_page_load_timeout(60)
    return driver


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    driver = start_chromium()
    try:
        yield driver
    finally:
        driver.quit()


# Helpers -------------------------------------------------------------------------------


def screenshot(driver: WebDriver, name: str) -> None:
    """The whole page, not only the window."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics["cssContentSize"]
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {
                "x": 0,
                "y": 0,
                "width": size["width"],
                "height": min(size["height"], 12000),
                "scale": 1,
            },
        },
    )
    (ARTIFACTS / f"{name}.png").write_bytes(base64.b64decode(shot["data"]))


def visit(driver: WebDriver, url: str) -> None:
    """Open ``url``; once more if Chromium's renderer, busy on a loaded two-core machine
    (or still printing), misses ChromeDriver's deadline."""
    try:
        driver.get(url)
    except TimeoutException:
        driver.get(url)


def wait_for(driver: WebDriver, condition: Any, timeout: float = 60) -> Any:
    # A plan's page refreshes itself while the plan solves: an element read just before a
    # refresh goes stale, and is looked up again on the next poll.
    return WebDriverWait(
        driver,
        timeout,
        ignored_exceptions=(NoSuchElementException, StaleElementReferenceException),
    ).until(condition)


def charts_drawn(driver: WebDriver) -> int:
    wait_for(
        driver, lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("data-charts-drawn")
    )
    drawn = int(driver.find_element(By.TAG_NAME, "html").get_attribute("data-charts-drawn") or 0)
    for canvas in driver.find_elements(By.CSS_SELECTOR, "canvas[data-chart]"):
        # Chart.js sized the canvas and painted on it.
        assert canvas.size["width"] > 100
        assert canvas.size["height"] > 100
    return drawn


def value(cell: WebElement) -> float:
    return float(cell.get_attribute("data-value") or "nan")


def status_cells(driver: WebDriver, table_id: str) -> dict[tuple[str, str], WebElement]:
    return {
        (row.get_attribute("data-unit") or "", row.get_attribute("data-target") or ""): row
        for row in driver.find_elements(By.CSS_SELECTOR, f"#{table_id} .status-item")
    }


def assert_status_matches_api(
    driver: WebDriver, table_id: str, items: list[dict[str, Any]]
) -> None:
    rows = status_cells(driver, table_id)
    assert set(rows) == {(i["code"], i["target"]) for i in items}
    for item in items:
        row = rows[item["code"], item["target"]]
        rag = row.find_element(By.CSS_SELECTOR, "[data-field=rag]")
        # RAG in words, not only colour.
        assert rag.text == RAG_TEXT[item["rag"]]
        latest = row.find_element(By.CSS_SELECTOR, "[data-field=latest]")
        if item["latest"] is None:
            assert latest.get_attribute("data-value") == ""
        else:
            assert value(latest) == pytest.approx(item["latest"], abs=1e-9)
            kind = "percent" if item["measure"] == "turnover_rate_12m" else "wte"
            assert latest.text.startswith(fmt(item["latest"], kind))


def assert_same_origin_only(driver: WebDriver, base: str) -> None:
    """Every resource the page loaded came from the service itself."""
    names = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    assert names, "the page loaded no assets at all"
    assert all(name.startswith(base + "/") for name in names), names


def assert_no_console_errors(driver: WebDriver) -> None:
    """No CSP violation, no script error, no failed asset."""
    entries = driver.get_log("browser")  # type: ignore[no-untyped-call]
    severe = [e for e in entries if e["level"] == "SEVERE"]
    assert not severe, severe


def sign_in(driver: WebDriver, served: Served, token: str) -> None:
    field = driver.find_element(By.ID, "token")
    field.clear()
    field.send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "form.sign-in button[type=submit]").click()


def request_plan(driver: WebDriver, served: Served, **fields: str) -> str:
    visit(driver, served.base + "/ui/plans")
    for name, text in fields.items():
        element = driver.find_element(By.ID, name)
        element.clear()
        element.send_keys(text)
    driver.find_element(By.CSS_SELECTOR, "#plan-form button[type=submit]").click()
    wait_for(driver, lambda d: "/ui/plans/" in d.current_url)
    # A plan still solving refreshes its page until it is done.
    wait_for(
        driver,
        lambda d: (
            d.find_element(By.CSS_SELECTOR, "[data-field=state]").text in ("finished", "failed")
        ),
        timeout=120,
    )
    return str(driver.current_url.rsplit("/", 1)[-1])


# The walk ------------------------------------------------------------------------------


def test_a_workforce_lead_signs_in_reads_the_dashboard_plans_and_compares(
    served: Served, browser: WebDriver
) -> None:
    driver = browser
    base = served.base

    # Signed out: any page leads to the sign-in form, and back after it.
    visit(driver, base + "/ui/")
    wait_for(driver, lambda d: "/ui/sign-in" in d.current_url)
    assert driver.find_element(By.TAG_NAME, "h1").text == "Sign in"
    sign_in(driver, served, "wf_not-a-token")
    problem = wait_for(driver, lambda d: d.find_element(By.ID, "sign-in-problem"))
    assert "unknown or has been revoked" in problem.text
    assert driver.get_cookie("wf_ui_token") is None
    screenshot(driver, "01-sign-in-refused")
    # The refused sign-in's 401 is logged as an error; later errors are not expected.
    driver.get_log("browser")  # type: ignore[no-untyped-call]

    sign_in(driver, served, served.lead_token)
    wait_for(driver, lambda d: d.current_url == base + "/ui/")
    cookie = driver.get_cookie("wf_ui_token")
    assert cookie is not None
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/ui"
    assert driver.execute_script("return document.cookie") == ""  # HttpOnly: no script reads it

    # The dashboard: the system, places and organisations as the API rates them.
    assert "Synthetic demo data" in driver.find_element(By.ID, "synthetic-notice").text
    assert charts_drawn(driver) == 4
    for level in ("system", "place", "organisation"):
        items = served.api(f"/v1/targets/status?level={level}")["items"]
        assert_status_matches_api(driver, f"status-{level}", items)
    series = served.api(f"/v1/metrics/series?level=system&code=HIOW&from=2019-04&to={DEMO_UNTIL}")
    for measure in ("nursing_capacity_wte", "turnover_rate_12m", "vacancy_rate"):
        table = driver.find_element(By.ID, f"table-system-{measure}")
        cells = table.find_elements(By.CSS_SELECTOR, "tbody tr td:first-of-type")
        shown = [float(c.get_attribute("data-value") or "nan") for c in cells]
        expected = [item[measure] for item in series["items"]]
        assert shown == pytest.approx(expected, nan_ok=True)
    assert_same_origin_only(driver, base)
    screenshot(driver, "02-dashboard")

    # A place, through its link.
    driver.find_element(By.CSS_SELECTOR, "#status-place a[href='/ui/places/Southampton']").click()
    wait_for(driver, lambda d: "Southampton" in d.find_element(By.TAG_NAME, "h1").text)
    assert charts_drawn(driver) == 4
    place_items = [
        i
        for i in served.api("/v1/targets/status?level=place")["items"]
        if i["code"] == "Southampton"
    ]
    rows = driver.find_elements(By.CSS_SELECTOR, "#status-unit .status-item")
    assert [r.find_element(By.CSS_SELECTOR, "[data-field=rag]").text for r in rows] == [
        RAG_TEXT[i["rag"]] for i in place_items
    ]
    screenshot(driver, "03-place-southampton")

    # Two plans through the form, with different scenarios.
    first = request_plan(driver, served, start="2022-01", months="12", agency_reduction="0.2")
    second = request_plan(driver, served, start="2022-01", months="12", turnover_target="0.13")
    assert first != second

    # A plan page: its figures are the API's.
    visit(driver, f"{base}/ui/plans/{first}")
    plan = served.api(f"/v1/plans/{first}")
    assert plan["state"] == "finished"
    assert driver.find_element(By.CSS_SELECTOR, "[data-field=status]").text == plan["status"]
    cash = sum(plan["cost"][part] for part in ("bank", "travel", "agency"))
    shown_cash = driver.find_element(By.CSS_SELECTOR, "#cost-table [data-field=cash]")
    assert value(shown_cash) == pytest.approx(cash)
    assert shown_cash.text == fmt(cash, "gbp")
    penalty = driver.find_element(By.CSS_SELECTOR, "#cost-table [data-field=penalty]")
    assert value(penalty) == pytest.approx(plan["cost"]["unfilled_penalty"])
    allocations = served.api(f"/v1/plans/{first}/allocations")
    by_organisation: dict[str, float] = defaultdict(float)
    for row in allocations:
        by_organisation[row["organisation"]] += row["wte"]
    shown_wte = {
        row.get_attribute("data-key"): value(
            row.find_element(By.CSS_SELECTOR, "[data-field=wte_months]")
        )
        for row in driver.find_elements(
            By.CSS_SELECTOR, "#allocation-organisation tbody tr[data-key]"
        )
    }
    assert shown_wte == pytest.approx({k: round(v, 2) for k, v in by_organisation.items()})
    # Pound prices only when every target is met; otherwise the gap, in WTE, leads.
    all_met = all(t["met"] for t in plan["targets"].values())
    priced = [p for p in plan["pool_shadow_prices"] if p["value"] > 0 and all_met]
    pool_rows = driver.find_elements(By.CSS_SELECTOR, "#pools-table tbody tr[data-pool]")
    assert bool(driver.find_elements(By.ID, "gap")) is not all_met
    if priced:
        top = max(priced, key=lambda p: p["value"])
        assert value(pool_rows[0].find_elements(By.TAG_NAME, "td")[0]) == pytest.approx(
            round(top["value"], 2)
        )
    else:
        assert not pool_rows
    nursing = driver.find_element(By.ID, "table-plan-nursing")
    achieved = [
        value(c) for c in nursing.find_elements(By.CSS_SELECTOR, "tbody tr td:first-of-type")
    ]
    assert achieved == pytest.approx([m["nursing_capacity_wte"] for m in plan["system"]])
    assert "Synthetic demo data" in driver.find_element(By.ID, "synthetic-notice").text
    assert charts_drawn(driver) == 4
    assert_same_origin_only(driver, base)
    screenshot(driver, "04-plan")
    pdf = base64.b64decode(driver.print_page())
    assert pdf.startswith(b"%PDF")
    (ARTIFACTS / "04-plan.pdf").write_bytes(pdf)
    # On paper the navigation, the forms and the buttons go; the figures and charts stay.
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    assert not driver.find_element(By.CSS_SELECTOR, "form.sign-out").is_displayed()
    assert driver.find_element(By.ID, "cost-table").is_displayed()
    assert driver.find_element(By.ID, "synthetic-notice").is_displayed()
    screenshot(driver, "04-plan-print")
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})

    # The comparison, from the plans list's check boxes.
    visit(driver, base + "/ui/plans")
    for plan_id in (first, second):
        driver.find_element(By.ID, f"pick-{plan_id}").click()
    driver.find_element(By.CSS_SELECTOR, "#compare-form button[type=submit]").click()
    wait_for(driver, lambda d: "/ui/compare" in d.current_url)
    differ = {
        row.get_attribute("data-key"): [c.text for c in row.find_elements(By.TAG_NAME, "td")]
        for row in driver.find_elements(By.CSS_SELECTOR, "#scenario-differences tbody tr")
    }
    # Newest first on the list, but the comparison keeps the order the boxes were ticked in
    # the list: find each plan's column from the header.
    headers = [
        h.text for h in driver.find_elements(By.CSS_SELECTOR, "#scenario-differences thead th")
    ][1:]
    column = {plan_id: headers.index(f"Plan {plan_id}") for plan_id in (first, second)}
    assert set(differ) == {"agency_reduction", "turnover_target"}
    assert differ["agency_reduction"][column[first]] == "0.2"
    assert differ["agency_reduction"][column[second]] == "default"
    assert differ["turnover_target"][column[second]] == "0.13"
    totals = driver.find_elements(By.CSS_SELECTOR, "#comparison tr[data-field=cash] td")
    for plan_id in (first, second):
        cost = served.api(f"/v1/plans/{plan_id}")["cost"]
        assert value(totals[column[plan_id]]) == pytest.approx(
            cost["bank"] + cost["travel"] + cost["agency"]
        )
    assert charts_drawn(driver) == 3
    screenshot(driver, "05-compare")
    assert_no_console_errors(driver)

    # Signing out forgets the token.
    driver.find_element(By.CSS_SELECTOR, "form.sign-out button").click()
    wait_for(driver, lambda d: "/ui/sign-in" in d.current_url)
    assert driver.get_cookie("wf_ui_token") is None
    visit(driver, base + "/ui/plans")
    wait_for(driver, lambda d: "/ui/sign-in" in d.current_url)

    # An organisation's token sees its organisation's pages only.
    visit(driver, base + "/ui/sign-in")
    sign_in(driver, served, served.organisation_token)
    wait_for(driver, lambda d: d.current_url.endswith("/ui/organisations/RHM"))
    assert "University Hospital Southampton" in driver.find_element(By.TAG_NAME, "h1").text
    assert charts_drawn(driver) == 4
    screenshot(driver, "06-organisation-rhm")
    for path in ("/ui/organisations/RHU", "/ui/places/Southampton", "/ui/plans"):
        visit(driver, base + path)
        assert driver.find_element(By.TAG_NAME, "h1").text == "These credentials may not do this"
    visit(driver, base + "/ui/")
    wait_for(driver, lambda d: d.current_url.endswith("/ui/organisations/RHM"))


# The API docs, offline ---------------------------------------------------------------


@pytest.fixture(scope="module")
def offline_browser() -> Iterator[WebDriver]:
    """Chromium that can reach nothing but this machine: every other host fails to resolve."""
    driver = start_chromium("--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1")
    try:
        yield driver
    finally:
        driver.quit()


def test_the_api_docs_render_with_no_network(served: Served, offline_browser: WebDriver) -> None:
    driver = offline_browser
    # The cut is real: a CDN's address does not load.
    with pytest.raises(WebDriverException, match="ERR_NAME_NOT_RESOLVED"):
        driver.get("https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css")

    visit(driver, served.base + "/")
    wait_for(driver, lambda d: "/ui/" in d.current_url)

    visit(driver, served.base + "/docs")
    wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock"))
    operations = {
        element.get_attribute("id")
        for element in driver.find_elements(By.CSS_SELECTOR, ".opblock[id^=operations-]")
    }
    paths = served_openapi_operations(served)
    assert len(operations) == paths
    assert "operations-plans-create_plan" in operations
    assert "operations-plans-list_sweeps" in operations
    assert_same_origin_only(driver, served.base)
    screenshot(driver, "docs-offline")

    visit(driver, served.base + "/redoc")
    wait_for(
        driver, lambda d: d.find_elements(By.XPATH, "//h1[contains(., 'HIOW workforce planning')]")
    )
    wait_for(
        driver,
        lambda d: (
            "Request an allocation plan of the bank" in d.find_element(By.TAG_NAME, "body").text
        ),
    )
    # Its scripts and styles are the service's; only ReDoc's footer logo points elsewhere,
    # and it is simply not shown.
    loaded = driver.execute_script(
        "return performance.getEntriesByType('resource')"
        ".filter(e => ['script', 'link', 'css'].includes(e.initiatorType)).map(e => e.name)"
    )
    assert loaded
    assert all(name.startswith(served.base + "/") for name in loaded), loaded
    screenshot(driver, "redoc-offline")


def served_openapi_operations(served: Served) -> int:
    document = httpx.get(served.base + "/openapi.json", timeout=30).json()
    return sum(
        1
        for item in document["paths"].values()
        for method in item
        if method in ("get", "put", "post", "delete", "patch")
    )
