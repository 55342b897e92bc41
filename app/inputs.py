"""What every request's input must be before a handler sees it.

- Text holds no control characters (C0, DEL, C1) other than tab, line feed and carriage
  return: in path and query parameters, in every string of a JSON body (keys included) and
  in every cell of a CSV body. A NUL cannot be stored by PostgreSQL, and the others have
  no business in names, codes, reasons or filters. Refused with 422 naming the field.
- A JSON body nests at most ``MAX_JSON_DEPTH`` arrays and objects, checked on the raw
  bytes before anything parses it (a parser recursing 1,000 levels deep fails inside).
- Integers taken from a URL fit the database's 32-bit integers (``MAX_INT``).

``TEXT_PATTERN`` says the same in the OpenAPI document, so that a client (or a generated
test) knows what the server refuses.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import Request
from pydantic import AfterValidator, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import PROBLEM_MEDIA_TYPE, BadRequest, FieldError, ValidationFailed, field_error

# The largest integer a path or query parameter may hold: PostgreSQL's INTEGER.
MAX_INT = 2**31 - 1
MAX_JSON_DEPTH = 32

# C0 but tab, LF and CR; DEL; C1; and lone surrogates (which no encoding can store).
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# Lone surrogates are left out of the stated pattern: no UTF-8 text carries them (only a
# JSON escape can), and generators of test data mishandle a pattern that names them.
TEXT_PATTERN = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f]*$"

# Cheap tests of raw bodies: only a body that may hold a control character is looked into.
_JSON_CONTROL = re.compile(
    rb"\\u00(?:0[0-8bBcCeEfF]|1[0-9a-fA-F]|7[fF]|[89][0-9a-fA-F])|\\u[dD][89a-fA-F]"
    rb"|\x7f|\xc2[\x80-\x9f]"
)
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_OPENING = {ord("["), ord("{")}


def control_character_problem(value: str) -> str | None:
    """Why ``value`` is refused, or None. Tab and line breaks are allowed."""
    match = CONTROL_CHARACTERS.search(value)
    if match is None:
        return None
    return (
        f"must not contain control characters (U+{ord(match.group()):04X} at position "
        f"{match.start()}); only tab and line breaks are allowed"
    )


def _check_text(value: str) -> str:
    if (problem := control_character_problem(value)) is not None:
        raise ValueError(problem)
    return value


# A request schema's text field: checked, and its pattern stated in the OpenAPI document.
Text = Annotated[
    str, AfterValidator(_check_text), Field(json_schema_extra={"pattern": TEXT_PATTERN})
]


# --- JSON nesting -----------------------------------------------------------------------


def json_depth(body: bytes, *, limit: int = MAX_JSON_DEPTH) -> int:
    """How deeply ``body`` nests arrays and objects (strings skipped), counting up to
    ``limit + 1`` at most. Brackets that do not balance are the parser's to refuse."""
    stripped = _JSON_STRING.sub(b'""', body)
    opening = stripped.count(b"[") + stripped.count(b"{")
    if opening <= limit:
        return opening
    depth = deepest = 0
    for byte in stripped:
        if byte in _OPENING:
            depth += 1
            if depth > limit:
                return depth
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest


def _is_json(scope: Scope) -> bool:
    """A JSON body, or one without a content type (which handlers may read as JSON)."""
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            media: bytes = value.split(b";")[0].strip().lower()
            return media == b"application/json" or media.endswith(b"+json")
    return bool(scope.get("method") in ("POST", "PUT", "PATCH"))


