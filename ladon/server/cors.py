"""Cross-origin calls from browsers (CORS): a WSGI wrapper around the app.

Only the origins the operator lists get an ``Access-Control-Allow-Origin``;
a preflight ``OPTIONS`` from one of them is answered at once (the methods,
and the request headers a Ladon call may carry: ``Authorization``,
``Content-Type``, ``Idempotency-Key``...). Without origins (the default)
there is no wrapper at all.

.. versionadded:: 2.0
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

#: The methods a cross-origin page may use.
ALLOWED_METHODS = "GET, POST, OPTIONS"
#: The request headers a cross-origin page may send.
ALLOWED_HEADERS = (
    "Authorization",
    "Content-Type",
    "Accept",
    "Accept-Language",
    "Content-Language",
    "Idempotency-Key",
    "Ladon-Callback-URL",
    "SOAPAction",
    "X-Request-ID",
)
#: Response headers a cross-origin page may read.
EXPOSED_HEADERS = "WWW-Authenticate, Location, Retry-After, X-Request-ID"
#: Seconds a browser may keep a preflight answer.
MAX_AGE = "600"


def normalize_origin(origin: str) -> str:
    """``scheme://host[:port]`` in lower case, ``*`` as it is.

    :raises ValueError: not an origin (a path, no scheme...).

    .. versionadded:: 2.0
    """
    if origin == "*":
        return origin
    parts = urlsplit(origin.strip())
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username is not None
    ):
        raise ValueError(
            f"cors_origins: {origin!r} is not an origin (scheme://host[:port], or '*')"
        )
    port = f":{parts.port}" if parts.port is not None else ""
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    return f"{parts.scheme}://{host}{port}".lower()


class CORS:
    """Answers preflights and marks answers for the listed origins.

    :param app: the WSGI application wrapped.
    :param origins: the allowed origins (``https://portal.example.com``),
        or ``["*"]`` for any.

    .. versionadded:: 2.0
    """

    def __init__(self, app: WSGIApp, origins: Sequence[str]) -> None:
        self.app = app
        normalized = [normalize_origin(o) for o in origins]
        self.any = "*" in normalized
        self.origins = frozenset(o for o in normalized if o != "*")

    def allowed(self, origin: str) -> bool:
        """Whether ``origin`` (an ``Origin`` header) may call."""
        if self.any:
            return True
        try:
            return normalize_origin(origin) in self.origins
        except ValueError:
            return False

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        origin = environ.get("HTTP_ORIGIN")
        if isinstance(origin, str) and origin:
            allowed = self.allowed(origin)
            method = environ.get("REQUEST_METHOD")
            if method == "OPTIONS" and environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD"):
                return self._preflight(origin, allowed, start_response)
        else:
            allowed = False
        # Every answer varies with the Origin (with it, without it, another
        # one): a shared cache must not give one origin's answer to another.
        extra = [("Vary", "Origin")]
        if allowed:
            extra[:0] = [
                ("Access-Control-Allow-Origin", "*" if self.any else str(origin)),
                ("Access-Control-Expose-Headers", EXPOSED_HEADERS),
            ]

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, [*headers, *extra], exc_info)

        return self.app(environ, start)

    def _preflight(
        self, origin: str, allowed: bool, start_response: StartResponse
    ) -> Iterable[bytes]:
        if not allowed:
            body = b"Origin not allowed\n"
            start_response(
                "403 Forbidden",
                [
                    ("Content-Type", "text/plain; charset=utf-8"),
                    ("Content-Length", str(len(body))),
                    ("Vary", "Origin"),
                ],
            )
            return [body]
        start_response(
            "204 No Content",
            [
                ("Access-Control-Allow-Origin", "*" if self.any else origin),
                ("Access-Control-Allow-Methods", ALLOWED_METHODS),
                ("Access-Control-Allow-Headers", ", ".join(ALLOWED_HEADERS)),
                ("Access-Control-Max-Age", MAX_AGE),
                ("Vary", "Origin"),
            ],
        )
        return []
