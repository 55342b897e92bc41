"""Reference data of the Hampshire and Isle of Wight system: staff groups, organisations
with their real ODS or local authority codes, places, and the system's commitments.

Headcounts are the published approximate staff numbers (see ``docs/data.md``); they are
used only to calibrate the synthetic demo returns, never stored as facts.
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
    # Approximate staff (headcount) as published; calibrates the synthetic returns.
    headcount: int


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
        "RHM", "University Hospital Southampton NHS Foundation Trust", "acute", SOUTHAMPTON, 12_300
    ),
    OrganisationRef("RHU", "Portsmouth Hospitals University NHS Trust", "acute", PORTSMOUTH, 7_800),
    OrganisationRef("RN5", "Hampshire Hospitals NHS Foundation Trust", "acute", HAMPSHIRE, 8_000),
    OrganisationRef("R1F", "Isle of Wight NHS Trust", "combined", ISLE_OF_WIGHT, 3_600),
    OrganisationRef(
        "RW1",
        "Hampshire and Isle of Wight Healthcare NHS Foundation Trust",
        "community",
        HAMPSHIRE,
        13_500,
    ),
    OrganisationRef(
        "RYE", "South Central Ambulance Service NHS Foundation Trust", "ambulance", HAMPSHIRE, 4_400
    ),
    OrganisationRef(
        "E10000014", "Hampshire County Council adult social care", "social_care", HAMPSHIRE, 6_200
    ),
    OrganisationRef(
        "E06000045", "Southampton City Council adult social care", "social_care", SOUTHAMPTON, 1_700
    ),
    OrganisationRef(
        "E06000044", "Portsmouth City Council adult social care", "social_care", PORTSMOUTH, 1_500
    ),
    OrganisationRef(
        "E06000046", "Isle of Wight Council adult social care", "social_care", ISLE_OF_WIGHT, 900
    ),
    OrganisationRef("GP-HAM", "General practice in Hampshire", "primary_care", HAMPSHIRE, 10_800),
    OrganisationRef(
        "GP-SOT", "General practice in Southampton", "primary_care", SOUTHAMPTON, 2_600
    ),
    OrganisationRef("GP-POR", "General practice in Portsmouth", "primary_care", PORTSMOUTH, 2_400),
    OrganisationRef(
        "GP-IOW", "General practice on the Isle of Wight", "primary_care", ISLE_OF_WIGHT, 1_300
    ),
)

# The commitments of the HIOW workforce plans (api-contract.md, "Metrics and targets").
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
# The HIOW strategy forecasts a 5% initial increase in bank staff from one shared bank.
BANK_INITIAL_INCREASE = 0.05
# About 5% a year more, as the shared bank recruits.
BANK_MONTHLY_GROWTH_RATE = 0.004


def pool_code(place: str, kind: PoolKind) -> str:
    return f"{PLACE_CODES[place]}-{kind.suffix}"
