"""Synthetic monthly returns for the HIOW organisations, calibrated to published figures.

Not real data: every revision loaded from here is marked ``synthetic`` and carries the
source ``synthetic-demo`` (see ``docs/data.md`` for the calibration and its sources):

- each NHS trust's staff in post by staff group in 2019-04: NHS Digital's published FTE
  for June 2018 (``reference.PUBLISHED_FTE_JUNE_2018``) grown by the national trend to
  the first month (``growth_to_first_period()``, 2.5% a year);
- about 77,000 staff and students in all in 2019: the trusts, and general practice and
  the councils' adult social care at the synthetic headcounts of ``seed.reference``
  (at ``HEADCOUNT_PER_WTE`` heads a WTE) that make up the balance;
- 12-month turnover about 14.2% in 2019/20 (England 9.1%), easing to about 12.5-13% by
  2024, a little short of the 12% commitment;
- registered nursing vacancy rate about 15% in 2019, falling to about 12%;
- bank covering 55-59% of vacant posts and agency 17-25%, agency falling after 2022, and
  agency costing 15-40% more than bank per WTE-month by staff group (about 20% on average
  in England; the price cap is Agenda for Change pay + 55%);
- nursing capacity (staff in post, bank and agency of nurses and midwives) growing about
  3-4% from 2019-04 to 2024-03: short of the 5% commitment, as the demo should show.

Each organisation and staff group is a stock of staff in post that leavers drain and
starters refill towards a funded establishment, so that next month's staff in post is
this month's plus starters minus leavers, to the hundredth of a WTE. The generator is deterministic:
each organisation and staff group draws its noise from its own generator, seeded by a
fixed constant and its codes, the same draws each month whatever the last month asked
for, so two runs agree on every month they share.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache
from itertools import pairwise

from app.periods import add_months, current_period, is_period, month_index, period_range
from seed import reference

SOURCE = "synthetic-demo"
SYNTHETIC_LABEL = "Synthetic demo data, calibrated to published HIOW figures; not real returns."
FIRST_PERIOD = "2019-04"
# Changing the seed changes every figure; docs/data.md quotes the figures of this one.
SEED = "hiow-workforce-demo-1"
# Heads per whole-time equivalent: a WTE is about 1.2 people, part-timers included.
HEADCOUNT_PER_WTE = 1.2

TWO_PLACES = Decimal("0.01")
FOUR_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class GroupAssumptions:
    """What the generator assumes of a staff group."""

    vacancy_rate_2019: float  # vacancies / establishment in 2019-04
    relative_turnover: float  # scaled so that the system's turnover is TURNOVER_2019
    bank_cost_2019: int  # GBP per WTE-month at bank rates in 2019/20
    agency_premium: float  # agency cost per WTE-month over bank's
    sickness_rate: float  # typical fraction of time lost


GROUPS: dict[str, GroupAssumptions] = {
    "NURSE": GroupAssumptions(0.150, 0.125, 3_400, 1.22, 0.052),
    "MIDWIFE": GroupAssumptions(0.110, 0.110, 3_550, 1.22, 0.055),
    "DOCTOR": GroupAssumptions(0.080, 0.100, 9_000, 1.40, 0.021),
    "STT": GroupAssumptions(0.100, 0.130, 3_300, 1.20, 0.038),
    "SUPPORT": GroupAssumptions(0.090, 0.170, 2_100, 1.15, 0.066),
    "AMBULANCE": GroupAssumptions(0.070, 0.120, 3_000, 1.20, 0.064),
    "INFRA": GroupAssumptions(0.060, 0.130, 2_300, 1.15, 0.041),
    "SOCIAL_CARE": GroupAssumptions(0.100, 0.220, 1_950, 1.15, 0.058),
    "PRIMARY_CARE": GroupAssumptions(0.070, 0.140, 2_900, 1.20, 0.036),
}

# The month of the published staff in post the trusts are calibrated to, and the national
# trend from it to FIRST_PERIOD: the HCHS workforce grew by about 2 to 3% between June 2018
# and June 2019; 2.5% a year over the 10 months gives a factor of 1.0208.
PUBLISHED_PERIOD = "2018-06"
ANNUAL_GROWTH_TO_FIRST_PERIOD = 0.025
# The share of each synthetic organisation's staff in each staff group, by its kind (the
# trusts' come from the published figures).
GROUP_MIX: dict[str, dict[str, float]] = {
    "social_care": {"SOCIAL_CARE": 0.85, "INFRA": 0.15},
    "primary_care": {"PRIMARY_CARE": 0.80, "NURSE": 0.20},
}

# The system's 12-month turnover in 2019/20; the staff groups' relative turnover is scaled to it.
TURNOVER_2019 = 0.142
# Trajectories: (period, value) knots, linear between them and held beyond the last.
# Turnover relative to 2019: lower in the first pandemic year, back up in 2022, easing
# to about 12.5% by 2024-03 (the 12-month figure lags, at about 13%).
TURNOVER_PATH = (
    ("2019-04", 1.0),
    ("2020-03", 1.0),
    ("2020-10", 0.92),
    ("2021-06", 0.95),
    ("2022-06", 1.0),
    ("2024-03", 0.885),
    ("2026-03", 0.855),
)
# Vacancy rates relative to 2019: eased in the pandemic, up again in 2022, then falling
# as international recruitment and newly qualified nurses arrived (nurses 15% -> 12%).
VACANCY_PATH = (
    ("2019-04", 1.0),
    ("2020-03", 0.98),
    ("2021-03", 0.90),
    ("2022-09", 0.94),
    ("2024-03", 0.84),
    ("2026-10", 0.79),
)
# Bank and agency WTE as a share of the vacant posts.
BANK_SHARE_PATH = (("2019-04", 0.55), ("2024-03", 0.57), ("2026-10", 0.59))
AGENCY_SHARE_PATH = (
    ("2019-04", 0.22),
    ("2020-10", 0.24),
    ("2022-06", 0.25),
    ("2024-03", 0.20),
    ("2026-10", 0.17),
)
# Funded posts grow slowly (a year, compounded monthly).
ESTABLISHMENT_GROWTH = 0.006
# Bank and agency rates rise each April by about the Agenda for Change pay award.
PAY_UPLIFTS = {
    "2020-04": 0.02,
    "2021-04": 0.03,
    "2022-04": 0.045,
    "2023-04": 0.05,
    "2024-04": 0.055,
    "2025-04": 0.036,
    "2026-04": 0.03,
}
# Sickness absence: a winter peak, and the pandemic's waves (extra fraction of time lost).
SICKNESS_WINTER_SWING = 0.12
SICKNESS_WAVES = (("2020-04", 0.018), ("2021-01", 0.010), ("2022-01", 0.012), ("2022-07", 0.005))
# Vacancies peak in late summer, until newly qualified staff start in autumn. Leavers are
# not made seasonal: a plan projects level leavers, and a seasonal history would put a
# plan's rolling 12-month turnover above its trajectory for half a year whatever it does.
LEAVERS_SEASONAL_SWING = 0.0
VACANCY_SEASONAL_SWING = 0.004
# Starters are never fewer than this share of the month's leavers.
MIN_STARTERS = 0.3
# Places across the Solent recruit harder (before normalising the system's rate).
ISLAND_VACANCY_FACTOR = 1.2


@dataclass(frozen=True)
class SyntheticLine:
    """One line of a return, in the contract's fields."""

    staff_group: str
    establishment_wte: Decimal
    staff_in_post_wte: Decimal
    vacancy_wte: Decimal
    starters_wte: Decimal
    leavers_wte: Decimal
    bank_wte: Decimal
    agency_wte: Decimal
    bank_spend_gbp: Decimal
    agency_spend_gbp: Decimal
    sickness_absence_rate: Decimal


