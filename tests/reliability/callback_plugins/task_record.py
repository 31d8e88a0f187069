# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only callback: one JSON line per task result (name, ok/failed, start/end time, result) in
the file named by TASK_RECORD_PATH, so a suite can tell its cases apart and match them with the
emulator's time-stamped record. The normal output is left as it is."""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: task_record
type: aggregate
short_description: write each task result as a JSON line (tests only)
description:
  - Writes one JSON line per task result to the file named by the TASK_RECORD_PATH environment variable.
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "task_record"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._path = os.environ.get("TASK_RECORD_PATH")
        self._started = {}

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._started[task._uuid] = time.time()

    def _write(self, result, status):
        if not self._path:
            return
        task = result._task
        entry = {"task": task.get_name(), "host": result._host.get_name(), "status": status,
                 "start": self._started.get(task._uuid), "end": time.time(),
                 "result": json.loads(self._dump_results(result._result))}
        # _dump_results() leaves out the diff and the warnings below -vvv: the suite judges them too.
        entry["result"]["diff"] = result._result.get("diff")
        entry["result"]["warnings"] = result._result.get("warnings")
        with open(self._path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")

    def v2_runner_on_ok(self, result):
        self._write(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._write(result, "failed")
