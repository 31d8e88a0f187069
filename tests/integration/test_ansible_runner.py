# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A job as AWX and Automation Platform run it (issue 19): ansible_runner.run() with a private data dir,
the variables AWX's built-in "Microsoft Azure Resource Manager" credential injects, and the collection
installed from its Galaxy tarball, against the emulator.

The job must succeed, its artifacts must hold each task's result (job_events), and no secret or
token may appear in any event or output file of the private data dir. The one file that does hold
the secret is ansible-runner's own launch record, artifacts/<ident>/command: ansible-runner writes the
job's whole environment there (mode 0600), whatever the collection does; AWX deletes the private data
dir after the job. The test checks that the secret is only inside that record's "env".
"""

import json
import os
import stat
import sys

import ansible_runner
import pytest

DIST = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "distribution")
if DIST not in sys.path:
    sys.path.insert(0, DIST)

from dist_support import REPO, build_collection, isolated_env, run  # noqa: E402  pylint: disable=wrong-import-position,import-error

BUSINESS_ID = "contosoclinic@contoso.example"
# The project's one-line playbook of the AWX guide ("Job templates: check, approve, run").
PROJECT_PLAYBOOK = """- name: Cancel one Bookings appointment
  ansible.builtin.import_playbook: graphops.msgraph.cancel_booking_appointment
"""


@pytest.fixture(scope="module")
def installed_collection(tmp_path_factory):
    """The collection as a job gets it: built into a tarball, installed into an empty collections path."""
    work = tmp_path_factory.mktemp("runner-collection")
    env = isolated_env(work)
    tarball = build_collection(REPO, work, env)
    collections = work / "collections"
    result = run(["ansible-galaxy", "collection", "install", str(tarball), "-p", str(collections)], env, work)
    assert result.returncode == 0, result.stdout
    return collections


def private_data_dir(root):
    pdd = root / "job"
    (pdd / "project").mkdir(parents=True)
    (pdd / "inventory").mkdir()
    (pdd / "project" / "cancel.yml").write_text(PROJECT_PLAYBOOK, encoding="utf-8")
    # The inventory of the AWX guide: localhost, local, with the job's own Python.
    (pdd / "inventory" / "hosts").write_text(
        "localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable, encoding="utf-8")
    return pdd


def test_job_under_ansible_runner(installed_collection, emu, tmp_path, monkeypatch):
    conn = emu.conn
    secret = conn["apps"]["secret"]["client_secret"]
    # The job's process starts from a clean environment: nothing of the developer's, nothing of the source tree.
    for name in list(os.environ):
        if name.startswith(("AZURE_", "MSGRAPH_", "IDENTITY_", "ANSIBLE_")) or \
                name in ("PYTHONPATH", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "XDG_CACHE_HOME"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    target = next(a for a in emu.appointments_state(BUSINESS_ID) if a.get("customers"))
    envvars = {
        # Exactly what the Microsoft Azure Resource Manager credential injects.
        "AZURE_SUBSCRIPTION_ID": "00000000-0000-0000-0000-0000000000aa",
        "AZURE_CLIENT_ID": conn["apps"]["secret"]["client_id"],
        "AZURE_SECRET": secret,
        "AZURE_TENANT": conn["tenant_id"],
        "AZURE_CLOUD_ENVIRONMENT": "AzureCloud",
        # What the execution environment adds to reach the emulator instead of Microsoft.
        "MSGRAPH_ENDPOINT": conn["graph_endpoint"],
        "AZURE_AUTHORITY_HOST": conn["authority_host"],
        "REQUESTS_CA_BUNDLE": conn["ca_path"],
        # The installed copy only.
        "ANSIBLE_COLLECTIONS_PATH": str(installed_collection),
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "False",
        "HOME": str(home),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "local-tmp"),
        "ANSIBLE_REMOTE_TMP": str(tmp_path / "remote-tmp"),
    }
    pdd = private_data_dir(tmp_path)
    job = ansible_runner.run(private_data_dir=str(pdd), playbook="cancel.yml", envvars=envvars, quiet=True,
                             suppress_env_files=True,
                             extravars={"business_id": BUSINESS_ID, "appointment_id": target["id"],
                                        "cancellation_message": "Cancelled by the ansible-runner test."})
    stdout = job.stdout.read()
    assert (job.status, job.rc) == ("successful", 0), stdout[-5000:]

    # Judged through the emulator: cancelled once, every customer told once, with the job's message.
    assert target["id"] not in {a["id"] for a in emu.appointments_state(BUSINESS_ID)}
    told = [n for n in emu.notifications() if n["item_id"] == target["id"]]
    assert {c["emailAddress"] for c in target["customers"]} <= {n["recipient"] for n in told}
    assert len(told) == len({n["recipient"] for n in told}) and \
        {n["message"] for n in told} == {"Cancelled by the ansible-runner test."}
    assert [t["client_id"] for t in emu.token_requests()] == [conn["apps"]["secret"]["client_id"]]

    # The per-task results are in the artifacts, as AWX shows them.
    artifact = pdd / "artifacts" / job.config.ident
    events = []
    for name in sorted(os.listdir(str(artifact / "job_events"))):
        with open(str(artifact / "job_events" / name), encoding="utf-8") as handle:
            events.append(json.load(handle))
    results = {e["event_data"].get("task"): e["event_data"]["res"] for e in events if e["event"] == "runner_on_ok"}
    assert results["Cancel the appointment"]["changed"] is True, sorted(results)
    assert results["Cancel the appointment"]["cancelled"] == [target["id"]]
    assert [e["event"] for e in job.events if e["event"] == "runner_on_ok"], "ansible_runner.run() returned no events"

    # No secret or token anywhere in the private data dir but ansible-runner's own launch record.
    command_file = artifact / "command"
    for folder, _dirs, names in os.walk(str(pdd)):
        for name in names:
            path = os.path.join(folder, name)
            with open(path, "rb") as handle:
                text = handle.read().decode("utf-8", "replace")
            assert "eyJ" not in text, "a token appeared in %s" % path
            if path == str(command_file):
                continue
            assert secret not in text, "the secret appeared in %s" % path
    with open(str(command_file), encoding="utf-8") as handle:
        record = json.load(handle)
    assert record["env"]["AZURE_SECRET"] == secret  # ansible-runner's record of what the job was started with
    record["env"].pop("AZURE_SECRET")
    assert secret not in json.dumps(record)
    assert stat.S_IMODE(os.stat(str(command_file)).st_mode) == 0o600
    assert not (pdd / "env" / "envvars").exists(), "suppress_env_files keeps the variables out of env/"
