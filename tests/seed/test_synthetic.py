"""The synthetic demo returns: deterministic, valid, and calibrated to the published figures.

The calibration checks recompute the figures from the generated lines, independently of
``synthetic.yearly_figures``.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import asdict
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from app.periods import period_range
from app.returns.schemas import LINE_FIELDS, ReturnLineIn
from seed import reference, synthetic
from seed.synthetic import SyntheticReturn

UNTIL = "2026-10"
PUBLISHED_HEADCOUNT = 77_000


@pytest.fixture(scope="module")
def returns() -> list[SyntheticReturn]:
    return list(synthetic.generate_returns(UNTIL))


def system_totals(returns: list[SyntheticReturn]) -> dict[str, dict[str, Decimal]]:
    """period -> figure -> the system's total."""
    totals: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for demo_return in returns:
        month = totals[demo_return.period]
        for line in demo_return.lines:
            month["staff_in_post"] += line.staff_in_post_wte
            month["leavers"] += line.leavers_wte
            if line.staff_group == "NURSE":
                month["nurse_establishment"] += line.establishment_wte
                month["nurse_vacancy"] += line.vacancy_wte
            if line.staff_group in reference.NURSING_GROUPS:
                month["nursing_capacity"] += (
                    line.staff_in_post_wte + line.bank_wte + line.agency_wte
                )
    return totals


def turnover(totals: dict[str, dict[str, Decimal]], first: str, last: str) -> float:
    """Leavers over the months / mean staff in post over them (12 months: annual)."""
    periods = list(period_range(first, last))
    leavers = sum((totals[p]["leavers"] for p in periods), Decimal(0))
    mean_staff = sum((totals[p]["staff_in_post"] for p in periods), Decimal(0)) / len(periods)
    return float(leavers / mean_staff)


def nurse_vacancy_rate(totals: dict[str, dict[str, Decimal]], first: str, last: str) -> float:
    periods = list(period_range(first, last))
    vacancies = sum((totals[p]["nurse_vacancy"] for p in periods), Decimal(0))
    return float(vacancies / sum((totals[p]["nurse_establishment"] for p in periods), Decimal(0)))


def test_the_same_every_run(returns: list[SyntheticReturn]) -> None:
    assert list(synthetic.generate_returns(UNTIL)) == returns


def test_months_two_runs_share_do_not_depend_on_the_last_month(
    returns: list[SyntheticReturn],
) -> None:
    shorter = list(synthetic.generate_returns("2021-02"))
    assert shorter == returns[: len(shorter)]
    later = list(synthetic.generate_returns("2022-06", first="2022-01"))
    assert later == [r for r in returns if "2022-01" <= r.period <= "2022-06"]


def test_every_organisation_every_month_from_2019_04(returns: list[SyntheticReturn]) -> None:
    periods = list(period_range("2019-04", UNTIL))
    assert returns[0].period == synthetic.FIRST_PERIOD == "2019-04"
    assert returns[-1].period == UNTIL
    assert [(r.period, r.organisation) for r in returns] == [
        (p, o.code) for p in periods for o in reference.ORGANISATIONS
    ]
    assert all(r.lines for r in returns)


def test_before_the_first_period_there_is_nothing() -> None:
    assert list(synthetic.generate_returns("2019-03")) == []
    assert {r.period for r in synthetic.generate_returns("2019-04", first="2018-01")} == {"2019-04"}


def test_not_a_month_is_refused() -> None:
    with pytest.raises(ValueError, match="YYYY-MM"):
        list(synthetic.generate_returns("2024-13"))


def test_every_line_is_a_valid_return_line(returns: list[SyntheticReturn]) -> None:
    groups = {g.code for g in reference.STAFF_GROUPS}
    for demo_return in returns:
        assert len({line.staff_group for line in demo_return.lines}) == len(demo_return.lines)
        for line in demo_return.lines:
            values = asdict(line)
            assert tuple(values) == LINE_FIELDS
            ReturnLineIn.model_validate(values)
            assert line.staff_group in groups
            assert line.vacancy_wte == max(
                Decimal(0), line.establishment_wte - line.staff_in_post_wte
            )
            assert line.vacancy_wte <= line.establishment_wte
            assert line.staff_in_post_wte > 0
            assert Decimal("0.01") <= line.sickness_absence_rate <= Decimal("0.12")


