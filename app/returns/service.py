"""Submitting and reading monthly returns.

Writers of one return serialise on its ``returns`` row (``SELECT ... FOR UPDATE`` on
PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so amendments sent at once become consecutive
revisions, none lost. A revision and its lines are written in the request's transaction:
a failure half-way rolls all of it back and leaves the previous revision as it was.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session, selectinload

from app.auth import Principal, Scope
from app.db import begin_write, upsert, utcnow
from app.errors import (
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    PreconditionFailed,
    ValidationFailed,
    field_error,
)
from app.metrics import totals
from app.organisations.service import get_organisation, staff_group_codes
from app.periods import add_months, is_period, period_problem
from app.returns.models import IdempotencyKey, LatestLine, Return, ReturnLine, ReturnRevision
from app.returns.schemas import LINE_FIELDS, ReturnLineIn, ReturnSubmission, SubmissionWarning

TWO_PLACES = Decimal("0.01")
FOUR_PLACES = Decimal("0.0001")
RATE_FIELDS = frozenset({"sickness_absence_rate"})
# Legal but unusual: worth a warning, not a refusal.
STAFF_IN_POST_CHANGE = Decimal("0.10")  # month on month, either way
LEAVERS_SHARE = Decimal("0.05")  # of staff in post, in one month


@dataclass(frozen=True)
class Submitted:
    revision: ReturnRevision
    latest_revision: int
    status_code: int  # 201 for a period's first revision, 200 otherwise
    changed: bool
    warnings: list[SubmissionWarning] = dataclass_field(default_factory=list)


# --- content -----------------------------------------------------------------------------


def canonical_lines(lines: Sequence[ReturnLineIn]) -> list[dict[str, Any]]:
    """The lines as stored: vacancy filled in, decimals quantised, sorted by staff group."""
    rows = []
    for line in sorted(lines, key=lambda item: item.staff_group):
        row: dict[str, Any] = line.model_dump()
        if row["vacancy_wte"] is None:
            row["vacancy_wte"] = max(Decimal(0), line.establishment_wte - line.staff_in_post_wte)
        for field, value in row.items():
            if isinstance(value, Decimal):
                row[field] = value.quantize(FOUR_PLACES if field in RATE_FIELDS else TWO_PLACES)
        rows.append(row)
    return rows


def content_hash(rows: Sequence[dict[str, Any]]) -> str:
    """A digest of canonical lines: equal content, equal digest, whatever the spelling."""
    text = json.dumps(
        [
            [str(row[field]) if row[field] is not None else None for field in LINE_FIELDS]
            for row in rows
        ],
        separators=(",", ":"),
    )
    return hashlib.sha256(text.encode()).hexdigest()


def content_problems(lines: Sequence[ReturnLineIn], known_groups: set[str]) -> list[FieldError]:
    """What the schema cannot see: unknown or repeated groups, vacancy above establishment."""
    problems: list[FieldError] = []
    seen: dict[str, int] = {}
    for index, line in enumerate(lines):
        if line.staff_group not in known_groups:
            problems.append(
                field_error(
                    ("lines", index, "staff_group"),
                    f"unknown staff group '{line.staff_group}'; "
                    f"known: {', '.join(sorted(known_groups))}",
                )
            )
        elif line.staff_group in seen:
            problems.append(
                field_error(
                    ("lines", index, "staff_group"),
                    f"staff group '{line.staff_group}' is repeated "
                    f"(first at line {seen[line.staff_group]})",
                )
            )
        else:
            seen[line.staff_group] = index
        if line.vacancy_wte is not None and line.vacancy_wte > line.establishment_wte:
            problems.append(
                field_error(
                    ("lines", index, "vacancy_wte"),
                    f"vacancy {line.vacancy_wte} is above establishment {line.establishment_wte}",
                )
            )
    return problems


def _warning(code: Any, index: int, name: str, message: str) -> SubmissionWarning:
    return SubmissionWarning(
        code=code, pointer=field_error(("lines", index, name), "").pointer, message=message
    )


def content_warnings(
    lines: Sequence[ReturnLineIn], previous: dict[str, Decimal]
) -> list[SubmissionWarning]:
    """What is legal but unusual in ``lines``, given the staff in post of the previous
    month's return by staff group (``previous``, empty when there is none)."""
    warnings: list[SubmissionWarning] = []
    for index, line in enumerate(lines):
        group, staff = line.staff_group, line.staff_in_post_wte
        if staff > line.establishment_wte:
            warnings.append(
                _warning(
                    "over_establishment",
                    index,
                    "staff_in_post_wte",
                    f"{group}: staff in post {staff} is above establishment "
                    f"{line.establishment_wte} by {staff - line.establishment_wte} WTE; kept "
                    "as over-establishment, with a vacancy of 0",
                )
            )
        before = previous.get(group)
        if (
            before is not None
            and before > 0
            and abs(staff - before) > STAFF_IN_POST_CHANGE * before
        ):
            change = (staff - before) / before
            warnings.append(
                _warning(
                    "staff_in_post_change",
                    index,
                    "staff_in_post_wte",
                    f"{group}: staff in post {staff} is {change:+.1%} on the previous month's "
                    f"{before} (more than {STAFF_IN_POST_CHANGE:.0%} either way)",
                )
            )
        if line.leavers_wte > LEAVERS_SHARE * staff:
            warnings.append(
                _warning(
                    "high_leavers",
                    index,
                    "leavers_wte",
                    f"{group}: {line.leavers_wte} leavers in one month are more than "
                    f"{LEAVERS_SHARE:.0%} of staff in post ({staff})",
                )
            )
    return warnings