@dataclass
class SyntheticReturn:
    organisation: str
    period: str
    lines: list[SyntheticLine] = field(default_factory=list)


def latest_complete_month(today: date | None = None) -> str:
    """The month before the current one (UTC): the latest a return can be complete for."""
    return add_months(current_period(today), -1)


def _along(path: Sequence[tuple[str, float]], period: str) -> float:
    """The value of a piecewise-linear trajectory at ``period``."""
    index = month_index(period)
    first_period, first_value = path[0]
    if index <= month_index(first_period):
        return first_value
    for (start, low), (end, high) in pairwise(path):
        if index <= month_index(end):
            span = month_index(end) - month_index(start)
            return low + (high - low) * (index - month_index(start)) / span
    return path[-1][1]


def _seasonal(period: str, peak_month: int) -> float:
    """A cosine over the year: 1 in ``peak_month`` (1-12), -1 six months away."""
    month = month_index(period) % 12 + 1
    return math.cos(2 * math.pi * (month - peak_month) / 12)


def _pay_index(period: str) -> float:
    """Pay relative to 2019/20."""
    index = 1.0
    for start, uplift in PAY_UPLIFTS.items():
        if period >= start:
            index *= 1 + uplift
    return index


def _sickness_waves(period: str) -> float:
    index = month_index(period)
    extra = 0.0
    for peak, height in SICKNESS_WAVES:
        distance = abs(index - month_index(peak))
        extra += height * max(0.0, 1 - distance / 2)
    return extra