def test_staff_in_post_follows_starters_and_leavers(returns: list[SyntheticReturn]) -> None:
    previous: dict[tuple[str, str], tuple[Decimal, Decimal, Decimal]] = {}
    for demo_return in returns:
        for line in demo_return.lines:
            key = (demo_return.organisation, line.staff_group)
            if key in previous:
                staff, starters, leavers = previous[key]
                assert line.staff_in_post_wte == staff + starters - leavers
            previous[key] = (line.staff_in_post_wte, line.starters_wte, line.leavers_wte)


def test_headcount_is_the_published_77000(returns: list[SyntheticReturn]) -> None:
    totals = system_totals(returns)
    first = float(totals["2019-04"]["staff_in_post"]) * synthetic.HEADCOUNT_PER_WTE
    assert first == pytest.approx(PUBLISHED_HEADCOUNT, rel=0.01)
    for period in ("2019-12", "2020-03"):
        headcount = float(totals[period]["staff_in_post"]) * synthetic.HEADCOUNT_PER_WTE
        assert headcount == pytest.approx(PUBLISHED_HEADCOUNT, rel=0.05)


def test_each_synthetic_organisation_starts_at_its_headcount(
    returns: list[SyntheticReturn],
) -> None:
    """General practice and the councils, which no published source sizes by staff group."""
    synthetic_organisations = [o for o in reference.ORGANISATIONS if o.headcount is not None]
    assert {o.kind for o in synthetic_organisations} == {"primary_care", "social_care"}
    for demo_return in returns[: len(reference.ORGANISATIONS)]:
        published = reference.organisation(demo_return.organisation).headcount
        if published is None:
            continue
        wte = sum(line.staff_in_post_wte for line in demo_return.lines)
        assert float(wte) * synthetic.HEADCOUNT_PER_WTE == pytest.approx(published, rel=0.01)


def test_turnover_is_about_14_2_percent_in_2019_20_then_eases(
    returns: list[SyntheticReturn],
) -> None:
    totals = system_totals(returns)
    assert turnover(totals, "2019-04", "2020-03") == pytest.approx(0.142, abs=0.007)
    # Short of the 12% commitment by 2024-03, and still easing afterwards.
    to_2024_03 = turnover(totals, "2023-04", "2024-03")
    assert 0.12 < to_2024_03 < 0.135
    assert 0.115 < turnover(totals, "2025-11", UNTIL) < to_2024_03


def test_nurse_vacancy_rate_falls_from_15_to_12_percent(returns: list[SyntheticReturn]) -> None:
    totals = system_totals(returns)
    assert 0.14 <= nurse_vacancy_rate(totals, "2019-04", "2019-04") <= 0.16
    assert 0.11 <= nurse_vacancy_rate(totals, "2025-11", UNTIL) <= 0.13


def test_nursing_capacity_grows_short_of_the_5_percent_commitment(
    returns: list[SyntheticReturn],
) -> None:
    # The commitment's baseline is 2019-03, before the first month: 2019-04 stands for it.
    totals = system_totals(returns)
    baseline = totals[synthetic.FIRST_PERIOD]["nursing_capacity"]
    growth = float(totals["2024-03"]["nursing_capacity"] / baseline - 1)
    assert 0.02 <= growth <= 0.05
    assert totals[UNTIL]["nursing_capacity"] > totals["2024-03"]["nursing_capacity"]


def test_agency_falls_after_2022(returns: list[SyntheticReturn]) -> None:
    agency: dict[str, Decimal] = defaultdict(Decimal)
    for demo_return in returns:
        agency[demo_return.period] += sum(line.agency_wte for line in demo_return.lines)

    def yearly(first: str) -> Decimal:
        return sum((agency[p] for p in period_range(first, f"{int(first[:4]) + 1}-03")), Decimal(0))

    assert yearly("2023-04") < yearly("2022-04")
    assert yearly("2024-04") < yearly("2023-04")
    # The 10% cut by 2024-03, from the first month.
    assert agency["2024-03"] < agency[synthetic.FIRST_PERIOD] * Decimal("0.9")