def previous_staff_in_post(
    session: Session, *, organisation: str, period: str
) -> dict[str, Decimal]:
    """Staff in post by staff group in the organisation's return for the month before."""
    rows = session.execute(
        select(LatestLine.staff_group, LatestLine.staff_in_post_wte).where(
            LatestLine.organisation_code == organisation,
            LatestLine.period == add_months(period, -1),
        )
    )
    return {row.staff_group: row.staff_in_post_wte for row in rows}


def dropped_groups_problem(
    latest: ReturnRevision, rows: Sequence[dict[str, Any]]
) -> FieldError | None:
    """An amendment that leaves out staff groups its predecessor had would silently delete
    their figures: refused, unless the submission says it replaces the whole return."""
    kept = {row["staff_group"] for row in rows}
    dropped = sorted(line.staff_group for line in latest.lines if line.staff_group not in kept)
    if not dropped:
        return None
    return field_error(
        ("lines",),
        f"revision {latest.revision} has staff group(s) {', '.join(dropped)} that this "
        "amendment leaves out; send their lines too, or set replace_all "
        "(?replace_all=true with CSV) to replace the whole return without them",
    )


def etag(revision: int) -> str:
    return f'"r{revision}"'


# --- writing -----------------------------------------------------------------------------


def lock_return(session: Session, *, organisation: str, period: str) -> Return:
    """The return's row, created if need be, locked until the transaction ends."""
    now = utcnow()
    session.execute(
        upsert(session, Return)
        .values(
            organisation_code=organisation,
            period=period,
            latest_revision=0,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["organisation_code", "period"])
    )
    return session.scalars(
        select(Return)
        .where(Return.organisation_code == organisation, Return.period == period)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def record_revision(
    session: Session,
    *,
    return_row: Return,
    rows: Sequence[dict[str, Any]],
    digest: str,
    source: str,
    submitted_by: str,
    amendment_reason: str | None = None,
    synthetic: bool = False,
) -> ReturnRevision:
    """Append the next revision of a locked return with its lines."""
    revision = ReturnRevision(
        return_id=return_row.id,
        revision=return_row.latest_revision + 1,
        source=source,
        amendment_reason=amendment_reason,
        submitted_by=submitted_by,
        content_hash=digest,
        synthetic=synthetic,
    )
    session.add(revision)
    session.flush()
    session.add_all(ReturnLine(revision_id=revision.id, **row) for row in rows)
    replaced = LatestLine.organisation_code == return_row.organisation_code
    replaced &= LatestLine.period == return_row.period
    totals.replace_return(
        session,
        organisation=return_row.organisation_code,
        period=return_row.period,
        old=session.scalars(select(LatestLine).where(replaced)).all(),
        new=rows,
        synthetic=synthetic,
    )
    session.execute(delete(LatestLine).where(replaced))
    session.add_all(
        LatestLine(
            organisation_code=return_row.organisation_code,
            period=return_row.period,
            revision_id=revision.id,
            synthetic=synthetic,
            **row,
        )
        for row in rows
    )
    return_row.latest_revision = revision.revision
    return_row.updated_at = utcnow()
    session.flush()
    return revision


def _require_writer(principal: Principal, organisation: str) -> None:
    principal.require(Scope.RETURNS_WRITE)
    if principal.organisation != organisation:
        raise Forbidden(
            f"This token submits returns for {principal.organisation} only, not {organisation}."
        )


def _check_preconditions(
    return_row: Return, *, if_match: str | None, if_none_match: str | None
) -> None:
    exists = return_row.latest_revision > 0
    if if_none_match is not None and if_none_match.strip() == "*" and exists:
        raise PreconditionFailed(
            f"If-None-Match: * but revision {return_row.latest_revision} exists already.",
            headers={"ETag": etag(return_row.latest_revision)},
        )
    if if_match is None:
        return
    tags = {tag.strip() for tag in if_match.split(",")}
    if not exists:
        raise PreconditionFailed("If-Match was sent but this period has no return yet.")
    if "*" not in tags and etag(return_row.latest_revision) not in tags:
        raise PreconditionFailed(
            f"If-Match {if_match} does not match the latest revision, "
            f"{etag(return_row.latest_revision)}: read it and try again.",
            headers={"ETag": etag(return_row.latest_revision)},
        )


def _check_content(
    session: Session, *, period: str, submission: ReturnSubmission, today: date | None
) -> None:
    """Refuse a month that has not ended and lines that are not a valid return."""
    problems = []
    if (why := period_problem(period, today=today)) is not None:
        problems.append(field_error(("period",), f"{why} (in the path)"))
    problems += content_problems(submission.lines, staff_group_codes(session))
    if problems:
        detail = f"{len(problems)} problem(s) in the return."
        if why is not None:  # the one to fix first, said in full
            detail = f"{why[0].upper()}{why[1:]}." + (
                f" {len(problems) - 1} more problem(s) in the return." if len(problems) > 1 else ""
            )
        raise ValidationFailed(detail, errors=problems)


def _check_amendment(
    latest: ReturnRevision,
    *,
    rows: list[dict[str, Any]],
    period: str,
    submission: ReturnSubmission,
) -> None:
    """An amendment needs a reason, and may drop staff groups only when it says it
    replaces the whole return."""
    problems = []
    if not (submission.amendment_reason or "").strip():
        problems.append(
            field_error(("amendment_reason",), "required when amending an existing return")
        )
    if not submission.replace_all and (dropped := dropped_groups_problem(latest, rows)):
        problems.append(dropped)
    if problems:
        raise ValidationFailed(
            f"{period} has revision {latest.revision} already: "
            + "; ".join(problem.message for problem in problems)
            + ".",
            errors=problems,
        )


def _request_hash(period: str, digest: str, source: str, submission: ReturnSubmission) -> str:
    """What an Idempotency-Key stands for: the same key must come with the same request."""
    return hashlib.sha256(
        json.dumps(
            [period, digest, source, submission.amendment_reason]
            + ([True] if submission.replace_all else [])
        ).encode()
    ).hexdigest()


def _replayed(
    session: Session, *, organisation: str, key: str, request_hash: str
) -> IdempotencyKey | None:
    """The earlier request under this Idempotency-Key, if any; 409 when it differed."""
    earlier = session.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.organisation_code == organisation,
            IdempotencyKey.key == key,
        )
    )
    if earlier is not None and earlier.request_hash != request_hash:
        raise Conflict(f"Idempotency-Key '{key}' was used for a different request.")
    return earlier


