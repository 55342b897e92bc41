"""Reference data of the Hampshire and Isle of Wight system: staff groups, organisations
with their real ODS or local authority codes, places, and the system's commitments.

The trusts' staff in post by staff group as NHS Digital published it for June 2018, and
the other organisations' approximate headcounts, only calibrate the synthetic demo
returns (see ``docs/data.md``); they are never stored as facts.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StaffGroupRef:
    code: str
    name: str
    counts_as_nursing: bool = False


@dataclass(frozen=True)
class OrganisationRef:
    code: str
    name: str
    kind: str
    place: str
    # The synthetic demo's headcount in 2019, for an organisation without published staff
    # by staff group (general practice, councils' social care); None for the NHS trusts,
    # whose demo returns start from PUBLISHED_FTE_JUNE_2018.
    headcount: int | None


@dataclass(frozen=True)
class TargetRef:
    code: str
    name: str
    value: float
    baseline_period: str | None
    target_period: str | None
    direction: str  # "increase" or "decrease": which way is better


HAMPSHIRE = "Hampshire"
SOUTHAMPTON = "Southampton"
PORTSMOUTH = "Portsmouth"
ISLE_OF_WIGHT = "Isle of Wight"
PLACES = (HAMPSHIRE, SOUTHAMPTON, PORTSMOUTH, ISLE_OF_WIGHT)
# Places reached from the others only by crossing the Solent.
ISLAND_PLACES = frozenset({ISLE_OF_WIGHT})

STAFF_GROUPS = (
    StaffGroupRef("NURSE", "Nurses and health visitors", counts_as_nursing=True),
    StaffGroupRef("MIDWIFE", "Midwives", counts_as_nursing=True),
    StaffGroupRef("DOCTOR", "Hospital and community doctors"),
    StaffGroupRef(
        "STT", "Scientific, therapeutic and technical staff (allied health professionals included)"
    ),
    StaffGroupRef("SUPPORT", "Support to doctors, nurses and midwives"),
    StaffGroupRef("AMBULANCE", "Ambulance staff"),
    StaffGroupRef("INFRA", "NHS infrastructure support"),
    StaffGroupRef("SOCIAL_CARE", "Social care workforce"),
    StaffGroupRef("PRIMARY_CARE", "General practice staff"),
)
NURSING_GROUPS = frozenset(g.code for g in STAFF_GROUPS if g.counts_as_nursing)

ORGANISATIONS = (
    OrganisationRef(
        "RHM", "University Hospital Southampton NHS Foundation Trust", "acute", SOUTHAMPTON, None
    ),
    OrganisationRef("RHU", "Portsmouth Hospitals University NHS Trust", "acute", PORTSMOUTH, None),
    OrganisationRef("RN5", "Hampshire Hospitals NHS Foundation Trust", "acute", HAMPSHIRE, None),
    OrganisationRef("R1F", "Isle of Wight NHS Trust", "combined", ISLE_OF_WIGHT, None),
    OrganisationRef(
        "RW1",
        "Hampshire and Isle of Wight Healthcare NHS Foundation Trust",
        "community",
        HAMPSHIRE,
        None,
    ),
    OrganisationRef(
        "RYE", "South Central Ambulance Service NHS Foundation Trust", "ambulance", HAMPSHIRE, None
    ),
    OrganisationRef(
        "E10000014", "Hampshire County Council adult social care", "social_care", HAMPSHIRE, 7_900
    ),
    OrganisationRef(
        "E06000045", "Southampton City Council adult social care", "social_care", SOUTHAMPTON, 2_200
    ),
    OrganisationRef(
        "E06000044", "Portsmouth City Council adult social care", "social_care", PORTSMOUTH, 1_900
    ),
    OrganisationRef(
        "E06000046", "Isle of Wight Council adult social care", "social_care", ISLE_OF_WIGHT, 1_150
    ),
    OrganisationRef("GP-HAM", "General practice in Hampshire", "primary_care", HAMPSHIRE, 13_800),
    OrganisationRef(
        "GP-SOT", "General practice in Southampton", "primary_care", SOUTHAMPTON, 3_350
    ),
    OrganisationRef("GP-POR", "General practice in Portsmouth", "primary_care", PORTSMOUTH, 3_100),
    OrganisationRef(
        "GP-IOW", "General practice on the Isle of Wight", "primary_care", ISLE_OF_WIGHT, 1_650
    ),
)

# NHS Digital, "HCHS staff by staff group, nationality and organisation, September 2017
# and June 2018" (Open Government Licence): full-time equivalent staff in post in June
# 2018, summed over nationality (the publisher rounds small cells, so sums are
# approximate). The columns, in the order of the rows below, and the staff group of this
# service each goes to: support to scientific, therapeutic and technical staff (therapy
# and laboratory assistants) and support to ambulance staff (emergency care assistants,
# call handlers) are support workers, like the electronic staff record's "additional
# clinical services" and the workforce return's "clinical support".
PUBLISHED_GROUPS = (
    ("Nurses & health visitors", "NURSE"),
    ("Midwives", "MIDWIFE"),
    ("HCHS doctors", "DOCTOR"),
    ("Support to doctors, nurses & midwives", "SUPPORT"),
    ("Scientific, therapeutic & technical staff", "STT"),
    ("Support to ST&T staff", "SUPPORT"),
    ("Ambulance staff", "AMBULANCE"),
    ("Support to ambulance staff", "SUPPORT"),
    ("Central functions, hotel, property & estates, senior managers and managers", "INFRA"),
)
PUBLISHED_FTE_JUNE_2018: dict[str, tuple[int, ...]] = {
    "RHM": (2_731, 212, 1_367, 2_405, 1_128, 364, 1, 0, 1_088),
    "RHU": (1_778, 148, 882, 1_446, 834, 705, 0, 0, 416),
    "RN5": (1_271, 172, 702, 1_279, 577, 365, 1, 0, 861),
    "R1F": (693, 42, 222, 596, 305, 147, 64, 104, 451),
    "RW1": (1_546, 0, 205, 1_721, 580, 217, 4, 0, 631),
    "R1C": (756, 0, 120, 761, 540, 150, 0, 0, 442),
    "RYE": (67, 0, 1, 14, 0, 1, 1_147, 1_751, 240),
}
# The published totals, for checking the rows above.
PUBLISHED_TOTALS_JUNE_2018 = {
    "RHM": 9_296,
    "RHU": 6_252,
    "RN5": 5_236,
    "R1F": 2_640,
    "RW1": 4_908,
    "R1C": 2_794,
    "RYE": 3_221,
}
# Solent NHS Trust (R1C) became part of RW1 in 2024: its staff count as RW1's.
MERGED_INTO = {"R1C": "RW1"}
# A trust's staff group smaller than this (FTE) is left out of the demo: a handful of
# ambulance staff in an acute trust, one doctor in the ambulance trust.
SMALLEST_PUBLISHED_GROUP = 10


def published_fte_by_group() -> dict[str, dict[str, int]]:
    """Each trust's published June 2018 FTE by this service's staff group, merged trusts
    added into their successor, groups under SMALLEST_PUBLISHED_GROUP left out."""
    summed: dict[str, dict[str, int]] = {}
    for trust, row in PUBLISHED_FTE_JUNE_2018.items():
        groups = summed.setdefault(MERGED_INTO.get(trust, trust), {})
        for (_name, group), fte in zip(PUBLISHED_GROUPS, row, strict=True):
            groups[group] = groups.get(group, 0) + fte
    return {
        trust: {g: fte for g, fte in groups.items() if fte >= SMALLEST_PUBLISHED_GROUP}
        for trust, groups in summed.items()
    }


# The commitments of the HIOW workforce plans, as `GET /v1/targets` serves them.
TARGETS = (
    TargetRef(
        "nursing_capacity_growth",
        "Grow nursing capacity by 5%",
        0.05,
        baseline_period="2019-03",
        target_period="2024-03",
        direction="increase",
    ),
    TargetRef(
        "turnover_rate",
        "Bring 12-month staff turnover down to 12%",
        0.12,
        baseline_period="2019-03",
        target_period="2024-03",
        direction="decrease",
    ),
    TargetRef(
        "agency_reduction",
        "Cut agency use by 10%",
        0.10,
        baseline_period="2019-03",
        target_period="2024-03",
        direction="increase",
    ),
)


def organisation(code: str) -> OrganisationRef:
    for ref in ORGANISATIONS:
        if ref.code == code:
            return ref
    raise KeyError(code)


@dataclass(frozen=True)
class PoolKind:
    """A kind of bank pool, one per place: who its workers are and what they cost."""

    suffix: str
    name: str
    covers: tuple[str, ...]
    # GBP per WTE-month, Agenda for Change pay with on-costs at bank rates (see docs/data.md).
    cost_per_wte_month: int


POOL_KINDS = (
    PoolKind("NURSING", "registered nursing and midwifery bank", ("NURSE", "MIDWIFE"), 4_300),
    PoolKind("SUPPORT", "healthcare support bank", ("SUPPORT", "SOCIAL_CARE"), 2_600),
    PoolKind(
        "AHP",
        "allied health and other clinical bank",
        ("STT", "AMBULANCE", "PRIMARY_CARE"),
        4_100,
    ),
    PoolKind("MEDICAL", "medical locum bank", ("DOCTOR",), 11_500),
)
PLACE_CODES = {HAMPSHIRE: "HAM", SOUTHAMPTON: "SOT", PORTSMOUTH: "POR", ISLE_OF_WIGHT: "IOW"}
# The HIOW strategy forecasts a 5% initial increase in bank staff from one shared bank;
# the demo's shared bank starts 30% above today's bank use (synthetic, not a forecast), so
# that with the stored targets the default plan from the latest month can meet them (an
# `optimal` plan) while a harder scenario cannot: the demo shows both kinds of plan. At 5%
# every plan of the version-2 model falls short of the nursing trajectory in month one.
BANK_INITIAL_INCREASE = 0.30
# About 5% a year more, as the shared bank recruits.
BANK_MONTHLY_GROWTH_RATE = 0.004


def pool_code(place: str, kind: PoolKind) -> str:
    return f"{PLACE_CODES[place]}-{kind.suffix}"
