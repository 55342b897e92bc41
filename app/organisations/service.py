from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Conflict, NotFound
from app.metrics import totals
from app.organisations.models import Organisation, StaffGroup
from app.organisations.schemas import OrganisationCreate, OrganisationUpdate


def list_staff_groups(session: Session) -> Sequence[StaffGroup]:
    return session.scalars(select(StaffGroup).order_by(StaffGroup.code)).all()


def staff_group_codes(session: Session) -> set[str]:
    return set(session.scalars(select(StaffGroup.code)))


def list_organisations(
    session: Session, *, place: str | None = None, kind: str | None = None
) -> Sequence[Organisation]:
    query = select(Organisation).order_by(Organisation.code)
    if place is not None:
        query = query.where(Organisation.place == place)
    if kind is not None:
        query = query.where(Organisation.kind == kind)
    return session.scalars(query).all()


def get_organisation(session: Session, *, code: str) -> Organisation:
    organisation = session.get(Organisation, code)
    if organisation is None:
        raise NotFound(f"There is no organisation with code '{code}'.")
    return organisation


def create_organisation(session: Session, *, data: OrganisationCreate) -> Organisation:
    if session.get(Organisation, data.code) is not None:
        raise Conflict(f"An organisation with code '{data.code}' exists already.")
    organisation = Organisation(
        code=data.code, name=data.name, kind=data.kind.value, place=data.place
    )
    session.add(organisation)
    session.flush()
    return organisation


def update_organisation(session: Session, *, code: str, data: OrganisationUpdate) -> Organisation:
    organisation = get_organisation(session, code=code)
    place = organisation.place
    for field, value in data.model_dump(exclude_unset=True, exclude_none=True).items():
        setattr(organisation, field, getattr(value, "value", value))
    session.flush()
    totals.move_organisation(session, organisation=code, old=place, new=organisation.place)
    return organisation