def _store_unless_unchanged(
    session: Session,
    *,
    return_row: Return,
    rows: list[dict[str, Any]],
    digest: str,
    source: str,
    submitted_by: str,
    period: str,
    submission: ReturnSubmission,
) -> Submitted:
    """The next revision, or the latest again when the content is the same."""
    latest = (
        _load_revision_of(session, return_row=return_row, number=return_row.latest_revision)
        if return_row.latest_revision
        else None
    )
    if latest is not None and latest.content_hash == digest:
        return Submitted(latest, latest.revision, 201 if latest.revision == 1 else 200, False)
    if latest is not None:
        _check_amendment(latest, rows=rows, period=period, submission=submission)
    revision = record_revision(
        session,
        return_row=return_row,
        rows=rows,
        digest=digest,
        source=source,
        submitted_by=submitted_by,
        amendment_reason=submission.amendment_reason if latest is not None else None,
    )
    revision = _load_revision(session, revision_id=revision.id)
    return Submitted(revision, revision.revision, 201 if revision.revision == 1 else 200, True)


def submit_return(
    session: Session,
    *,
    principal: Principal,
    organisation: str,
    period: str,
    submission: ReturnSubmission,
    idempotency_key: str | None = None,
    if_match: str | None = None,
    if_none_match: str | None = None,
    today: date | None = None,
) -> Submitted:
    """Validate and store a return: a new revision, or nothing when nothing changed.

    Only a month that has ended (by ``today``) may be sent. An amendment that leaves out
    staff groups of the revision it amends is refused unless ``submission.replace_all``.
    """
    get_organisation(session, code=organisation)
    _require_writer(principal, organisation)
    _check_content(session, period=period, submission=submission, today=today)

    rows = canonical_lines(submission.lines)
    digest = content_hash(rows)
    source = submission.source or principal.name
    request_hash = _request_hash(period, digest, source, submission)

    begin_write(session)
    return_row = lock_return(session, organisation=organisation, period=period)

    if idempotency_key is not None:
        earlier = _replayed(
            session, organisation=organisation, key=idempotency_key, request_hash=request_hash
        )
        if earlier is not None:
            revision = _load_revision(session, revision_id=earlier.revision_id)
            return Submitted(
                revision,
                return_row.latest_revision,
                earlier.status_code,
                False,
                _warnings(session, organisation=organisation, period=period, submission=submission),
            )

    _check_preconditions(return_row, if_match=if_match, if_none_match=if_none_match)

    result = _store_unless_unchanged(
        session,
        return_row=return_row,
        rows=rows,
        digest=digest,
        source=source,
        submitted_by=principal.label,
        period=period,
        submission=submission,
    )

    result.warnings.extend(
        _warnings(session, organisation=organisation, period=period, submission=submission)
    )
    if idempotency_key is not None:
        session.add(
            IdempotencyKey(
                organisation_code=organisation,
                key=idempotency_key,
                request_hash=request_hash,
                revision_id=result.revision.id,
                status_code=result.status_code,
            )
        )
        session.flush()
    return result


