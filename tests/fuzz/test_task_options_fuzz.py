"""Property tests of the retry settings (issue 14): any ``tasktype`` dict,
any ``Retry`` message or delay, any backend URL option is either taken
(within its documented range) or refused with ``ValueError`` naming it;
nothing else escapes, and the delays it leads to stay finite and bounded.
"""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from ladon.tasks import Retry
from ladon.tasks import backend_from_url
from ladon.tasks.retries import waiting_message
from ladon.types.tasktype import MAX_RETRIES
from ladon.types.tasktype import MAX_RETRY_DELAY
from ladon.types.tasktype import TASKTYPE_KEYS
from ladon.types.tasktype import task_options

FAST = settings(max_examples=200, deadline=None)
anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.lists(st.integers(), max_size=3),
)
keys = st.one_of(st.sampled_from(TASKTYPE_KEYS), st.text(max_size=12))


@FAST
@given(st.dictionaries(keys, anything, max_size=5))
def test_any_tasktype_dict_is_taken_or_refused_naming_the_key(given_: dict[str, object]) -> None:
    try:
        options = task_options(given_)
    except ValueError as exc:
        assert "tasktype" in str(exc)
        return
    assert 0 <= options.retries <= MAX_RETRIES
    assert 0 <= options.retry_delay <= MAX_RETRY_DELAY
    assert options.max_runtime is None or 0 < options.max_runtime < math.inf
    for attempt in {1, 2, 3, options.attempts}:
        assert 0 <= options.delay(attempt) <= MAX_RETRY_DELAY


@FAST
@given(st.text(max_size=3000), st.one_of(st.none(), anything))
def test_any_retry_is_made_or_refused(message: str, delay: object) -> None:
    try:
        retry = Retry(message, delay=delay)  # type: ignore[arg-type]
    except ValueError as exc:
        assert "Retry(delay=...)" in str(exc)
        return
    assert len(retry.reason) <= 1000
    assert retry.delay is None or 0 <= retry.delay <= MAX_RETRY_DELAY
    text = waiting_message(2, 3, retry.delay or 0.0, retry.reason)
    assert text.startswith("attempt 2 of 3 starts ") and len(text) <= 1000


@FAST
@given(st.text(max_size=16))
def test_any_no_worker_timeout_or_drain_timeout_is_taken_or_refused(value: str) -> None:
    for url in (
        f"redis://:secret@localhost/0?no_worker_timeout={value}",
        f"sqlite:///tmp/ladon-fuzz-never-made/t.db?drain_timeout={value}",
    ):
        try:
            backend = backend_from_url(url)
        except ValueError as exc:
            assert "secret" not in str(exc)
            continue
        backend.close()
