"""``CustomResponse``: the escape hatch a method returns to answer with
its own bytes and headers, bypassing the interface's encoder (Ladon 1.0)."""

from __future__ import annotations

from collections.abc import Iterable


class CustomResponse:
    """Subclass it and return an instance from a service method.

    The application then answers HTTP 200 with :meth:`response_headers` and
    :meth:`response_data` as they are, whatever interface was called. The
    method's declared return type is not checked for such a result.

    .. versionadded:: 2.0
    """

    def response_headers(self) -> list[tuple[str, str]]:
        """Headers of the response, e.g. ``[("Content-Type", "image/png")]``."""
        return []

    def response_data(self) -> bytes | Iterable[bytes]:
        """The body: bytes or an iterable of bytes."""
        return b""
