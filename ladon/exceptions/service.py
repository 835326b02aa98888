"""Faults: the errors that travel to the client.

A service method raises :class:`ClientFault` when the caller is wrong and
:class:`ServerFault` when the service is; the interface in use turns the
fault into its own wire format (SOAP Fault, JSON-WSP fault, ...). Any other
exception raised by a method is logged and sent as a generic server fault,
without a traceback unless the application runs with ``debug=True``.
"""

from __future__ import annotations

from typing import ClassVar

from .base import LadonError


class ServiceFault(LadonError):
    """Base class of every fault.

    :param faultcode: ``"client"`` or ``"server"`` (Ladon 1.0 spelling;
        ``Client`` and ``Server`` too), or a code of the service's own
        (``"quota"``: JSON-WSP, JSON-RPC and ``http`` carry it as it is, the
        others answer a server fault); Ladon 1.0 code that gives the message
        alone first is read so.
    :param faultstring: the human readable message.
    :param detail: optional longer text (sent as the fault's detail).
    :param stack_depth: accepted for Ladon 1.0 compatibility and ignored;
        no frame is ever inspected.
    :param hint: optional short text telling the client what to try.

    .. versionadded:: 2.0
    """

    code: ClassVar[str] = "server"
    default_message: ClassVar[str] = "Internal server error"
    #: The HTTP status of the answer when this fault decides it (e.g. 413
    #: for too many attachments); ``None`` leaves it to the interface.
    #: Interfaces whose faults are always HTTP 200 (JSON-WSP, JSON-RPC,
    #: XML-RPC) take it; SOAP keeps the status its binding requires.
    http_status: int | None = None
    #: The SOAP fault code when it is neither ``Client`` nor ``Server``: a
    #: local name in the envelope's namespace (``VersionMismatch``), or a
    #: qualified name in Clark notation (``{namespace}FailedAuthentication``,
    #: written with its namespace declared).
    soap_code: str | None = None
    #: The SOAP 1.2 ``env:Subcode`` as ``{namespace}local`` (a WS-Addressing
    #: fault's, or a service's own); ``None``: Ladon's, which names the
    #: fault's class (``{urn:ladon:faults}ArgumentError``).
    soap_subcode: str | None = None
    #: Headers the answer carries (e.g. ``WWW-Authenticate`` on a 401).
    http_headers: tuple[tuple[str, str], ...] = ()
    #: Whether ``http_status`` is decided at the HTTP level (a refused
    #: authentication: 401, 403) and so applies on every interface, SOAP
    #: included, instead of only where the protocol's faults are HTTP 200.
    http_level: bool = False
    #: Whether the fault is about the HTTP request itself, found before a
    #: call was read (a body too large, unreadable...): its ``http_status``
    #: applies even on a protocol that answers calls' faults with HTTP 200
    #: only (XML-RPC).
    about_request: bool = False

    def __init__(
        self,
        faultcode: str = "",
        faultstring: str = "",
        detail: str | None = None,
        stack_depth: int = 1,
        hint: str = "",
    ) -> None:
        faultcode = str(faultcode) if faultcode else ""
        if faultcode.lower() in ("client", "server"):
            faultcode = faultcode.lower()  # SOAP's spelling: Client, Server
        elif faultcode and not faultstring:
            # Ladon 1.0 code sometimes passes the message first.
            faultstring, faultcode = faultcode, ""
        # else: a code of the service's own ("quota"), written as it is where
        # a protocol carries it (JSON-WSP, JSON-RPC, http); a server fault else
        self.faultcode = faultcode or self.code
        self.faultstring = str(faultstring) if faultstring else self.default_message
        self.detail = detail
        self.hint = hint
        super().__init__(self.faultstring)

    @property
    def is_client(self) -> bool:
        """True when the caller is at fault (``client`` code)."""
        return self.faultcode == "client"

    def __str__(self) -> str:
        return self.faultstring


