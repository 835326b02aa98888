"""A service written for new deployments: its own namespace, Python names
with underscores, a list and a LadonType in one call, a task. Used by the
SOAP 1.2 tests and the non-Python clients (PHP, Node.js)."""

from __future__ import annotations

from typing import Any

from ladon import ClientFault
from ladon import LadonType
from ladon import ServerFault
from ladon import ladonize


class Point(LadonType):
    """A point on the grid."""

    x: int
    y: int


class Summary(LadonType):
    """What summarize found."""

    count: int
    total: float
    all_positive: bool
    mean: float | None = None
    farthest: Point | None = None


class Geometry:
    """Numbers and points, served in urn:example:geometry."""

    ladon_namespace = "urn:example:geometry"

    @ladonize()
    def greet(self, customer_name: str, excited: bool = False) -> str:
        """Greet a customer."""
        return f"Hello, {customer_name}" + ("!" if excited else ".")

    @ladonize()
    def summarize(self, values: list[float], origin: Point) -> Summary:
        """Count, total and mean of values; the value farthest from the origin's x."""
        summary = Summary(
            count=len(values), total=sum(values), all_positive=all(v > 0 for v in values)
        )
        if values:
            summary.mean = summary.total / len(values)
            far = max(values, key=lambda v: abs(v - origin.x))
            summary.farthest = Point(x=int(far), y=origin.y)
        return summary

    @ladonize()
    def refuse(self, how: str) -> str:
        """Fail: ``client`` (the caller's fault) or anything else (the service's)."""
        if how == "client":
            raise ClientFault("you asked for it", hint="call it with another how")
        raise ServerFault("backend down", detail="the database is away")

    @ladonize(tasktype=True)
    def count_to(self, limit: int, **kw: Any) -> Summary:
        """A task: count from 1 to limit."""
        task = kw["task"]
        for i in range(1, limit + 1):
            task.progress(i / limit, message=f"at {i}")
        values = [float(i) for i in range(1, limit + 1)]
        return self.summarize(values, Point(x=0, y=0))
