# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action plugin every module runs under (plugins/plugin_utils/_module_action.py).

Its runs are checked in real forked children, the way ansible-core's workers are made, with
ansible-core's normal action replaced by a recorder of the collector's state. End to end (check
mode, diff, async and loops through the action): tests/integration/test_action_plugin.py.

Nothing here imports controller code into pytest's own process: once ansible.plugins is imported,
ansible-core treats the process as the controller and module warnings go to its display instead
of the module result, which the module tests read. Each test does its imports in a child.
"""

import gc
import importlib
import json
import multiprocessing
import os
import subprocess
import sys
import weakref

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
PLUGIN_UTIL = "ansible_collections.graphops.msgraph.plugins.plugin_utils._module_action"

MADE = []  # a weak reference to the cyclic garbage each recording run left behind


class Made:
    """A reference cycle: garbage only the collector can free."""

    def __init__(self):
        self.me = self


def recording_run(self, tmp=None, task_vars=None):  # pylint: disable=unused-argument
    """Stands in for ansible-core's normal action: what the collector looked like while it ran."""
    MADE.append(weakref.ref(Made()))
    return {"enabled": gc.isenabled(), "frozen": gc.get_freeze_count(), "task_vars": task_vars}


def failing_run(self, tmp=None, task_vars=None):
    raise RuntimeError("the module could not be started")


def new_action(run=recording_run):
    """Our ActionModule, with the normal action's run replaced (call it in a child only)."""
    normal = importlib.import_module("ansible.plugins.action.normal")
    normal.ActionModule.run = run
    module_action = importlib.import_module(PLUGIN_UTIL)
    return object.__new__(module_action.ActionModule)


def in_forked_child(function):
    """Run function in a child forked like an ansible-core worker; returns what it returned."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)

    def target():
        try:
            sender.send(("ok", function()))
        except BaseException as exc:  # pylint: disable=broad-exception-caught
            sender.send(("error", "%s: %s" % (type(exc).__name__, exc)))

    child = context.Process(target=target)
    child.start()
    assert receiver.poll(60), "the forked child did not answer"
    status, value = receiver.recv()
    child.join(60)
    assert status == "ok", value
    return value


def test_every_module_runs_under_the_action():
    modules = sorted(name[:-3] for name in os.listdir(os.path.join(REPO, "plugins", "modules"))
                     if name.endswith(".py") and not name.startswith("_"))
    actions = sorted(name[:-3] for name in os.listdir(os.path.join(REPO, "plugins", "action"))
                     if name.endswith(".py") and not name.startswith("_"))
    assert actions == modules

    def classes():
        normal = importlib.import_module("ansible.plugins.action.normal").ActionModule
        ours = importlib.import_module(PLUGIN_UTIL).ActionModule
        found = {}
        for name in actions:
            plugin = importlib.import_module("ansible_collections.graphops.msgraph.plugins.action." + name)
            found[name] = plugin.ActionModule is ours and issubclass(ours, normal)
        return found

    assert in_forked_child(classes) == dict((name, True) for name in actions)


def test_first_run_in_a_worker_freezes_the_inherited_heap_and_what_the_run_left():
    def first_run():
        action = new_action()
        assert gc.isenabled() and gc.get_freeze_count() == 0
        inherited = len(gc.get_objects())
        during = action.run(task_vars={"x": 1})
        gc.collect()
        return inherited, during, gc.isenabled(), gc.get_freeze_count(), MADE[-1]() is not None

    inherited, during, enabled_after, frozen_after, garbage_kept = in_forked_child(first_run)
    assert during["task_vars"] == {"x": 1}, "the normal action's result must come back unchanged"
    assert during["enabled"] is False, "the collector must pause while the payload is built"
    assert during["frozen"] >= inherited, "the inherited heap must be frozen before the run"
    assert enabled_after is True, "the collector must resume after the run"
    assert frozen_after > during["frozen"], "what the run left must be frozen too"
    assert garbage_kept, "the first run's cyclic garbage is left to the process exit"


def test_later_runs_in_the_same_worker_collect_as_usual():
    def two_runs():
        action = new_action()
        action.run()
        frozen = gc.get_freeze_count()
        second = action.run()
        gc.collect()
        return frozen, second, gc.get_freeze_count(), MADE[-1]() is None

    frozen, second, frozen_after, collected = in_forked_child(two_runs)
    assert second["enabled"] is True
    assert second["frozen"] == frozen == frozen_after, "only a worker's first run freezes anything"
    assert collected, "garbage made by a later run must still be collected"


def test_each_forked_worker_has_its_own_first_run():
    def parent_then_children():
        action = new_action()
        action.run()  # the process the children fork from ran it first: it does not count for them
        return (in_forked_child(lambda: action.run()["enabled"]),
                in_forked_child(lambda: action.run()["enabled"]))

    assert in_forked_child(parent_then_children) == (False, False)


def test_outside_a_forked_worker_nothing_changes():
    # A fresh interpreter (not forked): what ansible-playbook's own process looks like.
    script = (
        "import gc, importlib, json, multiprocessing\n"
        "normal = importlib.import_module('ansible.plugins.action.normal')\n"
        "seen = []\n"
        "normal.ActionModule.run = lambda self, tmp=None, task_vars=None: seen.append((gc.isenabled(), gc.get_freeze_count()))\n"
        "action = object.__new__(importlib.import_module(%r).ActionModule)\n"
        "action.run(); action.run()\n"
        "print(json.dumps({'parent': multiprocessing.parent_process() is None, 'seen': seen,"
        " 'after': [gc.isenabled(), gc.get_freeze_count()]}))\n" % PLUGIN_UTIL
    )
    done = subprocess.run([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=os.environ, check=False)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report == {"parent": True, "seen": [[True, 0], [True, 0]], "after": [True, 0]}


def test_a_failing_run_still_resumes_the_collector():
    def first_run():
        action = new_action(failing_run)
        try:
            action.run()
        except RuntimeError as exc:
            return str(exc), gc.isenabled()
        return "no error", gc.isenabled()

    assert in_forked_child(first_run) == ("the module could not be started", True)


def test_a_collector_someone_disabled_stays_disabled():
    def first_run():
        action = new_action()
        gc.disable()
        during = action.run()
        return during["enabled"], gc.isenabled()

    assert in_forked_child(first_run) == (False, False)