class ClientFault(ServiceFault):
    """The request was wrong: bad argument, unknown method, malformed body.

    Signature as in Ladon 1.0: ``ClientFault(faultstring, detail=None,
    stack_depth=2, hint='')``.

    .. versionadded:: 2.0
    """

    code: ClassVar[str] = "client"
    default_message: ClassVar[str] = "Bad request"

    def __init__(
        self, faultstring: str = "", detail: str | None = None, stack_depth: int = 2, hint: str = ""
    ) -> None:
        super().__init__("client", faultstring, detail, stack_depth, hint)


class ServerFault(ServiceFault):
    """The service failed; the request may be fine.

    .. versionadded:: 2.0
    """

    code: ClassVar[str] = "server"

    def __init__(
        self, faultstring: str = "", detail: str | None = None, stack_depth: int = 2, hint: str = ""
    ) -> None:
        super().__init__("server", faultstring, detail, stack_depth, hint)


class UnexpectedError(ServerFault):
    """What the client gets for an exception that is not a fault (a bug in
    the service or in Ladon): "Internal server error", with the traceback
    as detail only in debug mode. The exception itself is logged.

    .. versionadded:: 2.0
    """

    def __init__(self, detail: str | None = None) -> None:
        super().__init__("Internal server error", detail=detail)


class MalformedRequest(ClientFault):
    """The request body cannot be parsed for the interface in use."""


class UnknownMethod(ClientFault):
    """The request names a method the service does not publish."""


class ArgumentError(ClientFault, ValueError):
    """An argument (or a part of it) has the wrong type or is missing.

    :param path: where the bad value sits, e.g. ``items[3].name``.
    :param message: what is wrong with it.
    """

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        text = f'Argument "{path}": {message}' if path else message
        super().__init__(text)


class UnknownResource(ClientFault):
    """The request names something that does not exist (a task id, a URL
    of the ``http`` interface): HTTP 404 where the protocol has statuses.

    .. versionadded:: 2.0
    """


class TaskNotReady(ClientFault):
    """A task's result was asked for while the task has none: it is still
    running, or was cancelled (HTTP 409 on the ``http`` interface).

    .. versionadded:: 2.0
    """


class TooManyWaiters(ServerFault):
    """A ``<task>_wait`` call found this process's waiting calls at their
    cap (``max_waiters``): HTTP 503 where the protocol has statuses, with
    ``Retry-After``. The client may poll ``<task>_progress`` instead, or try
    again.

    .. versionadded:: 2.0
    """

    http_status: int | None = 503
    http_headers: tuple[tuple[str, str], ...] = (("Retry-After", "1"),)


class TaskServiceUnavailable(ServerFault):
    """The task store cannot be reached (a SQLite file that cannot be
    written, Redis away): HTTP 503 where the protocol has statuses, with
    ``Retry-After``, as the OpenAPI document and ``/_ladon/health/ready``
    say. Nothing was started or changed; the client may try again.

    .. versionadded:: 2.0
    """

    http_status: int | None = 503
    http_headers: tuple[tuple[str, str], ...] = (("Retry-After", "5"),)


class BadHeader(ClientFault):
    """A request header Ladon reads (``Idempotency-Key``,
    ``Ladon-Callback-URL``) has a value it refuses: HTTP 400 where the
    protocol has statuses.

    .. versionadded:: 2.0
    """

    http_status: int | None = 400


class IdempotencyConflict(ClientFault):
    """An ``Idempotency-Key`` already started a task with other arguments
    (HTTP 422 where the protocol has statuses, as the IETF
    Idempotency-Key draft says; SOAP 1.2 answers 400, as its HTTP binding
    does every ``env:Sender`` fault).

    .. versionadded:: 2.0
    """

    http_status: int | None = 422


class ResultError(ServerFault):
    """The method returned a value that does not match its declared type."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        #: What is wrong, without the path.
        self.reason = message
        super().__init__(f'Method result "{path}": {message}')

    def within(self, segment: str) -> ResultError:
        """The same error one level up: its path under ``segment`` (a
        name, or an index such as ``"[2]"``).

        .. versionadded:: 2.0
        """
        path = self.path
        if path and not path.startswith("["):
            path = "." + path
        return ResultError(segment + path, self.reason)


#: Alias used in the style guide.
Fault = ServiceFault
