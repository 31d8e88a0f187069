# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/offboard_organizers.yml (issue 18) run as written by ansible-playbook against the emulator.

The emulator's record decides: a preview sends nothing, the real run notifies each attendee once
per meeting and once per series, and a rerun notifies nobody again.
"""

import json
import os
import subprocess

from emulator.graph.store import derive_immutable_id

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOK = os.path.join(REPO, "playbooks", "offboard_organizers.yml")
SERIES = derive_immutable_id("AAMkADV997ArQMAWwboR7UA-u1wuzn6xganOFsp2eB98_pX84=")


def run_playbook(playbook, emu, **extra):
    conn = emu.conn
    variables = {"msgraph_tenant_id": conn["tenant_id"], "msgraph_client_id": conn["apps"]["secret"]["client_id"],
                 "msgraph_client_secret": conn["apps"]["secret"]["client_secret"], "msgraph_graph_endpoint": conn["graph_endpoint"],
                 "msgraph_authority_host": conn["authority_host"], "msgraph_ca_path": conn["ca_path"],
                 "leavers": [conn["users"]["organizer"]["upn"]]}
    variables.update(extra)
    path = playbook.tmp_path / "vars.json"
    path.write_text(json.dumps(variables), encoding="utf-8")
    result = subprocess.run(["ansible-playbook", "-i", "localhost,", PLAYBOOK, "-e", "@" + str(path)], env=playbook.env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    assert result.returncode == 0, result.stdout[-6000:]
    return result.stdout


def writes(emu):
    return [r for r in emu.requests() if r["method"] != "GET" and r["segments"][0] != "$batch"]


def test_offboarding_whole_series_once_per_attendee(emu, playbook):
    window = dict(from_date="2027-03-01", days=365, time_zone="Europe/Oslo", comment="Adele has left")
    out = run_playbook(playbook, emu, preview_only=True, **window)
    assert "Would cancel 4 events;" in out, out[-3000:]
    assert writes(emu) == [] and emu.notifications() == []

    out = run_playbook(playbook, emu, **window)
    sent = [(n["item_id"], n["recipient"]) for n in emu.notifications()]
    assert {n["kind"] for n in emu.notifications()} == {"event_cancelled"}
    assert len(sent) == len(set(sent)) == 3 + 1 + 3 + 2  # budget, vendor, workshop, the weekly series once
    assert [r for r in sent if r[0] == SERIES] and len([r for r in sent if r[0] == SERIES]) == 2
    assert "attendees notified: 9" in out, out[-3000:]
    focus = [e for e in emu.events_state(emu["users"]["organizer"]["upn"]) if e["subject"] == "Focus time"][0]
    assert focus["isCancelled"] is False  # no attendees: left alone

    count = len(emu.notifications())
    out = run_playbook(playbook, emu, **window)
    assert len(emu.notifications()) == count and "Cancelled 0 events;" in out


def test_offboarding_ends_series_and_keeps_the_past(emu, playbook):
    window = dict(from_date="2027-03-10", days=30, series="end")
    run_playbook(playbook, emu, **window)
    notes = emu.notifications()
    expected = [("event_updated", "alex.wilber@contoso.example"), ("event_updated", "megan.bowen@contoso.example")]
    assert sorted((n["kind"], n["recipient"]) for n in notes) == expected
    series = [e for e in emu.events_state(emu["users"]["organizer"]["upn"]) if e["immutableId"] == SERIES][0]
    assert series["recurrence"]["range"]["endDate"] == "2027-03-08" and series["isCancelled"] is False
    run_playbook(playbook, emu, **window)
    assert len(emu.notifications()) == 2
