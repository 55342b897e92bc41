"""Monthly workforce returns. A return is one organisation's month; every submission with
new content is a revision, kept forever; lines belong to a revision."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow

Wte = Numeric(12, 2)
Money = Numeric(14, 2)
Rate = Numeric(6, 4)


class Return(Base):
    __tablename__ = "returns"
    __table_args__ = (UniqueConstraint("organisation_code", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_code: Mapped[str] = mapped_column(ForeignKey("organisations.code"))
    period: Mapped[str] = mapped_column(String(7), index=True)
    # The row every writer of this return locks; 0 only inside the transaction creating it.
    latest_revision: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    revisions: Mapped[list[ReturnRevision]] = relationship(
        back_populates="return_", order_by="ReturnRevision.revision", lazy="raise"
    )


class ReturnRevision(Base):
    __tablename__ = "return_revisions"
    __table_args__ = (UniqueConstraint("return_id", "revision"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id", ondelete="RESTRICT"))
    revision: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(200))
    amendment_reason: Mapped[str | None] = mapped_column(Text, default=None)
    submitted_by: Mapped[str] = mapped_column(String(200))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    content_hash: Mapped[str] = mapped_column(String(64))
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)

    return_: Mapped[Return] = relationship(back_populates="revisions", lazy="raise")
    lines: Mapped[list[ReturnLine]] = relationship(
        back_populates="revision_", order_by="ReturnLine.staff_group", lazy="raise"
    )


class LineFigures:
    """The figures of a return line, as the contract names them."""

    establishment_wte: Mapped[Decimal] = mapped_column(Wte)
    staff_in_post_wte: Mapped[Decimal] = mapped_column(Wte)
    vacancy_wte: Mapped[Decimal] = mapped_column(Wte)
    starters_wte: Mapped[Decimal] = mapped_column(Wte)
    leavers_wte: Mapped[Decimal] = mapped_column(Wte)
    bank_wte: Mapped[Decimal] = mapped_column(Wte)
    agency_wte: Mapped[Decimal] = mapped_column(Wte)
    bank_spend_gbp: Mapped[Decimal | None] = mapped_column(Money, default=None)
    agency_spend_gbp: Mapped[Decimal | None] = mapped_column(Money, default=None)
    sickness_absence_rate: Mapped[Decimal | None] = mapped_column(Rate, default=None)


class ReturnLine(LineFigures, Base):
    __tablename__ = "return_lines"
    __table_args__ = (
        UniqueConstraint("revision_id", "staff_group"),
        Index("ix_return_lines_staff_group", "staff_group"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("return_revisions.id", ondelete="RESTRICT"))
    staff_group: Mapped[str] = mapped_column(ForeignKey("staff_groups.code"))

    revision_: Mapped[ReturnRevision] = relationship(back_populates="lines", lazy="raise")


class IdempotencyKey(Base):
    """A client's ``Idempotency-Key`` for one organisation, and what it was first used for."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("organisation_code", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_code: Mapped[str] = mapped_column(ForeignKey("organisations.code"))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    revision_id: Mapped[int] = mapped_column(ForeignKey("return_revisions.id"))
    status_code: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LatestLine(LineFigures, Base):
    """The lines of each return's latest revision, kept beside the history so that the
    measures read one table instead of joining every revision. Replaced, in the same
    transaction, whenever a new revision is recorded."""

    __tablename__ = "latest_lines"
    __table_args__ = (Index("ix_latest_lines_period_organisation", "period", "organisation_code"),)

    organisation_code: Mapped[str] = mapped_column(
        ForeignKey("organisations.code"), primary_key=True
    )
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    staff_group: Mapped[str] = mapped_column(ForeignKey("staff_groups.code"), primary_key=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("return_revisions.id"))
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
