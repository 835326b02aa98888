"""Idempotent task starts: an ``Idempotency-Key`` names one start.

A client that does not know whether its start call arrived (a time-out, a
dropped connection) sends it again with the same key. The store keeps the
key with the task it started, for as long as it keeps the task, so the
repeated start answers that task's id instead of starting a second one.

* The key is scoped: by the principal that sent it (all anonymous callers
  share one scope) and by the task method (``Service.method``). The shared
  stores keep only a SHA-256 of the scope and the key (:func:`scoped_key`);
  the thread backend keys its in-memory table by the scope itself
  (:attr:`IdempotentStart.local_key`).
* It is bound to the call's arguments, as converted (so ``2`` in JSON and
  ``<n>2</n>`` in SOAP are the same call): a SHA-256 of their canonical
  typed JSON, attachments by the SHA-256 of their content
  (:func:`fingerprint`). The same key with other arguments is refused.
  The thread backend makes the fingerprint only when a key comes again
  (``ServiceJob.start_fingerprint``).
* The claim is atomic in the store: a lock (thread backend), the one
  statement that inserts the task unless a kept task's id has the key's
  prefix (SQLite), a Lua script that checks the key and writes the task
  (Redis). Concurrent duplicates, on any
  process or host sharing the store, start the method once.

.. versionadded:: 2.0
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

from ..types.attachment import attachment
from ..wire.jsonenc import c_encoder
from .base import TaskError

#: The longest key accepted, in characters (Stripe's limit).
MAX_KEY_LENGTH = 255
#: The usual key: printable ASCII without a comma (0x2C).
_PRINTABLE_KEY = re.compile(f"[ -+\\--~]{{1,{MAX_KEY_LENGTH}}}")


#: The scope of a key as sent: the principal's name (``None``: anonymous),
#: the task method's key and the key.
Scope = tuple[str | None, str, str]


class IdempotentStart:
    """What a store keeps to recognise a repeated start.

    :param key: the scoped key (:func:`scoped_key`): 64 hex digits; or
        ``None`` with ``scope`` given (made from it when first read).
    :param fingerprint: the arguments' :func:`fingerprint`: 64 hex digits;
        or a function that makes it, called when it is first read (a
        store that compares fingerprints only when a key comes again, such
        as the thread backend, then never makes one for a key sent once).
    :param scope: the key as sent, with its principal and method: what a
        store in this process may key its table with instead of
        :attr:`key` (see :attr:`local_key`), no hash made.

    .. versionadded:: 2.0
    """

    __slots__ = ("_compute", "_fingerprint", "_key", "scope")

    def __init__(
        self,
        key: str | None,
        fingerprint: str | Callable[[], str],
        scope: Scope | None = None,
    ) -> None:
        if key is None and scope is None:
            raise TypeError("IdempotentStart needs its key or its scope")
        self._key = key
        self.scope = scope
        if isinstance(fingerprint, str):
            self._fingerprint: str | None = fingerprint
            self._compute: Callable[[], str] | None = None
        else:
            self._fingerprint = None
            self._compute = fingerprint

    @property
    def key(self) -> str:
        """The scoped key: the SHA-256 (hex) of :attr:`scope`."""
        if self._key is None:
            assert self.scope is not None  # checked in __init__
            self._key = scoped_key(*self.scope)
        return self._key

    @property
    def fingerprint(self) -> str:
        """The arguments' fingerprint (made on first read if deferred)."""
        if self._fingerprint is None:
            assert self._compute is not None  # one of the two is set
            self._fingerprint = self._compute()
            self._compute = None  # nothing of the call kept once it is made
        return self._fingerprint

    @property
    def local_key(self) -> Scope | str:
        """What a store that lives in this process keys its table with:
        the scope itself when known (no hash made), else :attr:`key`."""
        return self.scope if self.scope is not None else self.key


class AlreadyStarted(TaskError):
    """The key started a task with the same arguments before: that task's id
    is the answer (raised by a backend's ``submit``; the job is not run).

    :param task_id: the task the key started.

    .. versionadded:: 2.0
    """

    def __init__(self, task_id: str) -> None:
        self.task_id = task_id
        super().__init__(f"the key already started task {task_id}")


class KeyReused(TaskError):
    """The key started a task with other arguments (raised by a backend's
    ``submit``; the job is not run).

    :param task_id: the task the key started.

    .. versionadded:: 2.0
    """

    def __init__(self, task_id: str) -> None:
        self.task_id = task_id
        super().__init__(f"the key already started task {task_id} with other arguments")


