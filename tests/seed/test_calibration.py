"""The demo's NHS trusts against NHS Digital's published staff in post.

NHS Digital, "HCHS staff by staff group, nationality and organisation, September 2017 and
June 2018" (Open Government Licence): FTE in June 2018. The figures below are the
published columns mapped onto the service's staff groups by hand (support to ST&T and to
ambulance staff are support workers; Solent NHS Trust's staff are RW1's; groups of
fewer than 10 FTE are left out), independently of ``reference.published_fte_by_group``.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from app.periods import period_range
from seed import reference, synthetic
from seed.pools import hiow_pools
from seed.synthetic import SyntheticReturn

# A trust's staff group may drift this far from its calibration target in the first year.
DRIFT = 0.05
FIRST_YEAR = ("2019-04", "2020-03")

PUBLISHED_BY_GROUP = {
    "RHM": {
        "NURSE": 2731,
        "MIDWIFE": 212,
        "DOCTOR": 1367,
        "STT": 1128,
        "SUPPORT": 2769,
        "INFRA": 1088,
    },
    "RHU": {
        "NURSE": 1778,
        "MIDWIFE": 148,
        "DOCTOR": 882,
        "STT": 834,
        "SUPPORT": 2151,
        "INFRA": 416,
    },
    "RN5": {
        "NURSE": 1271,
        "MIDWIFE": 172,
        "DOCTOR": 702,
        "STT": 577,
        "SUPPORT": 1644,
        "INFRA": 861,
    },
    "R1F": {
        "NURSE": 693,
        "MIDWIFE": 42,
        "DOCTOR": 222,
        "STT": 305,
        "SUPPORT": 847,
        "AMBULANCE": 64,
        "INFRA": 451,
    },
    # Southern Health 1,546 + Solent 756 nurses, and so on.
    "RW1": {"NURSE": 2302, "DOCTOR": 325, "STT": 1120, "SUPPORT": 2849, "INFRA": 1073},
    "RYE": {"NURSE": 67, "SUPPORT": 1766, "AMBULANCE": 1147, "INFRA": 240},
}


@pytest.fixture(scope="module")
def returns() -> list[SyntheticReturn]:
    return list(synthetic.generate_returns(FIRST_YEAR[1]))


def staff_in_post(returns: list[SyntheticReturn]) -> dict[tuple[str, str], dict[str, float]]:
    """(organisation, staff group) -> period -> staff in post WTE."""
    found: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for demo_return in returns:
        for line in demo_return.lines:
            found[demo_return.organisation, line.staff_group][demo_return.period] = float(
                line.staff_in_post_wte
            )
    return found


def test_the_published_rows_add_up_to_the_published_totals() -> None:
    assert len(reference.PUBLISHED_GROUPS) == 9
    for trust, row in reference.PUBLISHED_FTE_JUNE_2018.items():
        assert len(row) == len(reference.PUBLISHED_GROUPS)
        # The publisher rounds small cells: the columns add up to within 1% of the total.
        assert sum(row) == pytest.approx(reference.PUBLISHED_TOTALS_JUNE_2018[trust], rel=0.01)


def test_the_published_groups_map_onto_the_services_groups() -> None:
    assert reference.published_fte_by_group() == PUBLISHED_BY_GROUP
    trusts = {o.code for o in reference.ORGANISATIONS if o.headcount is None}
    assert trusts == set(PUBLISHED_BY_GROUP)


def test_the_growth_to_2019_04_is_the_national_trend() -> None:
    # 2 to 3% a year over the 10 months from June 2018 to April 2019.
    factor = synthetic.growth_to_first_period()
    assert (1.02) ** (10 / 12) <= factor <= (1.03) ** (10 / 12)
    assert factor == pytest.approx(1.025 ** (10 / 12))


def test_every_trust_group_starts_at_its_calibration_target(
    returns: list[SyntheticReturn],
) -> None:
    factor = synthetic.growth_to_first_period()
    found = staff_in_post(returns)
    trust_units = {key for key in found if key[0] in PUBLISHED_BY_GROUP}
    expected_units = {(t, g) for t, groups in PUBLISHED_BY_GROUP.items() for g in groups}
    assert trust_units == expected_units
    for trust, groups in PUBLISHED_BY_GROUP.items():
        for group, published in groups.items():
            target = published * factor
            assert found[trust, group]["2019-04"] == pytest.approx(target, abs=0.01)
            assert synthetic.calibration_targets()[trust, group] == pytest.approx(target)


def test_no_trust_group_drifts_more_than_5_percent_in_the_first_year(
    returns: list[SyntheticReturn],
) -> None:
    factor = synthetic.growth_to_first_period()
    found = staff_in_post(returns)
    for trust, groups in PUBLISHED_BY_GROUP.items():
        for group, published in groups.items():
            for period in period_range(*FIRST_YEAR):
                assert found[trust, group][period] == pytest.approx(
                    published * factor, rel=DRIFT
                ), (trust, group, period)


def test_the_trusts_nursing_is_the_published_not_the_old_demos(
    returns: list[SyntheticReturn],
) -> None:
    """The demo once showed RN5 with 2,133 nurses in 2019-04, RW1 3,713 and RHM 3,280."""
    found = staff_in_post(returns)
    assert found["RN5", "NURSE"]["2019-04"] == pytest.approx(1_297, abs=1)
    assert found["RW1", "NURSE"]["2019-04"] == pytest.approx(2_350, abs=1)
    assert found["RHM", "NURSE"]["2019-04"] == pytest.approx(2_788, abs=1)


def test_bank_pools_are_sized_from_the_calibrated_bank_use() -> None:
    """Every pool is its place's bank use in the groups it covers, over the 12 months to
    the month it is sized at, plus the strategy's initial increase: so the pools shrank
    with the trusts, and the nursing pools stay a small share of nursing staff."""
    until = "2024-03"
    first = "2023-04"
    places = {o.code: o.place for o in reference.ORGANISATIONS}
    bank: dict[tuple[str, str], float] = defaultdict(float)
    nursing_staff: dict[str, float] = defaultdict(float)
    for demo_return in synthetic.generate_returns(until, first=first):
        place = places[demo_return.organisation]
        for line in demo_return.lines:
            bank[place, line.staff_group] += float(line.bank_wte) / 12
            if demo_return.period == until and line.staff_group in reference.NURSING_GROUPS:
                nursing_staff[place] += float(line.staff_in_post_wte)
    pools = {p.code: p for p in hiow_pools(until)}
    assert len(pools) == len(reference.PLACES) * len(reference.POOL_KINDS)
    for place in reference.PLACES:
        for kind in reference.POOL_KINDS:
            pool = pools[reference.pool_code(place, kind)]
            used = sum(bank[place, group] for group in kind.covers)
            expected = used * (1 + reference.BANK_INITIAL_INCREASE)
            assert float(pool.capacity_wte) == pytest.approx(expected, abs=0.02), pool.code
        nursing_pool = pools[f"{reference.PLACE_CODES[place]}-NURSING"]
        assert 0.03 < float(nursing_pool.capacity_wte) / nursing_staff[place] < 0.12, place
