"""The trivial job of ``bench_backends.py`` for RQ used directly (imported
by the bare workers before they fork, as ``ladon worker`` has its app)."""

from __future__ import annotations


def trivial(n: int) -> int:
    """Return ``n``."""
    return n