@dataclass(frozen=True)
class _Month:
    """What every unit shares in a month: the trajectories' values and the seasons."""

    months: int  # since FIRST_PERIOD
    turnover: float
    vacancy: float
    vacancy_seasonal: float
    leavers_seasonal: float
    bank_share: float
    agency_share: float
    pay_index: float
    sickness_factor: float
    sickness_extra: float


@cache
def _month(period: str) -> _Month:
    return _Month(
        months=month_index(period) - month_index(FIRST_PERIOD),
        turnover=_along(TURNOVER_PATH, period),
        vacancy=_along(VACANCY_PATH, period),
        vacancy_seasonal=VACANCY_SEASONAL_SWING * _seasonal(period, 8),
        leavers_seasonal=1 + LEAVERS_SEASONAL_SWING * _seasonal(period, 8),
        bank_share=_along(BANK_SHARE_PATH, period),
        agency_share=_along(AGENCY_SHARE_PATH, period),
        pay_index=_pay_index(period),
        sickness_factor=1 + SICKNESS_WINTER_SWING * _seasonal(period, 1),
        sickness_extra=_sickness_waves(period),
    )


def growth_to_first_period() -> float:
    """The national trend's growth from PUBLISHED_PERIOD to FIRST_PERIOD (1.0208)."""
    months = month_index(FIRST_PERIOD) - month_index(PUBLISHED_PERIOD)
    return math.pow(1 + ANNUAL_GROWTH_TO_FIRST_PERIOD, months / 12)


@cache
def calibration_targets() -> dict[tuple[str, str], float]:
    """(organisation, staff group) -> staff in post WTE in FIRST_PERIOD: the trusts'
    published FTE grown by the national trend, the synthetic organisations' headcount
    split by GROUP_MIX and turned into WTE."""
    growth = growth_to_first_period()
    published = reference.published_fte_by_group()
    order = [group.code for group in reference.STAFF_GROUPS]
    targets: dict[tuple[str, str], float] = {}
    for organisation in reference.ORGANISATIONS:
        if organisation.headcount is None:
            sizes = {g: fte * growth for g, fte in published[organisation.code].items()}
        else:
            wte = organisation.headcount / HEADCOUNT_PER_WTE
            sizes = {g: wte * share for g, share in GROUP_MIX[organisation.kind].items()}
        for group in sorted(sizes, key=order.index):
            targets[organisation.code, group] = sizes[group]
    return targets


def _units() -> Iterator[tuple[reference.OrganisationRef, str, float]]:
    """Every organisation and staff group, with its staff in post WTE in FIRST_PERIOD."""
    for (code, group), wte in calibration_targets().items():
        yield reference.organisation(code), group, wte


