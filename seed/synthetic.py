"""Synthetic monthly returns for the HIOW organisations, calibrated to published figures.

Not real data: every revision loaded from here is marked ``synthetic`` and carries the
source ``synthetic-demo``. The calibration (docs/data.md):

- about 77,000 staff and students in all: the organisations' published headcounts, turned
  into WTE at ``HEADCOUNT_PER_WTE`` heads per WTE;
- 12-month turnover about 14.2% in 2019/20 (England 9.1%), easing to about 12.5% by 2024;
- registered nursing vacancy rate about 15% in 2019, falling to about 12%;
- bank covering about 55% of vacant posts and agency about 20%, agency falling after 2022,
  agency costing 25-50% more than bank per WTE-month;
- nursing capacity (staff in post, bank and agency of nurses and midwives) growing about
  3-4% from 2019 to 2024-03: short of the 5% commitment, as the demo should show.

The generator is deterministic: each organisation and staff group draws its noise from a
generator seeded by its own codes, month after month from ``FIRST_PERIOD``, so the months
two runs share are identical whatever their last month.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from app.periods import add_months, current_period, month_index, period_range
from seed import reference

SOURCE = "synthetic-demo"
SYNTHETIC_LABEL = "Synthetic demo data, calibrated to published HIOW figures; not real returns."
FIRST_PERIOD = "2019-04"
SEED = "hiow-workforce-demo-1"
HEADCOUNT_PER_WTE = 1.2
TWO_PLACES = Decimal("0.01")
FOUR_PLACES = Decimal("0.0001")

# The share of each kind of organisation's WTE in each staff group.
GROUP_MIX: dict[str, dict[str, float]] = {
    "acute": {
        "NURSE": 0.32,
        "MIDWIFE": 0.04,
        "DOCTOR": 0.14,
        "STT": 0.14,
        "SUPPORT": 0.20,
        "INFRA": 0.16,
    },
    "community": {"NURSE": 0.33, "DOCTOR": 0.05, "STT": 0.20, "SUPPORT": 0.22, "INFRA": 0.20},
    "mental_health": {"NURSE": 0.35, "DOCTOR": 0.06, "STT": 0.20, "SUPPORT": 0.22, "INFRA": 0.17},
    "combined": {
        "NURSE": 0.30,
        "MIDWIFE": 0.03,
        "DOCTOR": 0.11,
        "STT": 0.12,
        "SUPPORT": 0.17,
        "AMBULANCE": 0.10,
        "INFRA": 0.17,
    },
    "ambulance": {"AMBULANCE": 0.70, "NURSE": 0.04, "SUPPORT": 0.08, "INFRA": 0.18},
    "social_care": {"SOCIAL_CARE": 0.85, "INFRA": 0.15},
    "primary_care": {"PRIMARY_CARE": 0.80, "NURSE": 0.20},
}

# Vacancy rate at the start and by 2024, per staff group.
VACANCY_START = {
    "NURSE": 0.15,
    "MIDWIFE": 0.10,
    "DOCTOR": 0.08,
    "STT": 0.10,
    "SUPPORT": 0.09,
    "AMBULANCE": 0.07,
    "INFRA": 0.06,
    "SOCIAL_CARE": 0.10,
    "PRIMARY_CARE": 0.07,
}
VACANCY_END = {group: rate * 0.8 for group, rate in VACANCY_START.items()}

# Relative annual turnover by staff group, scaled so that the system's is TURNOVER_2019.
TURNOVER_SHAPE = {
    "NURSE": 0.125,
    "MIDWIFE": 0.11,
    "DOCTOR": 0.10,
    "STT": 0.13,
    "SUPPORT": 0.17,
    "AMBULANCE": 0.12,
    "INFRA": 0.13,
    "SOCIAL_CARE": 0.22,
    "PRIMARY_CARE": 0.14,
}
TURNOVER_2019 = 0.1442  # so that 2019/20, easing already, comes out at about 14.2%
TURNOVER_EASING = 0.12  # turnover 12% lower by 2024-03 than in 2019: 14.2% -> about 12.5%

ESTABLISHMENT_GROWTH = 0.006  # a year
BANK_SHARE_OF_VACANCY = (0.55, 0.58)  # at the start and from 2024
AGENCY_SHARE_OF_VACANCY = (0.22, 0.13)  # until 2022-03, then falling to this by 2024-03

# GBP per WTE-month at bank rates in 2019, and agency's premium over bank.
BANK_RATE_2019 = {
    "NURSE": 3_600,
    "MIDWIFE": 3_800,
    "DOCTOR": 9_500,
    "STT": 3_500,
    "SUPPORT": 2_150,
    "AMBULANCE": 3_100,
    "INFRA": 2_300,
    "SOCIAL_CARE": 1_950,
    "PRIMARY_CARE": 2_600,
}
AGENCY_PREMIUM = {"NURSE": 1.35, "MIDWIFE": 1.35, "DOCTOR": 1.5}
DEFAULT_AGENCY_PREMIUM = 1.25
PAY_GROWTH = 0.03  # a year

PLAN_PERIOD = "2024-03"  # the commitments' target month
AGENCY_CUT_FROM = "2022-03"


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
    """The month before the current one: the latest a return can be complete for."""
    return add_months(current_period(today or datetime.now(UTC).date()), -1)


def _turnover_scale() -> float:
    """Scale TURNOVER_SHAPE so that the WTE-weighted system turnover is TURNOVER_2019."""
    weighted = total = 0.0
    for organisation in reference.ORGANISATIONS:
        for group, share in GROUP_MIX[organisation.kind].items():
            weighted += organisation.headcount * share * TURNOVER_SHAPE[group]
            total += organisation.headcount * share
    return TURNOVER_2019 * total / weighted


def _progress(period: str, start: str, end: str) -> float:
    """0 at ``start``, 1 at ``end``, linear between and held outside."""
    span = month_index(end) - month_index(start)
    return min(1.0, max(0.0, (month_index(period) - month_index(start)) / span))


def _money(value: float) -> Decimal:
    return Decimal(str(round(max(0.0, value), 2))).quantize(TWO_PLACES)


def _wte(value: float) -> Decimal:
    return _money(value)


def _series(
    organisation: reference.OrganisationRef, group: str, share: float, until: str
) -> Iterator[tuple[str, SyntheticLine]]:
    rng = random.Random(f"{SEED}:{organisation.code}:{group}")
    turnover_scale = _turnover_scale()
    staff_in_post_0 = organisation.headcount * share / HEADCOUNT_PER_WTE
    establishment_0 = staff_in_post_0 / (1 - VACANCY_START[group])
    # A little per-organisation character: some fill posts faster than others.
    vacancy_bias = rng.uniform(0.9, 1.1)
    periods = list(period_range(FIRST_PERIOD, add_months(until, 1)))

    def establishment(period: str) -> float:
        years = (month_index(period) - month_index(FIRST_PERIOD)) / 12
        return float(establishment_0 * (1 + ESTABLISHMENT_GROWTH) ** years)

    def staff_in_post(period: str, noise: float) -> float:
        progress = _progress(period, FIRST_PERIOD, PLAN_PERIOD)
        vacancy = VACANCY_START[group] + (VACANCY_END[group] - VACANCY_START[group]) * progress
        if period == FIRST_PERIOD:
            return establishment(period) * (1 - VACANCY_START[group])
        return establishment(period) * (1 - vacancy * vacancy_bias * noise)

    noises = [rng.gauss(1.0, 0.02) for _ in periods]
    stock = [staff_in_post(period, noise) for period, noise in zip(periods, noises, strict=True)]
    for index, period in enumerate(periods[:-1]):
        seasonal = 1 + 0.12 * math.sin(2 * math.pi * (month_index(period) % 12 - 5) / 12)
        easing = 1 - TURNOVER_EASING * _progress(period, FIRST_PERIOD, PLAN_PERIOD)
        annual_turnover = TURNOVER_SHAPE[group] * turnover_scale * easing
        leavers = stock[index] * annual_turnover / 12 * seasonal * rng.gauss(1.0, 0.05)
        starters = max(0.0, stock[index + 1] - stock[index] + leavers)
        funded = establishment(period)
        vacancy = max(0.0, funded - stock[index])
        bank_share = BANK_SHARE_OF_VACANCY[0] + (
            BANK_SHARE_OF_VACANCY[1] - BANK_SHARE_OF_VACANCY[0]
        ) * _progress(period, FIRST_PERIOD, PLAN_PERIOD)
        agency_share = AGENCY_SHARE_OF_VACANCY[0] + (
            AGENCY_SHARE_OF_VACANCY[1] - AGENCY_SHARE_OF_VACANCY[0]
        ) * _progress(period, AGENCY_CUT_FROM, PLAN_PERIOD)
        bank = vacancy * bank_share * rng.gauss(1.0, 0.05)
        agency = vacancy * agency_share * rng.gauss(1.0, 0.08)
        pay = (1 + PAY_GROWTH) ** ((month_index(period) - month_index(FIRST_PERIOD)) / 12)
        bank_rate = BANK_RATE_2019[group] * pay
        agency_rate = bank_rate * AGENCY_PREMIUM.get(group, DEFAULT_AGENCY_PREMIUM)
        sickness = 0.047 + 0.008 * math.cos(2 * math.pi * (month_index(period) % 12) / 12)
        establishment_wte = _wte(funded)
        staff_in_post_wte = _wte(stock[index])
        bank_wte = _wte(bank)
        agency_wte = _wte(agency)
        yield (
            period,
            SyntheticLine(
                staff_group=group,
                establishment_wte=establishment_wte,
                staff_in_post_wte=staff_in_post_wte,
                vacancy_wte=max(Decimal(0), establishment_wte - staff_in_post_wte),
                starters_wte=_wte(starters),
                leavers_wte=_wte(leavers),
                bank_wte=bank_wte,
                agency_wte=agency_wte,
                bank_spend_gbp=_money(float(bank_wte) * bank_rate),
                agency_spend_gbp=_money(float(agency_wte) * agency_rate),
                sickness_absence_rate=Decimal(str(round(sickness * rng.gauss(1.0, 0.05), 4))),
            ),
        )


def generate_returns(until: str, *, first: str = FIRST_PERIOD) -> Iterator[SyntheticReturn]:
    """Every organisation's return for every month from ``first`` to ``until``, in period
    then organisation order."""
    if until < FIRST_PERIOD:
        return
    by_period: dict[str, dict[str, SyntheticReturn]] = {}
    for organisation in reference.ORGANISATIONS:
        for group, share in sorted(GROUP_MIX[organisation.kind].items()):
            for period, line in _series(organisation, group, share, until):
                by_org = by_period.setdefault(period, {})
                by_org.setdefault(
                    organisation.code, SyntheticReturn(organisation.code, period)
                ).lines.append(line)
    for period in sorted(by_period):
        if period < first:
            continue
        for code in sorted(by_period[period]):
            yield by_period[period][code]