def test_agency_costs_more_than_bank_in_every_group(returns: list[SyntheticReturn]) -> None:
    spend: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 4)
    for demo_return in returns:
        for line in demo_return.lines:
            totals = spend[line.staff_group]
            totals[0] += line.bank_wte
            totals[1] += line.bank_spend_gbp
            totals[2] += line.agency_wte
            totals[3] += line.agency_spend_gbp
    for group, (bank_wte, bank_spend, agency_wte, agency_spend) in spend.items():
        bank_rate, agency_rate = bank_spend / bank_wte, agency_spend / agency_wte
        assert agency_rate > bank_rate, group
        # Under the price cap (Agenda for Change + 55%), bank pay being about AfC.
        assert agency_rate < bank_rate * Decimal("1.55"), group

    def total(column: int) -> Decimal:
        return sum((s[column] for s in spend.values()), Decimal(0))

    overall = (total(3) / total(2)) / (total(1) / total(0))
    assert Decimal("1.1") < overall < Decimal("1.35")  # about 20% more than bank


def test_bank_and_agency_cover_part_of_the_vacancies(returns: list[SyntheticReturn]) -> None:
    vacancy = bank = agency = Decimal(0)
    for demo_return in returns:
        for line in demo_return.lines:
            vacancy += line.vacancy_wte
            bank += line.bank_wte
            agency += line.agency_wte
    assert Decimal("0.5") < bank / vacancy < Decimal("0.65")
    assert Decimal("0.15") < agency / vacancy < Decimal("0.3")


def test_every_place_has_bank_use_for_every_pool_kind(returns: list[SyntheticReturn]) -> None:
    """seed.pools makes a pool only where the returns show bank use."""
    used = set()
    for demo_return in returns[-len(reference.ORGANISATIONS) :]:
        place = reference.organisation(demo_return.organisation).place
        used |= {(place, line.staff_group) for line in demo_return.lines if line.bank_wte > 0}
    for place in reference.PLACES:
        for kind in reference.POOL_KINDS:
            assert any((place, group) in used for group in kind.covers), (place, kind.suffix)


def test_yearly_figures_agree_with_the_lines(returns: list[SyntheticReturn]) -> None:
    totals = system_totals(returns)
    figures = {f.year: f for f in synthetic.yearly_figures(UNTIL)}
    assert list(figures) == [f"{y}/{(y + 1) % 100:02d}" for y in range(2019, 2027)]
    first = figures["2019/20"]
    assert first.months == 12
    assert first.turnover_rate == pytest.approx(turnover(totals, "2019-04", "2020-03"))
    assert first.nurse_vacancy_rate == pytest.approx(
        nurse_vacancy_rate(totals, "2019-04", "2020-03")
    )
    assert figures["2026/27"].months == 7
    assert figures["2026/27"].turnover_rate == pytest.approx(turnover(totals, "2025-11", UNTIL))
    assert synthetic.yearly_figures("2019-03") == []


def test_fast() -> None:
    started = time.perf_counter()
    count = sum(1 for _ in synthetic.generate_returns(UNTIL))
    assert count == len(reference.ORGANISATIONS) * len(list(period_range("2019-04", UNTIL)))
    assert time.perf_counter() - started < 1.5


def test_labelled_synthetic() -> None:
    assert synthetic.SOURCE == "synthetic-demo"
    assert "synthetic" in synthetic.SYNTHETIC_LABEL.lower()


@pytest.mark.parametrize(
    ("today", "month"),
    [
        (date(2026, 11, 23), "2026-10"),
        (date(2027, 1, 5), "2026-12"),
        (date(2026, 12, 1), "2026-11"),
        (date(2024, 3, 31), "2024-02"),
    ],
)
def test_latest_complete_month(today: date, month: str) -> None:
    assert synthetic.latest_complete_month(today) == month


def test_latest_complete_month_is_before_today() -> None:
    assert synthetic.latest_complete_month() < datetime.now(UTC).strftime("%Y-%m")