@cache
def _character() -> dict[tuple[str, str], tuple[float, float]]:
    """Each organisation and staff group's vacancy and turnover factors, normalised so
    that the staff-weighted mean of each staff group's factors is 1 (the system's
    figures stay calibrated) and turnover scaled so that the system's is TURNOVER_2019."""
    raw: dict[tuple[str, str], tuple[float, float]] = {}
    weights: dict[tuple[str, str], float] = {}
    for organisation, group, wte in _units():
        rng = random.Random(f"{SEED}:character:{organisation.code}:{group}")
        vacancy = rng.uniform(0.85, 1.15)
        if organisation.place in reference.ISLAND_PLACES:
            vacancy *= ISLAND_VACANCY_FACTOR
        raw[organisation.code, group] = (vacancy, rng.uniform(0.9, 1.1))
        weights[organisation.code, group] = wte
    factors: dict[tuple[str, str], tuple[float, float]] = {}
    for group in GROUPS:
        keys = [key for key in raw if key[1] == group]
        total = sum(weights[key] for key in keys)
        vacancy_mean = sum(weights[key] * raw[key][0] for key in keys) / total
        turnover_mean = sum(weights[key] * raw[key][1] for key in keys) / total
        for key in keys:
            factors[key] = (raw[key][0] / vacancy_mean, raw[key][1] / turnover_mean)
    weighted = sum(w * GROUPS[key[1]].relative_turnover for key, w in weights.items())
    scale = TURNOVER_2019 * sum(weights.values()) / weighted
    return {
        key: (vacancy, turnover * GROUPS[key[1]].relative_turnover * scale)
        for key, (vacancy, turnover) in factors.items()
    }


def _wte(value: float) -> Decimal:
    """WTE or money: never negative, to the hundredth."""
    return Decimal(max(0.0, value)).quantize(TWO_PLACES)


def _rate(value: float) -> Decimal:
    return Decimal(min(1.0, max(0.0, value))).quantize(FOUR_PLACES)


def _series(
    organisation: reference.OrganisationRef, group: str, first_wte: float
) -> Iterator[tuple[str, SyntheticLine]]:
    """The unit's lines month after month from FIRST_PERIOD, for ever."""
    assumptions = GROUPS[group]
    vacancy_factor, turnover_factor = _character()[organisation.code, group]
    vacancy_2019 = assumptions.vacancy_rate_2019 * vacancy_factor
    rng = random.Random(f"{SEED}:{organisation.code}:{group}")

    def vacancy_rate(month: _Month, wobble: float) -> float:
        return vacancy_2019 * month.vacancy + month.vacancy_seasonal + wobble

    staff_in_post = _wte(first_wte)
    establishment_2019 = float(staff_in_post) / (1 - vacancy_rate(_month(FIRST_PERIOD), 0.0))

    def establishment(month: _Month) -> float:
        return establishment_2019 * math.pow(1 + ESTABLISHMENT_GROWTH, month.months / 12)

    wobble = 0.0
    period = FIRST_PERIOD
    while True:
        month = _month(period)
        following = add_months(period, 1)
        # The draws of a month, always in this order.
        wobble = 0.85 * wobble + rng.gauss(0.0, 0.0025)
        leavers_noise = rng.gauss(1.0, 0.06)
        bank_noise, agency_noise = rng.gauss(1.0, 0.06), rng.gauss(1.0, 0.10)
        bank_cost_noise, agency_cost_noise = rng.gauss(1.0, 0.02), rng.gauss(1.0, 0.02)
        sickness_noise = rng.gauss(1.0, 0.05)

        annual_turnover = turnover_factor * month.turnover * month.leavers_seasonal
        leavers = _wte(float(staff_in_post) * annual_turnover / 12 * leavers_noise)
        # Starters bring next month's staff in post to what the vacancy rate then allows;
        # some start every month, whatever the plan (the stock catches up next month).
        next_month = _month(following)
        wanted = establishment(next_month) * (1 - vacancy_rate(next_month, wobble))
        starters = _wte(
            max(wanted - float(staff_in_post) + float(leavers), MIN_STARTERS * float(leavers))
        )

        establishment_wte = _wte(establishment(month))
        vacancy = max(Decimal(0), establishment_wte - staff_in_post)
        bank = _wte(float(vacancy) * month.bank_share * bank_noise)
        agency = _wte(float(vacancy) * month.agency_share * agency_noise)
        bank_cost = assumptions.bank_cost_2019 * month.pay_index
        agency_cost = bank_cost * assumptions.agency_premium
        sickness = (
            assumptions.sickness_rate * month.sickness_factor + month.sickness_extra
        ) * sickness_noise
        yield (
            period,
            SyntheticLine(
                staff_group=group,
                establishment_wte=establishment_wte,
                staff_in_post_wte=staff_in_post,
                vacancy_wte=vacancy,
                starters_wte=starters,
                leavers_wte=leavers,
                bank_wte=bank,
                agency_wte=agency,
                bank_spend_gbp=_wte(float(bank) * bank_cost * bank_cost_noise),
                agency_spend_gbp=_wte(float(agency) * agency_cost * agency_cost_noise),
                sickness_absence_rate=_rate(sickness),
            ),
        )
        staff_in_post = staff_in_post + starters - leavers
        period = following


