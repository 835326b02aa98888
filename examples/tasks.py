"""Background tasks, written exactly as for Ladon 1.0.

Call ``taskExample`` (or ``cloneInstance``): it returns a task id at once.
Follow it with ``taskExample_progress``, fetch ``taskExample_result``, stop
it with ``taskExample_cancel``.
"""

import time

from ladon.compat import PORTABLE_STRING
from ladon.ladonizer import ladonize
from ladon.types.ladontype import LadonType

#: seconds per step of cloneInstance (tests make it shorter)
STEP_SECONDS = 1.0


class TaskService(object):
    @ladonize(PORTABLE_STRING, int, rtype=int, tasktype=True)
    def taskExample(self, session_id, counter, **kw):
        set_progress = kw["update_progress"]
        repeat = 60.0
        for i in range(int(repeat)):
            time.sleep(0.5)
            set_progress(float(i + 1.0) / repeat)
        return counter


class InstanceInformation(LadonType):
    instance_id = PORTABLE_STRING
    name = PORTABLE_STRING
    source_id = PORTABLE_STRING
    state = PORTABLE_STRING
    disks = [PORTABLE_STRING]


class InstanceService(object):
    """Clones virtual machine instances (simulated)."""

    @ladonize(PORTABLE_STRING, PORTABLE_STRING, rtype=InstanceInformation, tasktype=True)
    def cloneInstance(self, instance_id, new_instance_name, **kw):
        """Clone an instance under a new name.

        @param instance_id: the instance to clone
        @param new_instance_name: the name of the clone
        @rtype: the new instance
        """
        task = kw["task"]
        steps = ["snapshot", "copy disks", "configure network", "boot"]
        for i, step in enumerate(steps):
            if task.cancelled:
                return None
            task.progress(i / len(steps), message=step)
            time.sleep(STEP_SECONDS)
        info = InstanceInformation()
        info.instance_id = "i-" + new_instance_name.lower().replace(" ", "-")
        info.name = new_instance_name
        info.source_id = instance_id
        info.state = "running"
        info.disks = [info.instance_id + "-root"]
        kw["update_progress"](1.0)
        return info
