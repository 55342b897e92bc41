"""Bank pools: the system-wide staff bank, split by home place and the staff groups it fills."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow


class BankPool(Base):
    __tablename__ = "bank_pools"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    home_place: Mapped[str] = mapped_column(String(64))
    cost_per_wte_month: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    # Capacity in month t of a plan: capacity_wte * (1 + monthly_growth_rate) ** (t - 1),
    # unless an explicit capacity is stored for that month.
    capacity_wte: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    monthly_growth_rate: Mapped[Decimal | None] = mapped_column(Numeric(8, 6), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    covers: Mapped[list[BankPoolCover]] = relationship(
        cascade="all, delete-orphan", order_by="BankPoolCover.staff_group", lazy="selectin"
    )
    capacities: Mapped[list[BankPoolCapacity]] = relationship(
        cascade="all, delete-orphan", order_by="BankPoolCapacity.period", lazy="selectin"
    )


class BankPoolCover(Base):
    """A staff group the pool's workers may fill."""

    __tablename__ = "bank_pool_covers"

    pool_code: Mapped[str] = mapped_column(
        ForeignKey("bank_pools.code", ondelete="CASCADE"), primary_key=True
    )
    staff_group: Mapped[str] = mapped_column(ForeignKey("staff_groups.code"), primary_key=True)


class BankPoolCapacity(Base):
    """An explicit capacity for one month, overriding the growth formula."""

    __tablename__ = "bank_pool_capacities"

    pool_code: Mapped[str] = mapped_column(
        ForeignKey("bank_pools.code", ondelete="CASCADE"), primary_key=True
    )
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    wte: Mapped[Decimal] = mapped_column(Numeric(12, 2))
