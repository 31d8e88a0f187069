# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The modules run under the collection's action plugin (ansible-core's normal action with the
worker's collector tuned, see plugins/plugin_utils/_module_action.py). Check mode, diff, async and
loop: all through it, in real ansible-playbook runs, checked through the emulator's record."""

import collections
import json

from playbook_runner import connection_defaults

BUSINESS_ID = "contosoclinic@contoso.example"
FIRST = "AAMkAD5gD_eusNSOjbVuS1xDH0q0vkNJ9Cej-UrzqXIM_HueE=="
LOOPED = ["AAMkADyac4z8XXtH0XIMmxcY-O2H4EsQSE-doX8bqJwhB_p3w==", "AAMkAD7xIo9yQcnInNChA8NMZidpZTSheQsUJjYiGF8x6gAaI=="]


def cancel(appointment_id, **task):
    task.setdefault("name", "Cancel")
    task["graphops.msgraph.booking_appointment_cancel"] = {
        "business_id": BUSINESS_ID, "appointment_id": appointment_id, "cancellation_message": "Closed today."}
    return task


def writes(emu):
    return [r for r in emu.requests() if r.get("method") == "POST" and r.get("path", "").endswith("/cancel")]


def notified(emu):
    return collections.Counter(n["item_id"] for n in emu.notifications())


def test_check_mode_and_diff_go_through_the_action(emu, playbook):
    result = playbook.run([cancel(FIRST, check_mode=True, diff=True, register="planned"),
                           {"name": "Show the plan", "ansible.builtin.assert": {"that": [
                               "planned is changed", "planned.diff.before is mapping"]}}],
                          "--diff", module_defaults=connection_defaults(emu.conn))
    assert result.returncode == 0, result.stdout[-5000:]
    assert FIRST in result.stdout, "diff must show the appointment that would be cancelled"
    assert not writes(emu) and not emu.notifications(), json.dumps(emu.notifications())


def test_async_and_loop_go_through_the_action_and_cancel_once(emu, playbook):
    tasks = [cancel(FIRST, name="Cancel in the background", **{"async": 60, "poll": 1}),
             cancel("{{ item }}", name="Cancel in a loop", loop=LOOPED)]
    # The isolated HOME would split ~/.ansible_async between the job and async_status: one folder.
    env = {"ANSIBLE_ASYNC_DIR": str(playbook.tmp_path / "async")}
    first = playbook.run(tasks, env=env, module_defaults=connection_defaults(emu.conn))
    assert first.returncode == 0, first.stdout[-5000:]
    assert notified(emu) and set(notified(emu)) == {FIRST} | set(LOOPED), json.dumps(emu.notifications())
    customers = [n["recipient"] for n in emu.notifications()]
    assert len(customers) == len(set((n["item_id"], n["recipient"]) for n in emu.notifications())), "someone was notified twice"
    sent = len(writes(emu))
    assert sent == 3, "one cancel per appointment, got %d" % sent

    again = playbook.run(tasks, env=env, module_defaults=connection_defaults(emu.conn))
    assert again.returncode == 0, again.stdout[-5000:]
    assert "changed=0" in again.stdout, again.stdout[-3000:]
    assert len(writes(emu)) == sent and len(emu.notifications()) == len(customers), "the rerun must send nothing"
