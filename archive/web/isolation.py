"""Who may reach the web servers, and what replayed pages may do: origins, security headers, access token.

An archived page is untrusted code. It is served from an origin of its own, the replay
origin (its own port by default, its own host name when configured), so the same-origin
policy keeps its scripts away from the app origin's API, pages, cookies and storage. The
app origin shows a capture in a top frame of its own (the banner, outside the replayed
document) around an iframe from the replay origin: because the two origins differ, the
iframe's sandbox cannot be undone from inside it, and the banner cannot be touched.

Exposure: a server bound to anything but loopback must have an access token; every request
then carries it (``Authorization: Bearer``, the ``newsarchive_token`` cookie, or once the
``newsarchive_token`` query parameter, which is traded for the cookie).
"""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse, RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from archive.config import (
    DEFAULT_APP_PORT,
    DEFAULT_BIND_HOST,
    DEFAULT_REPLAY_PORT,
    ConfigError,
)

TOKEN_NAME = "newsarchive_token"  # the cookie and the query parameter
# The replayed document's sandbox in the top frame: scripts and forms run (pages need them),
# it keeps the replay origin (its own storage, same-origin loads), and nothing more: no
# allow-top-navigation (it cannot send the reader's window anywhere), no allow-popups
# (no window.open, no target=_blank), no allow-modals, no allow-downloads.
FRAME_SANDBOX = "allow-scripts allow-forms allow-same-origin"
NOSNIFF = (b"x-content-type-options", b"nosniff")
APP_FRAME_ANCESTORS = "frame-ancestors 'none'"  # no page of the app is ever framed (clickjacking)
WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})


@dataclass(frozen=True)
class Origins:
    """The public origins of the app and of replay (``scheme://host[:port]``, no slash).

    ``app`` is None for a replay server that runs without the app (``newsarchive replay``):
    its pages are then shown unframed, and may be framed by nothing but themselves.
    """

    app: str | None
    replay: str

    def __post_init__(self) -> None:
        if self.app is not None and self.app.rstrip("/") == self.replay.rstrip("/"):
            raise ConfigError(f"the app and replay must have different origins, both are {self.replay}: "
                              "give them different ports or host names")

    @classmethod
    def of(cls, app: str | None, replay: str) -> Origins:
        return cls(app.rstrip("/") if app else None, replay.rstrip("/"))

    @classmethod
    def default(cls) -> Origins:
        """Both servers at their default addresses (``newsarchive serve`` without options)."""
        return cls(f"http://{DEFAULT_BIND_HOST}:{DEFAULT_APP_PORT}", f"http://{DEFAULT_BIND_HOST}:{DEFAULT_REPLAY_PORT}")

    @property
    def app_spellings(self) -> tuple[str, ...]:
        """The app origin as readers may type it: a loopback one both as 127.0.0.1 and as localhost."""
        if self.app is None:
            return ()
        for one, other in (("//127.0.0.1:", "//localhost:"), ("//localhost:", "//127.0.0.1:")):
            if one in self.app:
                return self.app, self.app.replace(one, other)
        return (self.app,)

    def replay_csp(self, *, raw: bool = False) -> str:
        """The CSP of every replay-origin response: loads only from replay; framed only by the app's frame.

        default-src covers scripts, styles, images, fonts, frames, fetch/XHR/WebSocket,
        workers and media: a page may load from the replay origin, inline or data:, and
        from nowhere else (not the app origin, not the live web); forms post back to it.
        'self' in frame-ancestors lets an archived page frame another archived page.
        ``raw`` (``id_``): also ``sandbox``, so raw archived HTML or SVG opened on its own
        runs no script and has an opaque origin.
        """
        ancestors = " ".join(("'self'", *self.app_spellings))
        policy = ("default-src 'self' 'unsafe-inline' 'unsafe-eval' data: blob:; form-action 'self'; "
                  f"base-uri 'self'; frame-ancestors {ancestors}")
        return f"sandbox; {policy}" if raw else policy


def public_origin(host: str, port: int, configured: str | None) -> str:
    """The origin readers reach a server at: the configured one, else http://host:port."""
    if configured:
        return configured.rstrip("/")
    if host in WILDCARD_HOSTS:
        raise ConfigError(f"bound to every address ({host or '*'}), the server cannot tell the address readers "
                          "use: give it with --app-url and --replay-url (or NEWSARCHIVE_APP_URL, "
                          "NEWSARCHIVE_REPLAY_URL)")
    name = f"[{host}]" if ":" in host else host
    return f"http://{name}:{port}"


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the server on this machine (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def check_exposure(host: str, token: str | None) -> None:
    """Refuse to serve beyond this machine without an access token."""
    if not is_loopback(host) and not token:
        raise ConfigError(f"--host {host} is not a loopback address: anyone who reaches it could read the "
                          "archive. Give an access token (--token or NEWSARCHIVE_TOKEN), or bind 127.0.0.1")


class Guard:
    """ASGI middleware: the access token check, and the headers every response carries.

    Every response gets ``X-Content-Type-Options: nosniff`` (no archived body is ever
    sniffed into HTML or script), and ``default_csp`` when it set no policy itself.
    """

    def __init__(self, app: ASGIApp, *, token: str | None, default_csp: str) -> None:
        self.app = app
        self.token = token
        self.default_csp = default_csp.encode("latin-1")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.token:
            refused = self._refusal(scope)
            if refused is not None:
                await refused(scope, receive, self._with_headers(send))
                return
        await self.app(scope, receive, self._with_headers(send))

    def _with_headers(self, send: Send) -> Send:
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != NOSNIFF[0]]
                headers.append(NOSNIFF)
                if not any(k.lower() == b"content-security-policy" for k, _ in headers):
                    headers.append((b"content-security-policy", self.default_csp))
                message = {**message, "headers": headers}
            await send(message)
        return sending

    def _refusal(self, scope: Scope) -> PlainTextResponse | RedirectResponse | None:
        """None when the request carries the token; else the answer it gets instead."""
        assert self.token is not None
        headers = Headers(scope=scope)
        given = [headers.get("authorization", "").removeprefix("Bearer ").strip()]
        cookie = SimpleCookie()
        cookie.load(headers.get("cookie", ""))
        if TOKEN_NAME in cookie:
            given.append(cookie[TOKEN_NAME].value)
        query = scope.get("query_string", b"").decode("latin-1")
        pairs = parse_qsl(query, keep_blank_values=True)
        from_query = [value for name, value in pairs if name == TOKEN_NAME]
        if any(self._matches(value) for value in given):
            return None
        if from_query and self._matches(from_query[-1]):
            # traded for a cookie, and dropped from the address (history, Referer, the archived URL's query)
            rest = urlencode([(name, value) for name, value in pairs if name != TOKEN_NAME])
            path = scope.get("raw_path", scope["path"].encode()).decode("latin-1").split("?", 1)[0]
            path = "/" + path.lstrip("/")  # never //host: the redirect stays on this origin
            response = RedirectResponse(path + ("?" + rest if rest else ""), status_code=303)
            response.set_cookie(TOKEN_NAME, self.token, httponly=True, samesite="lax",
                                secure=scope.get("scheme") == "https")
            return response
        return PlainTextResponse(
            "This archive needs its access token: open it once with ?newsarchive_token=TOKEN "
            "(it is then kept in a cookie), or send Authorization: Bearer TOKEN.\n",
            status_code=401, headers={"WWW-Authenticate": 'Bearer realm="newsarchive"'})

    def _matches(self, value: str) -> bool:
        assert self.token is not None
        return bool(value) and hmac.compare_digest(value.encode(), self.token.encode())
