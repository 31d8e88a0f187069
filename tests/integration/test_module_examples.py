# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every module's EXAMPLES run as written, through ansible-playbook, against the emulator.

The examples take their credentials the way the documentation says a real user would: from the
AZURE_* / MSGRAPH_* environment variables. Group calendars take a user's token only, so the
examples with group_id run as their comment says: auth_method password with a public client app,
AZURE_USERNAME and AZURE_PASSWORD (the emulator's public app and organizer). REQUESTS_CA_BUNDLE makes the emulator's throwaway CA
trusted without touching the examples. The emulator's record then shows the examples reached
Graph and that nothing was cancelled twice.
"""

import ast
import json
import os
import subprocess

import pytest
import yaml

from playbook_runner import RecordingRunner

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULES = ["booking_appointment_cancel", "booking_appointment_info", "booking_business_info", "calendar_event_cancel", "calendar_event_info"]


def module_examples(name):
    """The module's EXAMPLES, parsed, read from its source without importing it."""
    with open(os.path.join(REPO, "plugins", "modules", name + ".py"), encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and [t.id for t in node.targets if isinstance(t, ast.Name)] == ["EXAMPLES"]:
            return yaml.safe_load(node.value.value)
    raise AssertionError("%s has no EXAMPLES" % name)


def emulator_env(conn, runner):
    return {
        "AZURE_TENANT_ID": conn["tenant_id"],
        "AZURE_CLIENT_ID": conn["apps"]["secret"]["client_id"],
        "AZURE_CLIENT_SECRET": conn["apps"]["secret"]["client_secret"],
        "MSGRAPH_ENDPOINT": conn["graph_endpoint"],
        "AZURE_AUTHORITY_HOST": conn["authority_host"],
        "REQUESTS_CA_BUNDLE": conn["ca_path"],
        "MSGRAPH_TOKEN_CACHE": str(runner.tmp_path / "token-cache"),
    }


def delegated_env(conn, runner):
    """The environment of a group example: the password grant of the emulator's public app as its organizer."""
    env = emulator_env(conn, runner)
    del env["AZURE_CLIENT_SECRET"]
    organizer = conn["users"]["organizer"]
    env.update(AZURE_CLIENT_ID=conn["apps"]["public"]["client_id"], AZURE_USERNAME=organizer["upn"],
               AZURE_PASSWORD=organizer["password"], MSGRAPH_TOKEN_CACHE=str(runner.tmp_path / "token-cache-user"))
    return env


def is_group_example(task):
    return any(isinstance(args, dict) and "group_id" in args for name, args in task.items() if name.startswith("graphops."))


# What each module reports it found or did: an example must show at least one of these non-empty.
FOUND = ("appointments", "events", "businesses", "staff_members", "services", "cancelled", "ended", "series")


@pytest.mark.parametrize("module", MODULES)
def test_examples_run_as_written(module, emu, tmp_path):
    runner = RecordingRunner(emu.conn, tmp_path)  # each task's result is recorded (task_record callback)
    examples = module_examples(module)
    app_tasks = [t for t in examples if not is_group_example(t)]
    group_tasks = [t for t in examples if is_group_example(t)]
    play = runner.play(app_tasks, env=emulator_env(emu.conn, runner))
    assert play.rc == 0, play.stdout[-6000:]
    records = dict(play.tasks)
    if group_tasks:
        assert all(t[[n for n in t if n.startswith("graphops.")][0]].get("auth_method") == "password" for t in group_tasks)
        play = runner.play(group_tasks, env=delegated_env(emu.conn, runner))
        assert play.rc == 0, play.stdout[-6000:]
        records.update(play.tasks)
    # Each example selects something of the emulator's tenant: one that quietly finds nothing shows
    # nothing (its ids, dates, names or zone would not match a real tenant's shape either).
    for task in examples:
        if any(name.startswith("graphops.") for name in task):
            record = records.get(task["name"])
            assert record and record["status"] == "ok", "%s: no result recorded for %r" % (module, task["name"])
            found = [key for key in FOUND if record["result"].get(key)]
            assert found, "%s: the example %r found nothing: %s" % (module, task["name"], json.dumps(record["result"])[:2000])
    graph_calls = [r for r in emu.requests() if r.get("version") in ("v1.0", "beta")]
    assert graph_calls, "the examples of %s never reached Graph" % module
    # One notification of a kind per item and recipient (a series ended, then cancelled, is told both).
    notified = [(n["kind"], n["item_id"], n["recipient"]) for n in emu.notifications()]
    assert len(notified) == len(set(notified)), json.dumps(emu.notifications(), indent=1)


@pytest.mark.parametrize("module", MODULES)
def test_ansible_doc_shows_complete_docs(module):
    result = subprocess.run(["ansible-doc", "--json", "graphops.msgraph." + module], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)["graphops.msgraph." + module]
    assert doc["doc"]["short_description"] and doc["doc"]["description"]
    # The common connection options come from the doc fragment: a sign the fragment resolved.
    for option in ("auth_method", "tenant_id", "client_id", "cloud", "ca_path", "retries", "token_cache_path"):
        assert option in doc["doc"]["options"], option
    assert doc["examples"].strip() and doc["return"], "EXAMPLES and RETURN must be documented"
    assert doc["doc"]["attributes"]["check_mode"]["support"] == "full"