def generate_returns(until: str, *, first: str = FIRST_PERIOD) -> Iterator[SyntheticReturn]:
    """Every organisation's return for every month from ``first`` (never before
    FIRST_PERIOD) to ``until``, both included, in period then organisation order."""
    for text in (until, first):
        if not is_period(text):
            raise ValueError(f"'{text}' is not a month written YYYY-MM")
    first = max(first, FIRST_PERIOD)
    if until < first:
        return
    periods = list(period_range(first, until))
    returns = {
        (organisation.code, period): SyntheticReturn(organisation.code, period)
        for period in periods
        for organisation in reference.ORGANISATIONS
    }
    for organisation, group, wte in _units():
        for period, line in _series(organisation, group, wte):
            if period > until:
                break
            if period >= first:
                returns[organisation.code, period].lines.append(line)
    yield from returns.values()


# The monthly system totals yearly_figures adds up.
_TOTALS = (
    "staff_in_post",
    "leavers",
    "bank",
    "agency",
    "bank_spend",
    "agency_spend",
    "nurse_establishment",
    "nurse_vacancy",
    "nursing_capacity",
)


@dataclass(frozen=True)
class YearFigures:
    """The system's figures over a financial year (April to March) of the demo data."""

    year: str  # "2019/20"
    months: int  # fewer than 12 for the year in progress
    headcount: float  # mean staff in post, in heads
    staff_in_post_wte: float  # mean
    turnover_rate: float  # 12-month, to the last month: leavers / mean staff in post
    nurse_vacancy_rate: float  # registered nurses' vacancies / establishment, over the year
    nursing_capacity_wte: float  # staff in post, bank and agency of the nursing groups, last month
    nursing_capacity_growth: float  # since FIRST_PERIOD
    bank_wte: float  # mean
    agency_wte: float  # mean
    bank_spend_gbp: float  # total
    agency_spend_gbp: float  # total
    agency_premium: float  # agency cost per WTE-month over bank's