def _warnings(
    session: Session, *, organisation: str, period: str, submission: ReturnSubmission
) -> list[SubmissionWarning]:
    previous = previous_staff_in_post(session, organisation=organisation, period=period)
    return content_warnings(submission.lines, previous)


# --- reading -----------------------------------------------------------------------------


def _with_lines(query: Select[ReturnRevision]) -> Select[ReturnRevision]:
    return query.options(selectinload(ReturnRevision.lines), selectinload(ReturnRevision.return_))


def _load_revision(session: Session, *, revision_id: int) -> ReturnRevision:
    return session.scalars(
        _with_lines(
            select(ReturnRevision).where(ReturnRevision.id == revision_id)
        ).execution_options(populate_existing=True)
    ).one()


def _load_revision_of(
    session: Session, *, return_row: Return, number: int
) -> ReturnRevision | None:
    return session.scalar(
        _with_lines(
            select(ReturnRevision).where(
                ReturnRevision.return_id == return_row.id, ReturnRevision.revision == number
            )
        )
    )


def _find_return(session: Session, *, organisation: str, period: str) -> Return | None:
    return session.scalar(
        select(Return).where(
            Return.organisation_code == organisation,
            Return.period == period,
            Return.latest_revision > 0,
        )
    )


def _readable_return(
    session: Session, *, principal: Principal, organisation: str, period: str
) -> Return:
    get_organisation(session, code=organisation)
    principal.require_read_organisation(organisation)
    if not is_period(period):
        why = f"'{period}' is not a month written YYYY-MM"
        raise ValidationFailed(why, errors=[field_error(("period",), why)])
    return_row = _find_return(session, organisation=organisation, period=period)
    if return_row is None:
        raise NotFound(f"{organisation} has no return for {period}.")
    return return_row


