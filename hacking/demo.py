# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make demo`: the example playbooks against the bundled Graph emulator: preview, run, rerun.

Starts the emulator, then for a bookings playbook (a staff member is ill: cancel their
appointments of the day) and a calendar playbook (the office is closed: cancel every meeting the
organizer organizes that day) runs each three times and shows, after each run, what the
emulator's own record says happened:

1. `--check --diff`: the preview; it must send no cancellation and notify nobody;
2. the real run: it must report changed and notify each customer, staff member and attendee once;
3. the same command again: it must change nothing and notify nobody.

Every command is printed as it can be typed again: each playbook's variables go in a file that is
kept (.build/demo/<playbook>.vars.json, mode 0600; it holds the emulator's throwaway credentials only). With
DEMO_KEEP_EMULATOR=1 the emulator keeps running afterwards so the commands can be rerun by hand.
Exits non-zero when anything is not as described.
"""

import json
import os
import re
import shlex
import ssl
import subprocess
import sys
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
    print("starting the Graph emulator (a throwaway CA, an ephemeral port) ...", flush=True)
    log = open(os.path.join(BUILD, "emulator.log"), "w", encoding="utf-8")  # pylint: disable=consider-using-with
    proc = subprocess.Popen(  # pylint: disable=consider-using-with
        [sys.executable, "-m", "emulator", "--port", "0", "--state-dir", BUILD, "--connection-file", conn_path],
        cwd=os.path.join(ROOT, "tests"), stdout=subprocess.PIPE, stderr=log, text=True,
    )
    line = proc.stdout.readline()
    if not line.startswith("emulator ready"):
        proc.kill()
        raise SystemExit("the emulator did not start; see %s" % log.name)
    with open(conn_path, encoding="utf-8") as handle:
        conn = json.load(handle)
    print("emulator ready at %s (its record: %s/notifications)" % (conn["graph_endpoint"], conn["control_url"]), flush=True)
    return proc, conn


def notifications(conn):
    context = ssl.create_default_context(cafile=conn["ca_path"])
    with urllib.request.urlopen(conn["control_url"] + "/notifications", context=context) as answer:  # nosec: our own emulator
        return json.load(answer)


def vars_file(name):
    return os.path.join(BUILD, name.replace(".yml", ".vars.json"))


def write_vars(name, values):
    """The variables file the printed commands of playbook name use; 0600 from its creation."""
    path = vars_file(name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(values, handle, indent=2)
    os.chmod(path, 0o600)


def run_playbook(name, options=()):
    """Run one example playbook as the printed command says; returns the recap's changed count."""
    command = ["ansible-playbook", "-i", "localhost,", "playbooks/" + name, "-e", "@" + os.path.relpath(vars_file(name), ROOT)]
    command += list(options)
    print("\n$ " + " ".join(shlex.quote(part) for part in command), flush=True)
    result = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    print(result.stdout, flush=True)
    recap = RECAP.search(result.stdout)
    if result.returncode != 0 or not recap:
        raise SystemExit("demo failed: ansible-playbook %s exited %d" % (name, result.returncode))
    return int(recap.group(2))


def describe(sent):
    """One line per notification in the record, so the count printed is the count listed."""
    lines = ["emulator record: %d notification%s sent" % (len(sent), "" if len(sent) == 1 else "s")]
    for note in sent:
        lines.append("  %s %s -> %s (%s)" % (note["kind"].replace("_", " "), note["item_id"][:24] + "...", note["recipient"],
                                             note["role"]))
    print("\n".join(lines), flush=True)


def preview_run_rerun(title, name, values, conn):
    print("=" * 78)
    print(title)
    print("=" * 78, flush=True)
    write_vars(name, values)
    before = len(notifications(conn))
    run_playbook(name, ["--check", "--diff"])
    previewed = notifications(conn)[before:]
    describe(previewed)
    changed = run_playbook(name)
    sent = notifications(conn)[before + len(previewed):]
    describe(sent)
    again = run_playbook(name)
    resent = notifications(conn)[before + len(previewed) + len(sent):]
    describe(resent)
    doubled = len(sent) != len({(n["item_id"], n["recipient"]) for n in sent})
    if previewed or changed == 0 or not sent or doubled or again != 0 or resent:
        raise SystemExit("demo failed: expected a preview that sends nothing, then changes with one notification per "
                         "recipient and item, then nothing")
    print("\npreview: nothing sent; real run: changed, %d notifications, nobody twice; rerun: ok, nothing sent\n"
          % len(sent), flush=True)


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
    keep = os.environ.get("DEMO_KEEP_EMULATOR") == "1"
    try:
        preview_run_rerun(
            "Bookings: Dr. Siciliani is ill on %s; cancel their appointments of the day" % ILL_DAY,
            "cancel_bookings_for_day.yml",
            dict(credentials, business_id=BUSINESS_ID, day=ILL_DAY, staff_member_id=ILL_STAFF_MEMBER,
                 cancellation_message="Dr. Siciliani is unwell today; we will call you to rebook."),
            conn,
        )
        preview_run_rerun(
            "Calendar: the office is closed on %s; cancel every meeting %s organizes that day" % (CLOSED_DAY, ORGANIZER),
            "cancel_meetings_in_window.yml",
            dict(credentials, organizer=ORGANIZER, closed_day=CLOSED_DAY, comment="The office is closed today."),
            conn,
        )
        print("Demo complete: each preview sent nothing, each first run cancelled and notified once, each rerun "
              "changed nothing.")
        print("The variables files are kept in %s." % os.path.relpath(BUILD, ROOT))
        if keep:
            print("The emulator keeps running (pid %d, DEMO_KEEP_EMULATOR=1): rerun any command above from %s with "
                  "PATH=%s:$PATH and ANSIBLE_COLLECTIONS_PATH=%s; stop it with: kill %d"
                  % (proc.pid, ROOT, os.path.dirname(sys.executable), os.environ.get("ANSIBLE_COLLECTIONS_PATH", ""),
                     proc.pid))
        else:
            print("To rerun the commands by hand, run DEMO_KEEP_EMULATOR=1 make demo: the emulator then keeps running.")
    finally:
        if not keep:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
