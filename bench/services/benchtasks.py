"""Task benchmark service, written in the Ladon 1.0 service-module style.

Served by both the new Ladon (this repository) and ``ladon==1.0.7``: a
``tasktype=True`` method is published as ``trivial`` (returns a task id),
``trivial_progress`` and ``trivial_result`` (both take ``task_id``) by both.
"""

from ladon.ladonizer import ladonize


class BenchTasks(object):  # noqa: UP004 - exactly as Ladon 1.0 services were written
    @ladonize(int, rtype=int, tasktype=True)
    def trivial(self, n, **kw):
        return n