def latest_revision(
    session: Session, *, principal: Principal, organisation: str, period: str
) -> ReturnRevision:
    return_row = _readable_return(
        session, principal=principal, organisation=organisation, period=period
    )
    revision = _load_revision_of(session, return_row=return_row, number=return_row.latest_revision)
    assert revision is not None
    return revision


def revisions(
    session: Session, *, principal: Principal, organisation: str, period: str
) -> Sequence[ReturnRevision]:
    return_row = _readable_return(
        session, principal=principal, organisation=organisation, period=period
    )
    return session.scalars(
        _with_lines(
            select(ReturnRevision)
            .where(ReturnRevision.return_id == return_row.id)
            .order_by(ReturnRevision.revision)
        )
    ).all()


def revision(
    session: Session, *, principal: Principal, organisation: str, period: str, number: int
) -> ReturnRevision:
    return_row = _readable_return(
        session, principal=principal, organisation=organisation, period=period
    )
    found = _load_revision_of(session, return_row=return_row, number=number)
    if found is None:
        raise NotFound(
            f"{organisation} {period} has revisions 1 to {return_row.latest_revision}, "
            f"not {number}."
        )
    return found


def visible_organisation_filter(principal: Principal, organisation: str | None) -> str | None:
    """The organisation a listing is limited to: a bound token without ``read`` sees its own."""
    if principal.has(Scope.READ):
        return organisation
    if principal.organisation is None:
        raise Forbidden("This token lacks the 'read' scope.")
    if organisation is not None and organisation != principal.organisation:
        principal.require_read_organisation(organisation)
    return principal.organisation


def latest_returns_query(
    *,
    organisation: str | None,
    first: str | None,
    last: str | None,
) -> Select[ReturnRevision]:
    query = (
        select(ReturnRevision)
        .join(Return, Return.id == ReturnRevision.return_id)
        .where(ReturnRevision.revision == Return.latest_revision)
    )
    if organisation is not None:
        query = query.where(Return.organisation_code == organisation)
    if first is not None:
        query = query.where(Return.period >= first)
    if last is not None:
        query = query.where(Return.period <= last)
    return query


def list_latest(
    session: Session,
    *,
    principal: Principal,
    organisation: str | None,
    staff_group: str | None,
    first: str | None,
    last: str | None,
    limit: int | None,
    offset: int,
) -> tuple[Sequence[ReturnRevision], int]:
    """Latest revisions in (organisation, period) order, and how many there are in all."""
    organisation = visible_organisation_filter(principal, organisation)
    query = latest_returns_query(organisation=organisation, first=first, last=last)
    if staff_group is not None:
        query = query.where(
            select(ReturnLine.id)
            .where(
                ReturnLine.revision_id == ReturnRevision.id, ReturnLine.staff_group == staff_group
            )
            .exists()
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = _with_lines(query.order_by(Return.organisation_code, Return.period)).offset(offset)
    if limit is not None:
        page = page.limit(limit)
    return session.scalars(page).all(), total
