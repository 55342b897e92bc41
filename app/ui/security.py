"""Sign-in by cookie, same-origin checks on forms, and the headers of every UI response.

The cookie holds the API token itself and is checked by ``app.auth.authenticate``, the
same verification as the API's; the API never reads the cookie (it wants
``Authorization: Bearer``), so the cookie cannot be used to drive the API from another site.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qs, urlsplit

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.auth import Principal, authenticate
from app.errors import BadRequest, Forbidden, Unauthorised, UnsupportedMediaType

COOKIE_NAME = "wf_ui_token"
COOKIE_PATH = "/ui"
UI_PREFIX = "/ui"
# No script, style, image, font or connection from anywhere but the service itself.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; "
    "object-src 'none'"
)
MAX_FORM_BYTES = 64 * 1024


class SignInRequired(Exception):
    """No cookie, or one whose token is unknown or revoked: the page sends to sign-in."""

    def __init__(self, *, clear_cookie: bool = False) -> None:
        super().__init__("sign-in required")
        self.clear_cookie = clear_cookie


def principal_from_cookie(request: Request) -> Principal:
    """The signed-in principal, verified exactly as an API request's bearer token is."""
    token = request.cookies.get(COOKIE_NAME)
    if not token:
        raise SignInRequired()
    try:
        return verify_token(request, token)
    except Unauthorised as error:
        raise SignInRequired(clear_cookie=True) from error


def verify_token(request: Request, token: str) -> Principal:
    credentials = HTTPAuthorizationCredentials(scheme="Bearer", credentials=token)
    return authenticate(request, credentials)


UiPrincipal = Annotated[Principal, Depends(principal_from_cookie)]


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def set_token_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        COOKIE_NAME,
        token,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=is_https(request),
    )


def clear_token_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        COOKIE_NAME, path=COOKIE_PATH, httponly=True, samesite="strict", secure=is_https(request)
    )


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def require_same_origin(request: Request) -> None:
    """Refuse a form posted from another site: its Origin (or, without one, its Referer)
    must be this service's own. The SameSite=Strict cookie is the first line; this the second.
    """
    own = f"{request.url.scheme}://{request.url.netloc}"
    origin = request.headers.get("origin")
    if origin is None:
        referer = request.headers.get("referer")
        origin = _origin(referer) if referer else None
    if origin != own:
        raise Forbidden("This form must be sent from the service's own pages.")


async def read_form(request: Request) -> dict[str, list[str]]:
    """An ``application/x-www-form-urlencoded`` body, field by field (repeats kept)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/x-www-form-urlencoded":
        raise UnsupportedMediaType("Send the form as application/x-www-form-urlencoded.")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise BadRequest("The form is too large.")
    try:
        return parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError as error:
        raise BadRequest("The form is not UTF-8.") from error


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a page of the UI only, never another site."""
    if (
        target
        and target.startswith(UI_PREFIX + "/")
        and not target.startswith("//")
        and "\\" not in target
        and _origin(target) is None
    ):
        return target
    return UI_PREFIX + "/"


class SecurityHeadersMiddleware:
    """Adds the Content-Security-Policy and friends to every response under ``/ui``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path == UI_PREFIX or path.startswith(UI_PREFIX + "/")):
            await self.app(scope, receive, send)
            return
        is_asset = path.startswith(UI_PREFIX + "/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if not (not is_asset and k.lower() == b"cache-control")
                ]
                headers += [
                    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"x-frame-options", b"DENY"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                ]
                if not is_asset:
                    # Pages show one principal's data: never kept by a shared cache.
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
