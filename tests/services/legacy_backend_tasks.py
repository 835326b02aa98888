"""Ladon 1.0 task services, written exactly as for Ladon 1.0 (the shapes of
examples/tasks.py), with short sleeps so that the backend suite runs them
on every backend."""

import time

from ladon.compat import PORTABLE_STRING
from ladon.ladonizer import ladonize
from ladon.types.ladontype import LadonType

STEP_SECONDS = 0.01


class LegacyTaskService(object):
    @ladonize(PORTABLE_STRING, int, rtype=int, tasktype=True)
    def taskExample(self, session_id, counter, **kw):
        set_progress = kw["update_progress"]
        repeat = 5.0
        for i in range(int(repeat)):
            time.sleep(STEP_SECONDS)
            set_progress(float(i + 1.0) / repeat)
        return counter


class LegacyInstanceInformation(LadonType):
    instance_id = PORTABLE_STRING
    name = PORTABLE_STRING
    source_id = PORTABLE_STRING
    state = PORTABLE_STRING
    disks = [PORTABLE_STRING]


class LegacyInstanceService(object):
    """Clones virtual machine instances (simulated)."""

    @ladonize(PORTABLE_STRING, PORTABLE_STRING, rtype=LegacyInstanceInformation, tasktype=True)
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
        info = LegacyInstanceInformation()
        info.instance_id = "i-" + new_instance_name.lower().replace(" ", "-")
        info.name = new_instance_name
        info.source_id = instance_id
        info.state = "running"
        info.disks = [info.instance_id + "-root"]
        kw["update_progress"](1.0)
        return info
