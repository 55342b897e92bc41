"""The system's workforce commitments, which plans aim at and the dashboard rates."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class Target(Base):
    __tablename__ = "targets"

    # nursing_capacity_growth, turnover_rate or agency_reduction: how it is measured.
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    value: Mapped[Decimal] = mapped_column(Numeric(8, 4))
    baseline_period: Mapped[str] = mapped_column(String(7))
    target_period: Mapped[str] = mapped_column(String(7))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(200), default="seed")