def check_key(value: str) -> str:
    """An ``Idempotency-Key`` as sent: printable ASCII (space included, no
    control character), 1 to :data:`MAX_KEY_LENGTH` characters, no comma
    (repeated header lines arrive joined by commas). A value in
    double quotes (an RFC 8941 string, as the IETF draft writes it) is read
    without them (``\\"`` and ``\\\\`` unescaped), commas included.

    :returns: the key.
    :raises ValueError: with a message that says what is wrong.

    .. versionadded:: 2.0
    """
    text = value.strip(" \t")
    if text[:1] != '"' and _PRINTABLE_KEY.fullmatch(text):  # PERF: the usual key
        return text
    if text[:1] != '"' and "," in text:
        # a server joins repeated header lines with commas: "one,two"
        raise ValueError(
            "an Idempotency-Key is one key: this one holds a comma (was the header "
            'sent twice?); quote a key that has one ("a,b")'
        )
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        inner = text[1:-1]
        out: list[str] = []
        escaped = False
        for ch in inner:
            if escaped:
                if ch not in '"\\':
                    raise ValueError('a quoted Idempotency-Key may only escape " and \\')
                out.append(ch)
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                raise ValueError('a quoted Idempotency-Key holds an unescaped "')
            else:
                out.append(ch)
        if escaped:
            raise ValueError("a quoted Idempotency-Key ends with a lone \\")
        text = "".join(out)
    if not text:
        raise ValueError("the Idempotency-Key is empty")
    if len(text) > MAX_KEY_LENGTH:
        raise ValueError(
            f"the Idempotency-Key is longer than {MAX_KEY_LENGTH} characters ({len(text)})"
        )
    if not all(" " <= ch <= "~" for ch in text):
        raise ValueError(
            "the Idempotency-Key must be printable ASCII (letters, digits, punctuation), "
            "e.g. a UUID"
        )
    return text


def scoped_key(owner: str | None, method: str, key: str) -> str:
    """What a store keeps of a key: the SHA-256 (hex) of the principal's
    name (``None``: anonymous), the task method's key and the key.

    .. versionadded:: 2.0
    """
    # each part prefixed with its length: no two scopes read the same
    who = "" if owner is None else f"{len(owner)}:{owner}"
    scope = f"{who}|{len(method)}:{method}|{key}"
    return hashlib.sha256(scope.encode("utf-8", "surrogatepass")).hexdigest()


def _canonical(value: object) -> object:
    if isinstance(value, attachment):
        digest = hashlib.sha256()
        where = value.tell() if value.seekable() else None
        if where is not None:
            value.seek(0)
        while chunk := value.read(65536):
            digest.update(chunk)
        if where is not None:
            value.seek(where)
        return {"$attachment-sha256": digest.hexdigest()}
    if isinstance(value, bytes | bytearray):
        return {"$bytes-sha256": hashlib.sha256(bytes(value)).hexdigest()}
    raise TypeError(f"a {type(value).__name__} has no canonical form")


_CANONICAL = json.JSONEncoder(
    default=_canonical,
    sort_keys=True,
    ensure_ascii=False,
    allow_nan=False,
    separators=(",", ":"),
)
# The same encoder, made once (no circular check: the plain arguments are
# trees written by convert.dump).
_C_CANONICAL = c_encoder(_canonical, ",", ":", True)


def fingerprint(plain_args: Sequence[Any]) -> str:
    """The SHA-256 (hex) of a call's arguments in plain typed-JSON form
    (:func:`ladon.types.convert.dump`): canonical JSON (sorted keys, no
    spaces), attachments by the SHA-256 of their content (read, then put
    back where they were).

    .. versionadded:: 2.0
    """
    if _C_CANONICAL is None:  # pragma: no cover - CPython always has it
        text = _CANONICAL.encode(list(plain_args))
    else:  # PERF: JSONEncoder.encode() makes a new C encoder per call
        text = "".join(_C_CANONICAL(list(plain_args), 0))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def job_idempotency(job: object) -> IdempotentStart | None:
    """A job's ``idempotency`` attribute (the framework's jobs have it
    when the start carried a key), else ``None``.

    .. versionadded:: 2.0
    """
    value = getattr(job, "idempotency", None)
    return value if isinstance(value, IdempotentStart) else None
