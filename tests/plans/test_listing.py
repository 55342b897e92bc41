"""Plans and sweeps that can be told apart: a plan's label, the scenario keys it changed,
its sweep, its cash cost and its targets met, in the API's list and on the plans page;
and the list of sweeps."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.plans.test_plans import HAND_SCENARIO, planner, small_system
from tests.sweeps.test_sweeps import wait_for_sweep

__all__ = ["planner", "small_system"]
HAND_PLAN: dict[str, Any] = {"start": "2024-03", "months": 1, "scenario": HAND_SCENARIO}


def test_the_plans_list_tells_plans_apart(
    client: TestClient, planner: dict[str, str], small_system: None
) -> None:
    """The hand-solved plan pays £1,200 bank + £100 travel + £600 agency = £1,900 cash."""
    labelled = client.post(
        "/v1/plans", json={**HAND_PLAN, "label": "pool at home first"}, headers=planner
    )
    assert labelled.status_code == 201, labelled.text
    assert labelled.json()["label"] == "pool at home first"
    plain = client.post("/v1/plans", json={**HAND_PLAN, "scenario": {}}, headers=planner)
    assert plain.status_code == 201, plain.text

    items = client.get("/v1/plans", headers=planner).json()["items"]
    by_id = {item["id"]: item for item in items}
    first = by_id[labelled.json()["id"]]
    assert first["label"] == "pool at home first"
    assert first["changed"] == sorted(HAND_SCENARIO)
    assert (first["sweep_id"], first["sweep_point"]) == (None, None)
    assert first["cash_cost"] == 1900.0
    assert first["total_cost"] == 1900.0
    assert first["targets_met"]
    assert all(first["targets_met"].values())
    second = by_id[plain.json()["id"]]
    assert (second["label"], second["changed"]) == (None, [])
    assert second["cash_cost"] is not None

    page = client.get("/v1/plans", headers=planner)  # the page, as a browser signs in
    assert page.status_code == 200


def test_a_label_is_checked(client: TestClient, planner: dict[str, str]) -> None:
    for label in ("", "x" * 201):
        refused = client.post("/v1/plans", json={**HAND_PLAN, "label": label}, headers=planner)
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["pointer"] == "/label"


def test_sweeps_are_listed_with_their_state_and_grid_and_their_points_show_it(
    client: TestClient, planner: dict[str, str], small_system: None
) -> None:
    empty = client.get("/v1/plans/sweeps", headers=planner)
    assert empty.status_code == 200, empty.text
    assert empty.json() == {"items": [], "total": 0, "limit": 50, "offset": 0, "next": None}

    made = []
    for label in ("travel", "capacity"):
        response = client.post(
            "/v1/plans/sweeps",
            json={
                "base": {**HAND_PLAN, "label": label},
                "grid": {"travel_cost_per_wte_month": {"from": 50, "to": 100, "steps": 2}},
            },
            headers=planner,
        )
        assert response.status_code == 202, response.text
        made.append(response.json()["id"])
    for sweep_id in made:
        wait_for_sweep(client, planner, sweep_id)

    listed = client.get("/v1/plans/sweeps", params={"limit": 1}, headers=planner).json()
    assert listed["total"] == 2
    assert [item["id"] for item in listed["items"]] == [made[1]]
    assert listed["next"] is not None
    assert "offset=1" in listed["next"]
    newest = listed["items"][0]
    assert newest["label"] == "capacity"
    assert (newest["state"], newest["total"], newest["done"], newest["failed"]) == (
        "finished",
        2,
        2,
        0,
    )
    assert newest["grid"] == {"travel_cost_per_wte_month": [50.0, 100.0]}
    second = client.get("/v1/plans/sweeps", params={"offset": 1}, headers=planner).json()
    assert [item["id"] for item in second["items"]] == [made[0]]

    points = [p for p in client.get("/v1/plans", headers=planner).json()["items"] if p["sweep_id"]]
    assert len(points) == 4
    assert {p["sweep_id"] for p in points} == set(made)
    assert {p["sweep_point"]["travel_cost_per_wte_month"] for p in points} == {50.0, 100.0}
    assert {p["label"] for p in points} == {"travel", "capacity"}
    assert {p["cash_cost"] for p in points} == {1900.0, 2000.0}


def test_the_plans_page_shows_label_changes_sweep_cash_and_targets(
    client: TestClient, planner: dict[str, str], small_system: None
) -> None:
    plan = client.post(
        "/v1/plans", json={**HAND_PLAN, "label": "pool at home first"}, headers=planner
    ).json()
    sweep = client.post(
        "/v1/plans/sweeps",
        json={"base": HAND_PLAN, "grid": {"travel_cost_per_wte_month": [100]}},
        headers=planner,
    ).json()
    wait_for_sweep(client, planner, sweep["id"])
    token = planner["Authorization"].removeprefix("Bearer ")
    signed = client.post(
        "/ui/sign-in",
        data={"token": token, "next": "/ui/plans"},
        headers={"Origin": "http://testserver"},
    )
    assert signed.status_code == 200  # followed to the plans page
    page = client.get("/ui/plans").text
    row = page[page.index(f'data-plan="{plan["id"]}"') :]
    row = row[: row.index("</tr>")]
    assert "pool at home first" in row
    assert "agency_cost_per_wte_month, agency_reduction" in row
    assert "£1,900" in row
    met = client.get("/v1/plans", headers=planner).json()["items"][-1]["targets_met"]
    assert met
    assert all(met.values())
    assert f'data-field="targets_met">{len(met)} of {len(met)}</td>' in row
    point_row = page[page.index(f"{sweep['id']}: travel_cost_per_wte_month = 100") :]
    assert "£2,000" in point_row[: point_row.index("</tr>")]