class JsonDepthLimit:
    """Refuses (400) a JSON body nested deeper than ``max_depth`` before any handler or
    parser reads it. The body is already bounded in size by the observability middleware."""

    def __init__(self, app: ASGIApp, *, max_depth: int = MAX_JSON_DEPTH) -> None:
        self.app = app
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message], receive), send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if json_depth(body, limit=self.max_depth) > self.max_depth:
            error = BadRequest(
                f"The JSON body nests arrays and objects more than {self.max_depth} deep."
            )
            content = json.dumps(
                error.problem(instance=scope.get("path")).model_dump(mode="json", exclude_none=True)
            ).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": error.status,
                    "headers": [
                        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                        (b"content-length", str(len(content)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": content})
            return
        await self.app(
            scope,
            _replay([{"type": "http.request", "body": body, "more_body": False}], receive),
            send,
        )


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


# --- control characters -----------------------------------------------------------------


def _json_strings(
    value: Any, path: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every string of a parsed JSON document (keys too) with its path; iterative, so
    that no nesting depth can exhaust the stack."""
    stack: list[tuple[tuple[str | int, ...], Any]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            yield where, item
        elif isinstance(item, dict):
            for key, child in item.items():
                yield (*where, key), key
                stack.append(((*where, key), child))
        elif isinstance(item, list):
            stack.extend(((*where, index), child) for index, child in enumerate(item))


def json_body_problems(body: bytes) -> list[FieldError]:
    """The strings of a JSON body that hold control characters."""
    if not _JSON_CONTROL.search(body):
        return []
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return []  # the parser that reads the body refuses it (400)
    return [
        field_error(path, problem)
        for path, text in _json_strings(document)
        if (problem := control_character_problem(text)) is not None
    ]


def csv_body_problems(body: bytes) -> list[FieldError]:
    """The cells of a CSV body that hold control characters, by row and column."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return []  # refused as unreadable (400) by the handler
    if not CONTROL_CHARACTERS.search(text):
        return []
    problems = []
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error:
        rows = [line.split(",") for line in text.splitlines()]
    header = [cell.strip() for cell in rows[0]] if rows else []
    for row_number, row in enumerate(rows, start=1):
        for column_number, cell in enumerate(row):
            problem = control_character_problem(cell)
            if problem is None:
                continue
            column = (
                header[column_number]
                if column_number < len(header) and header[column_number]
                else column_number + 1
            )
            # As the lines' other problems are named: the header, or lines/<index>/<column>.
            path: tuple[str | int, ...] = (
                ("header", column) if row_number == 1 else ("lines", row_number - 2, column)
            )
            problems.append(field_error(path, f"CSV row {row_number}: {problem}"))
    return problems


def form_body_problems(body: bytes) -> list[FieldError]:
    """The fields of a submitted form (the browser pages') that hold control characters."""
    try:
        fields = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        return []  # the page reading the form refuses it
    return [
        field_error(("form", name), problem)
        for name, value in fields
        if (problem := control_character_problem(value))
    ]


def _query_names(route: Any) -> frozenset[str]:
    """The query parameters ``route`` declares (others are ignored, not read)."""
    cached: frozenset[str] | None = getattr(route, "_declared_query_names", None)
    if cached is not None:
        return cached
    names: set[str] = set()
    pending = [getattr(route, "dependant", None)]
    while pending:
        dependant = pending.pop()
        if dependant is not None:
            names.update(param.alias or param.name for param in dependant.query_params)
            pending.extend(dependant.dependencies)
    if route is not None:
        route._declared_query_names = frozenset(names)
    return frozenset(names)


async def refuse_control_characters(request: Request) -> None:
    """An app-wide dependency: refuses (422) control characters in any path or query
    parameter and in any string of a JSON or CSV body, naming each field."""
    problems = [
        field_error(("path", name), problem)
        for name, value in request.path_params.items()
        if isinstance(value, str) and (problem := control_character_problem(value))
    ]
    declared = _query_names(request.scope.get("route"))
    problems += [
        field_error(("query", name), problem)
        for name, value in request.query_params.multi_items()
        if name in declared and (problem := control_character_problem(value))
    ]
    if request.method in ("POST", "PUT", "PATCH"):
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media in ("", "application/json") or media.endswith("+json"):
            problems += json_body_problems(await request.body())
        elif media in ("text/csv", "application/csv"):
            problems += csv_body_problems(await request.body())
        elif media == "application/x-www-form-urlencoded":
            problems += form_body_problems(await request.body())
    if problems:
        raise ValidationFailed(
            f"{len(problems)} text value(s) hold control characters.", errors=problems
        )


def _text_schemas(schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The string schemas of a parameter's schema (itself, or its ``anyOf`` members)."""
    for candidate in [schema, *schema.get("anyOf", [])]:
        if candidate.get("type") == "string":
            yield candidate


def document_text_parameters(document: dict[str, Any]) -> dict[str, Any]:
    """States in an OpenAPI ``document`` what ``refuse_control_characters`` enforces: every
    string parameter without a pattern, enumeration or format of its own gets
    ``TEXT_PATTERN``."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") not in ("path", "query"):
                    continue
                for schema in _text_schemas(parameter.get("schema", {})):
                    if not {"pattern", "enum", "format", "const"} & schema.keys():
                        schema["pattern"] = TEXT_PATTERN
    return document


class JsonNumber:
    """Annotates a ``Decimal`` field so that its request schema is a JSON number only.

    Pydantic documents a decimal as "a number, or a string of digits"; the string form is
    how CSV cells arrive, not something a JSON client should send.
    """

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> dict[str, Any]:
        schema: dict[str, Any] = handler(core_schema)
        numbers = [s for s in schema.get("anyOf", []) if s.get("type") == "number"]
        if handler.mode == "validation" and numbers:
            schema = {**{k: v for k, v in schema.items() if k != "anyOf"}, **numbers[0]}
        return schema
