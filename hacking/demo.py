# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make demo`: the example playbooks against the bundled Graph emulator, each run twice.

Starts the emulator, runs a bookings playbook (a staff member is ill: cancel their appointments
of the day) and a calendar playbook (the office is closed: cancel every meeting the organizer
organizes that day), each twice, then stops the emulator. The first run of each must report
changed, the second must change nothing, and the emulator's own record must show that every
customer, staff member and attendee was notified exactly once. Exits non-zero otherwise.
"""

import json
import os
import re
import ssl
import subprocess
import sys
import tempfile
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, ".build", "demo")

# Seeded in tests/emulator/fixtures/tenant.json.
BUSINESS_ID = "contosoclinic@contoso.example"
ILL_STAFF_MEMBER = "9e2f4a6c-8d0b-4c2e-a4f6-1b3d5f7a9c22"  # Dr. Diego Siciliani
ILL_DAY = "2027-03-01"
ORGANIZER = "adele.vance@contoso.example"
CLOSED_DAY = "2027-03-02"

RECAP = re.compile(r"^localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def start_emulator():
    os.makedirs(BUILD, exist_ok=True)
    conn_path = os.path.join(BUILD, "connection.json")
    if os.path.exists(conn_path):
        os.remove(conn_path)
    log = open(os.path.join(BUILD, "emulator.log"), "w", encoding="utf-8")  # pylint: disable=consider-using-with
    proc = subprocess.Popen(  # pylint: disable=consider-using-with
        [sys.executable, "-m", "emulator", "--port", "0",
         "--state-dir", BUILD, "--connection-file", conn_path],
        cwd=os.path.join(ROOT, "tests"), stdout=subprocess.PIPE, stderr=log, text=True,
    )
    line = proc.stdout.readline()
    if not line.startswith("emulator ready"):
        proc.kill()
        raise SystemExit("the emulator did not start; see %s" % log.name)
    with open(conn_path, encoding="utf-8") as handle:
        return proc, json.load(handle)


def notifications(conn):
    context = ssl.create_default_context(cafile=conn["ca_path"])
    with urllib.request.urlopen(conn["control_url"] + "/notifications", context=context) as answer:  # nosec: our own emulator
        return json.load(answer)


def run_playbook(name, extra_vars, vars_file):
    with open(vars_file, "w", encoding="utf-8") as handle:
        json.dump(extra_vars, handle)
    command = ["ansible-playbook", "-i", "localhost,", os.path.join(ROOT, "playbooks", name), "-e", "@" + vars_file]
    print("\n$ ansible-playbook playbooks/%s -e @vars.json" % name, flush=True)
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    print(result.stdout, flush=True)
    recap = RECAP.search(result.stdout)
    if result.returncode != 0 or not recap:
        raise SystemExit("demo failed: ansible-playbook %s exited %d" % (name, result.returncode))
    return int(recap.group(2))


def play_twice(title, name, extra_vars, conn, vars_file):
    print("=" * 78)
    print(title)
    print("=" * 78)
    before = len(notifications(conn))
    first = run_playbook(name, extra_vars, vars_file)
    sent = notifications(conn)[before:]
    second = run_playbook(name, extra_vars, vars_file)
    again = notifications(conn)[before + len(sent):]
    recipients = sorted({n["recipient"] for n in sent})
    doubled = len(sent) != len({(n["item_id"], n["recipient"]) for n in sent})
    print("emulator record: first run changed=%d, sent %d notifications to %s" % (first, len(sent), ", ".join(recipients) or "nobody"))
    print("emulator record: second run changed=%d, sent %d notifications" % (second, len(again)))
    if first == 0 or not sent or second != 0 or again or doubled:
        raise SystemExit("demo failed: expected changes and notifications once, then nothing")


def main():
    proc, conn = start_emulator()
    credentials = {
        "msgraph_tenant_id": conn["tenant_id"],
        "msgraph_client_id": conn["apps"]["secret"]["client_id"],
        "msgraph_client_secret": conn["apps"]["secret"]["client_secret"],
        "msgraph_graph_endpoint": conn["graph_endpoint"],
        "msgraph_authority_host": conn["authority_host"],
        "msgraph_ca_path": conn["ca_path"],
    }
    # The variables file holds the emulator's throwaway client secret: keep it private.
    fd, vars_file = tempfile.mkstemp(prefix="demo-vars-", suffix=".json", dir=BUILD)
    os.close(fd)
    try:
        play_twice(
            "Bookings: Dr. Siciliani is ill on %s; cancel their appointments of the day" % ILL_DAY,
            "cancel_bookings_for_day.yml",
            dict(credentials, business_id=BUSINESS_ID, day=ILL_DAY, staff_member_id=ILL_STAFF_MEMBER,
                 cancellation_message="Dr. Siciliani is unwell today; we will call you to rebook."),
            conn, vars_file,
        )
        play_twice(
            "Calendar: the office is closed on %s; cancel every meeting %s organizes that day" % (CLOSED_DAY, ORGANIZER),
            "cancel_meetings_in_window.yml",
            dict(credentials, organizer=ORGANIZER, closed_day=CLOSED_DAY, comment="The office is closed today."),
            conn, vars_file,
        )
        print("\nDemo complete: first runs cancelled and notified once, second runs changed nothing.")
    finally:
        os.remove(vars_file)
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
