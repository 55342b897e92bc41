"""Errors as RFC 9457 ``application/problem+json``.

Each error class carries its status, a stable ``type`` URI and a title, so the routes can
declare what they may answer and the OpenAPI document shows it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from pydantic import BaseModel, Field

PROBLEM_MEDIA_TYPE = "application/problem+json"


class FieldError(BaseModel):
    """One bad field: where it is (a JSON Pointer into the request) and what is wrong."""

    pointer: str = Field(examples=["/lines/0/vacancy_wte"])
    field: str = Field(examples=["lines[0].vacancy_wte"])
    message: str


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] | None = None


class AppError(Exception):
    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal server error"

    def __init__(
        self,
        detail: str,
        *,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}

    @classmethod
    def type_uri(cls) -> str:
        return f"/problems/{cls.slug}"

    def problem(self, instance: str | None = None) -> Problem:
        return Problem(
            type=self.type_uri(),
            title=self.title,
            status=self.status,
            detail=self.detail,
            instance=instance,
            errors=self.errors,
        )


class BadRequest(AppError):
    status = 400
    slug = "bad-request"
    title = "The request could not be parsed"


class Unauthorised(AppError):
    status = 401
    slug = "unauthorised"
    title = "Valid credentials are required"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="workforce"'})


class Forbidden(AppError):
    status = 403
    slug = "forbidden"
    title = "These credentials may not do this"


class NotFound(AppError):
    status = 404
    slug = "not-found"
    title = "No such resource"


class Conflict(AppError):
    status = 409
    slug = "conflict"
    title = "The request conflicts with the resource's state"


class PreconditionFailed(AppError):
    status = 412
    slug = "precondition-failed"
    title = "The resource has changed since it was read"


class PayloadTooLarge(AppError):
    status = 413
    slug = "payload-too-large"
    title = "The request body is too large"


class UnsupportedMediaType(AppError):
    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported content type"


class ValidationFailed(AppError):
    status = 422
    slug = "validation-error"
    title = "The request's content is invalid"


class TooManyRequests(AppError):
    status = 429
    slug = "too-many-requests"
    title = "Too much work is already under way for this token"

    def __init__(self, detail: str, *, retry_after_s: int = 10) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after_s)})


class ServiceUnavailable(AppError):
    status = 503
    slug = "service-unavailable"
    title = "A service this request needs is unavailable"

    def __init__(self, detail: str, *, retry_after_s: int = 10) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after_s)})


def field_error(path: tuple[str | int, ...] | list[str | int], message: str) -> FieldError:
    """A ``FieldError`` for ``path`` (``("lines", 0, "vacancy_wte")``)."""
    pointer = "/" + "/".join(str(part) for part in path) if path else ""
    dotted = ""
    for part in path:
        if isinstance(part, int):
            dotted += f"[{part}]"
        else:
            dotted += f".{part}" if dotted else part
    return FieldError(pointer=pointer, field=dotted, message=message)


def problem_responses(*errors: type[AppError]) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route that may answer with these problems."""
    return {
        error.status: {
            "model": Problem,
            "description": error.title,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for error in errors
    }


def from_pydantic(
    errors: Sequence[Any],
    *,
    prefix: tuple[str | int, ...] = (),
    note: Callable[[tuple[str | int, ...]], str] | None = None,
) -> list[FieldError]:
    """Pydantic's errors as ``FieldError`` s, the location first element (``body``) dropped
    by the caller through ``prefix`` handling."""
    result = []
    for error in errors:
        loc = tuple(error.get("loc", ()))
        path = prefix + loc
        message = error.get("msg", "invalid")
        if note is not None:
            message = note(path) + message
        result.append(field_error(path, message))
    return result


class MethodNotAllowed(AppError):
    status = 405
    slug = "method-not-allowed"
    title = "The resource does not allow this method"


# What any operation may answer besides what its route declares, by what it takes.
_BODY_PROBLEMS = (BadRequest, PayloadTooLarge, ValidationFailed)
_INPUT_PROBLEMS = (ValidationFailed,)
_AUTHENTICATED_PROBLEMS = (Unauthorised, Forbidden, ServiceUnavailable)
_PATH_PROBLEMS = (NotFound,)


def document_problems(document: dict[str, Any]) -> dict[str, Any]:
    """Adds to each operation of an OpenAPI ``document`` the problems every route of its
    kind can answer: a body can be malformed (400), too large (413) or invalid (422); a
    parameter invalid (422); a path's resource unknown (404); an authenticated request
    refused (401, 403) or the database unavailable (503)."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            parameters = operation.get("parameters", [])
            errors: list[type[AppError]] = []
            if "requestBody" in operation:
                errors += _BODY_PROBLEMS
            if parameters:
                errors += _INPUT_PROBLEMS
            if any(p.get("in") == "path" for p in parameters):
                errors += _PATH_PROBLEMS
            if operation.get("security"):
                errors += _AUTHENTICATED_PROBLEMS
            responses = operation["responses"]
            for status, response in problem_responses(*errors).items():
                if str(status) not in responses:
                    response = {k: v for k, v in response.items() if k != "model"}
                    responses[str(status)] = response
            operation["responses"] = dict(sorted(responses.items()))
    return document