def yearly_figures(until: str) -> list[YearFigures]:
    """The figures docs/data.md quotes, for each financial year up to ``until``."""
    totals: dict[str, dict[str, float]] = {}
    for demo_return in generate_returns(until):
        month = totals.setdefault(demo_return.period, dict.fromkeys(_TOTALS, 0.0))
        for line in demo_return.lines:
            month["staff_in_post"] += float(line.staff_in_post_wte)
            month["leavers"] += float(line.leavers_wte)
            month["bank"] += float(line.bank_wte)
            month["agency"] += float(line.agency_wte)
            month["bank_spend"] += float(line.bank_spend_gbp)
            month["agency_spend"] += float(line.agency_spend_gbp)
            if line.staff_group == "NURSE":
                month["nurse_establishment"] += float(line.establishment_wte)
                month["nurse_vacancy"] += float(line.vacancy_wte)
            if line.staff_group in reference.NURSING_GROUPS:
                month["nursing_capacity"] += float(
                    line.staff_in_post_wte + line.bank_wte + line.agency_wte
                )
    if not totals:
        return []
    baseline = totals[FIRST_PERIOD]["nursing_capacity"]
    by_year: dict[str, list[str]] = {}
    for period in totals:
        start = int(period[:4]) - (1 if period[5:] < "04" else 0)
        by_year.setdefault(f"{start}/{(start + 1) % 100:02d}", []).append(period)
    every_period = list(totals)
    figures = []
    for year, periods in by_year.items():

        def total(key: str, periods: list[str] = periods) -> float:
            return sum(totals[p][key] for p in periods)

        months = len(periods)
        mean_staff = total("staff_in_post") / months
        last = totals[periods[-1]]
        end = every_period.index(periods[-1]) + 1
        window = every_period[max(0, end - 12) : end]
        figures.append(
            YearFigures(
                year=year,
                months=months,
                headcount=mean_staff * HEADCOUNT_PER_WTE,
                staff_in_post_wte=mean_staff,
                turnover_rate=total("leavers", window)
                / (total("staff_in_post", window) / len(window)),
                nurse_vacancy_rate=total("nurse_vacancy") / total("nurse_establishment"),
                nursing_capacity_wte=last["nursing_capacity"],
                nursing_capacity_growth=last["nursing_capacity"] / baseline - 1,
                bank_wte=total("bank") / months,
                agency_wte=total("agency") / months,
                bank_spend_gbp=total("bank_spend"),
                agency_spend_gbp=total("agency_spend"),
                agency_premium=(total("agency_spend") / total("agency"))
                / (total("bank_spend") / total("bank")),
            )
        )
    return figures


def _markdown(figures: list[YearFigures]) -> str:
    rows = [
        "| year | months | headcount | staff in post WTE | 12-month turnover | nurse vacancy rate "
        "| nursing capacity WTE (last month) | growth since 2019-04 | bank WTE | agency WTE "
        "| bank spend | agency spend | agency / bank per WTE |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
        "| ---: |",
    ]
    for f in figures:
        rows.append(
            f"| {f.year} | {f.months} | {f.headcount:,.0f} | {f.staff_in_post_wte:,.0f} "
            f"| {f.turnover_rate:.1%} | {f.nurse_vacancy_rate:.1%} "
            f"| {f.nursing_capacity_wte:,.0f} | {f.nursing_capacity_growth:+.1%} "
            f"| {f.bank_wte:,.0f} | {f.agency_wte:,.0f} | £{f.bank_spend_gbp / 1e6:,.1f}m "
            f"| £{f.agency_spend_gbp / 1e6:,.1f}m | {f.agency_premium:.2f} |"
        )
    return "\n".join(rows)


def _calibration_markdown() -> str:
    """Each trust's staff group: published June 2018 FTE, growth, target and the demo's
    staff in post in FIRST_PERIOD."""
    published = reference.published_fte_by_group()
    first = {
        (demo_return.organisation, line.staff_group): float(line.staff_in_post_wte)
        for demo_return in generate_returns(FIRST_PERIOD)
        for line in demo_return.lines
    }
    growth = growth_to_first_period()
    rows = [
        f"| trust | staff group | published FTE, June 2018 | growth | target WTE, {FIRST_PERIOD} "
        f"| demo WTE, {FIRST_PERIOD} | demo against target |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for (code, group), target in calibration_targets().items():
        if code not in published:
            continue
        demo = first[code, group]
        rows.append(
            f"| {code} | {group} | {published[code][group]:,} | {growth:.4f} | {target:,.1f} "
            f"| {demo:,.2f} | {demo / target - 1:+.2%} |"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    # python -m seed.synthetic [YYYY-MM]: the tables of docs/data.md.
    import sys

    print(_calibration_markdown())
    print()
    print(_markdown(yearly_figures(sys.argv[1] if len(sys.argv) > 1 else latest_complete_month())))
