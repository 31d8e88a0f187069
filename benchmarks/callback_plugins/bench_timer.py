# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Records each task's wall time (first start to last result) to the JSON file in BENCH_TIMINGS."""

from __future__ import annotations

DOCUMENTATION = """
name: bench_timer
type: aggregate
short_description: Task wall times for the benchmark
description: Writes each task's name and wall time in seconds to the JSON file named by BENCH_TIMINGS.
requirements:
  - enabled with ANSIBLE_CALLBACKS_ENABLED=bench_timer
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_timer"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._tasks = []
        self._current = None

    def _close(self):
        if self._current is not None:
            self._current["seconds"] = self._current.pop("end", time.monotonic()) - self._current.pop("start")
            self._tasks.append(self._current)
            self._current = None

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._close()
        # wall_start and wall_end (time.time()) place the task against the emulator's record (BENCH_TRACE).
        self._current = {"name": task.get_name(), "start": time.monotonic(), "wall_start": time.time()}

    def _result(self, result, *args, **kwargs):
        if self._current is not None:
            self._current["end"] = time.monotonic()
            self._current["wall_end"] = time.time()

    v2_runner_on_ok = v2_runner_on_failed = v2_runner_on_skipped = v2_runner_on_unreachable = _result

    def v2_playbook_on_stats(self, stats):
        self._close()
        path = os.environ.get("BENCH_TIMINGS")
        if path:
            with open(path, "w", encoding="utf-8") as handle:
                json.dump(self._tasks, handle)
