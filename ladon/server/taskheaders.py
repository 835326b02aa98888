"""The headers of a task start, as steps on the one request path:
``Idempotency-Key`` and ``Ladon-Callback-URL``.

Both read the HTTP request, so they work alike on every interface; on the
SOAP interfaces the key may also come as a header block of the envelope,
``<lt:IdempotencyKey xmlns:lt="urn:ladon:tasks">...</lt:IdempotencyKey>``,
which every WSDL declares on the task starts (zeep and suds send it without
touching HTTP). They concern task starts only: other calls never see them
(the plain path stays as fast), and other calls that carry the headers
ignore them.

.. versionadded:: 2.0
"""

from __future__ import annotations

from ..exceptions.service import BadHeader
from ..interfaces.base import Call
from ..interfaces.base import Outcome
from ..ladonizer.model import MethodKind
from ..tasks.callbacks import CALLBACK_URL_HEADER
from ..tasks.callbacks import CallbackSettings
from ..tasks.idempotency import check_key
from ..wire.schema import IDEMPOTENCY_KEY_ELEMENT
from .dispatch import Exchange

#: The HTTP header of an idempotent start.
IDEMPOTENCY_HEADER = "Idempotency-Key"
_STARTS = frozenset({MethodKind.TASK_START})


class IdempotencyStep:
    """Reads a task start's ``Idempotency-Key`` (the HTTP header, or on
    SOAP the ``IdempotencyKey`` header block) and checks it; the task
    calls then start the task once per key (see
    :mod:`ladon.tasks.idempotency`).

    .. versionadded:: 2.0
    """

    observes = False
    kinds = _STARTS
    #: The SOAP header block it reads (so ``mustUnderstand`` is honoured).
    soap_headers = (IDEMPOTENCY_KEY_ELEMENT,)

    def before_call(self, exchange: Exchange, call: Call) -> None:
        sent = exchange.environ.get("HTTP_IDEMPOTENCY_KEY")
        key = None if sent is None else self._checked(str(sent), IDEMPOTENCY_HEADER)
        source = "the HTTP Idempotency-Key header"
        for block in call.header_blocks:
            if block.tag != IDEMPOTENCY_KEY_ELEMENT:
                continue
            value = self._checked(block.text or "", "IdempotencyKey header block")
            if key is not None and value != key:
                raise BadHeader(
                    f"The request carries two different idempotency keys ({source} "
                    "and the SOAP IdempotencyKey header block)"
                )
            key = value
            source = "a SOAP IdempotencyKey header block"
        exchange.idempotency_key = key

    @staticmethod
    def _checked(value: str, where: str) -> str:
        try:
            return check_key(value)
        except ValueError as exc:
            raise BadHeader(f"{where} refused: {exc}") from None

    def after_call(self, exchange: Exchange, call: Call, outcome: Outcome, seconds: float) -> None:
        pass


class CallbackStep:
    """Reads a task start's ``Ladon-Callback-URL`` and checks it against
    the application's callback settings (host allowed, http or https, a
    public address unless its network is allowed); a refused URL is a
    client fault and the task does not start.

    :param settings: the application's callback settings, or ``None``
        when it sends no callbacks (every ``Ladon-Callback-URL`` is then
        refused).

    .. versionadded:: 2.0
    """

    observes = False
    kinds = _STARTS

    def __init__(self, settings: CallbackSettings | None) -> None:
        self.settings = settings

    def before_call(self, exchange: Exchange, call: Call) -> None:
        url = exchange.environ.get("HTTP_LADON_CALLBACK_URL")
        if url is None:
            exchange.callback_url = None
            return
        if self.settings is None:
            raise BadHeader(
                f"This server sends no completion callbacks (no callback_hosts); "
                f"leave out {CALLBACK_URL_HEADER}"
            )
        try:
            exchange.callback_url = self.settings.check_url(str(url).strip())
        except ValueError as exc:
            raise BadHeader(f"{CALLBACK_URL_HEADER} refused: {exc}") from None

    def after_call(self, exchange: Exchange, call: Call, outcome: Outcome, seconds: float) -> None:
        pass
