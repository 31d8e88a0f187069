# Copyright (c) graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this plugin util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins!

"""The action every module of the collection runs under: ansible-core's own ``normal`` action (check
mode, diff, async, module_defaults and everything else unchanged), plus one change to the garbage
collector of the forked worker it runs in.

Why: ansible-core runs each task in a worker forked from ansible-playbook, and builds the module's
payload there. Finding the module_utils leaves every parsed syntax tree in a reference cycle
(ansible-core's import finder points each import statement back at its parent), so some 50,000
objects become cyclic garbage. Any module with more module_utils than ``ping`` makes enough of it
to start a full collection in the worker, and a full collection walks every object the worker
inherited from ansible-playbook: about 45 ms on these machines, and it dirties every page of that
heap shared with the parent (copy-on-write). Collecting the syntax trees themselves costs another
12 ms, for memory the worker gives back anyway when it exits after the task.

So, the first time this action runs in a worker:

- ``gc.freeze()`` moves the inherited heap into the permanent generation, which is never walked
  (it belongs to ansible-playbook, which collects its own garbage);
- collection is paused while the payload is built and the module runs, and what that left behind
  is frozen as well, so it is never walked either; then collection resumes.

Later runs in the same worker (the items of a ``loop:``, where the payload comes from ansible-core's
cache) run with the collector as usual, and everything they make is collected as usual. Nothing
changes outside a forked worker (ansible-playbook's own process, a test calling the action). See
docs/dev/architecture.md, "Module start".
"""

from __future__ import annotations

import gc
import multiprocessing
import os

from ansible.plugins.action.normal import ActionModule as NormalAction

# The pid of the worker whose first run has been handled (a worker is forked per task).
_HANDLED = {"pid": None}


def first_run_in_worker():
    """True once per forked worker process: on the first call in it; never outside a forked child."""
    if multiprocessing.parent_process() is None:
        return False
    pid = os.getpid()
    if _HANDLED["pid"] == pid:
        return False
    _HANDLED["pid"] = pid
    return True


class ActionModule(NormalAction):
    """ansible-core's normal action, whose first run in a worker skips the collector's futile walks."""

    def run(self, tmp=None, task_vars=None):
        if not first_run_in_worker():
            return super().run(tmp, task_vars)
        gc.freeze()
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return super().run(tmp, task_vars)
        finally:
            gc.freeze()
            if was_enabled:
                gc.enable()
