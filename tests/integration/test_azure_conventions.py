# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""azure.azcollection's and AWX's habits through real ansible-playbook runs (issue 19).

What azure.azcollection users write (tenant, secret, cloud_environment, auth_source, profile and
~/.azure/credentials), exactly the variables AWX's built-in "Microsoft Azure Resource Manager"
credential injects, the Azure CLI (a stand-in az on PATH that prints what the real one prints), and
the failures that must name the option or variable to fix. Judged through the emulator's record;
bad input must leave that record empty.
"""

import json
import os
import stat
import subprocess
import sys

import pytest

from playbook_runner import app_token

BUSINESS_ID = "contosoclinic@contoso.example"
APPOINTMENT_ID = "AAMkAD5gD_eusNSOjbVuS1xDH0q0vkNJ9Cej-UrzqXIM_HueE=="

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOK = os.path.join(REPO, "playbooks", "cancel_booking_appointment.yml")


def info_task(**args):
    args = dict({"business_id": BUSINESS_ID, "appointment_id": APPOINTMENT_ID}, **args)
    return {"name": "Read one appointment", "graphops.msgraph.booking_appointment_info": args, "register": "info"}


def assert_no_secret(runner, output, secrets):
    """No secret or token (a JWT, "eyJ...") in the output, the log or any file the run left under HOME."""
    texts = {"output": output}
    for top in (runner.home, runner.tmp_path / "local-tmp", runner.tmp_path / "remote-tmp"):
        for folder, _dirs, names in os.walk(str(top)):
            for name in names:
                path = os.path.join(folder, name)
                if os.sep + "graphops.msgraph" + os.sep not in path:  # the token cache holds tokens: its job
                    with open(path, "rb") as handle:
                        texts[path] = handle.read().decode("utf-8", "replace")
    if runner.log_path.exists():
        texts["log"] = runner.log_path.read_text(encoding="utf-8")
    for where, text in texts.items():
        for secret in secrets:
            assert secret not in text, "a secret appeared in %s" % where
        assert "eyJ" not in text, "a token appeared in %s" % where


def endpoints_env(conn):
    """How an execution environment points the modules at the emulator, without touching the playbook."""
    return {"MSGRAPH_ENDPOINT": conn["graph_endpoint"], "AZURE_AUTHORITY_HOST": conn["authority_host"],
            "REQUESTS_CA_BUNDLE": conn["ca_path"]}


def awx_resource_manager_env(conn):
    """Exactly what AWX's built-in Microsoft Azure Resource Manager credential injects (service principal)."""
    return {"AZURE_SUBSCRIPTION_ID": "00000000-0000-0000-0000-0000000000aa",
            "AZURE_CLIENT_ID": conn["apps"]["secret"]["client_id"],
            "AZURE_SECRET": conn["apps"]["secret"]["client_secret"],
            "AZURE_TENANT": conn["tenant_id"],
            "AZURE_CLOUD_ENVIRONMENT": "AzureCloud"}


def run_example(runner, env, *args):
    full_env = dict(runner.env, **env)
    return subprocess.run(["ansible-playbook", "-i", "localhost,", PLAYBOOK, "-e", "business_id=" + BUSINESS_ID,
                           "-e", "appointment_id=" + APPOINTMENT_ID] + list(args),
                          env=full_env, cwd=str(runner.tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, check=False)


def cancelled(emu):
    return [n for n in emu.notifications() if n["kind"] == "booking_cancelled" and n["item_id"] == APPOINTMENT_ID]


def assert_nothing_sent(emu):
    assert emu.http_requests() == [], json.dumps(emu.http_requests())


def test_awx_resource_manager_credential_cancels_unchanged(emu, playbook):
    env = dict(awx_resource_manager_env(emu.conn), **endpoints_env(emu.conn))
    first = run_example(playbook, env, "-vvvv")
    assert first.returncode == 0, first.stdout[-5000:]
    assert cancelled(emu), "the appointment was not cancelled"
    assert [t["client_id"] for t in emu.token_requests()] == [emu.conn["apps"]["secret"]["client_id"]]
    assert APPOINTMENT_ID not in [a["id"] for a in emu.appointments_state(BUSINESS_ID)]
    again = run_example(playbook, env)
    assert again.returncode == 0 and "changed=0" in again.stdout, again.stdout[-3000:]
    recipients = [n["recipient"] for n in cancelled(emu)]
    assert len(recipients) == len(set(recipients)), "a customer was notified twice"
    assert_no_secret(playbook, first.stdout + again.stdout, [emu.conn["apps"]["secret"]["client_secret"]])


def test_awx_user_and_password_variables(emu, playbook):
    conn = emu.conn
    env = dict(endpoints_env(conn), AZURE_CLIENT_ID=conn["apps"]["public"]["client_id"], AZURE_TENANT=conn["tenant_id"],
               AZURE_AD_USER=conn["users"]["organizer"]["upn"], AZURE_PASSWORD=conn["users"]["organizer"]["password"])
    result = playbook.run([info_task()], env=env)
    assert result.returncode == 0, result.stdout[-5000:]
    assert [t["grant_type"] for t in emu.token_requests()] == ["password"]


def test_azure_collection_option_names(emu, playbook):
    conn = emu.conn
    args = {"tenant": conn["tenant_id"], "client_id": conn["apps"]["secret"]["client_id"],
            "secret": conn["apps"]["secret"]["client_secret"], "cloud_environment": "AzureCloud",
            "auth_source": "auto", "graph_endpoint": conn["graph_endpoint"], "authority_host": conn["authority_host"],
            "ca_path": conn["ca_path"]}
    result = playbook.run([info_task(**args)])
    assert result.returncode == 0, result.stdout[-5000:]
    assert APPOINTMENT_ID in "".join("/".join(r["segments"]) for r in emu.requests())


def test_credential_file_profile(emu, playbook):
    conn = emu.conn
    folder = playbook.home / ".azure"
    folder.mkdir()
    (folder / "credentials").write_text(
        "[default]\nclient_id=nobody\nsecret=unused\ntenant=nowhere\n\n"
        "[emulator]\nsubscription_id=sub\nclient_id={0}\nsecret={1}\ntenant={2}\ncloud_environment=AzureCloud\n".format(
            conn["apps"]["secret"]["client_id"], conn["apps"]["secret"]["client_secret"], conn["tenant_id"]),
        encoding="utf-8")
    result = playbook.run([info_task()], env=dict(endpoints_env(conn), AZURE_PROFILE="emulator"))
    assert result.returncode == 0, result.stdout[-5000:]
    assert [t["client_id"] for t in emu.token_requests()] == [conn["apps"]["secret"]["client_id"]]
    assert conn["apps"]["secret"]["client_secret"] not in result.stdout


def stand_in_az(folder, token):
    """An az that answers get-access-token as the real one does, and writes down how it was called."""
    folder.mkdir()
    answer = {"accessToken": token, "expiresOn": "2026-12-07 04:12:09.000000", "expires_on": 1796616729,
              "subscription": "00000000-0000-0000-0000-0000000000aa", "tenant": "t", "tokenType": "Bearer"}
    script = folder / "az"
    script.write_text("#!/bin/sh\nprintf '%s\\n' \"$*\" >> {0}\ncat <<'JSON'\n{1}\nJSON\n".format(
        folder / "calls", json.dumps(answer, indent=2)), encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return folder


def test_auth_source_cli_uses_az(emu, playbook, tmp_path):
    conn = emu.conn
    token = app_token(conn)
    before = len(emu.token_requests())
    folder = stand_in_az(tmp_path / "azure-cli", token)
    env = dict(endpoints_env(conn), PATH=str(folder) + os.pathsep + playbook.env["PATH"],
               AZURE_SECRET="left-over-secret")  # an environment credential is not used with auth_source=cli
    result = playbook.run([info_task(auth_source="cli")], "-vvvv", env=env)
    assert result.returncode == 0, result.stdout[-5000:]
    calls = (folder / "calls").read_text(encoding="utf-8").splitlines()
    assert calls == ["account get-access-token --resource %s --output json" % conn["graph_endpoint"]]
    assert len(emu.token_requests()) == before, "the CLI's token must be used as it is"
    assert "Set but not used: AZURE_SECRET (auth_source=cli)" in result.stdout
    assert any(APPOINTMENT_ID in "/".join(r["segments"]) for r in emu.requests())
    assert_no_secret(playbook, result.stdout, [token])


def test_auth_source_cli_without_az(emu, playbook):
    # The PATH a bare execution environment has: Ansible's own folder and the system's, no Azure CLI.
    path = os.pathsep.join(folder for folder in [os.path.dirname(sys.executable), "/usr/bin", "/bin"]
                           if not os.path.exists(os.path.join(folder, "az")))
    env = dict(endpoints_env(emu.conn), PATH=path)
    result = playbook.run([info_task(auth_source="cli")], env=env)
    assert result.returncode != 0
    assert "auth_source=cli needs the Azure CLI: no 'az' executable on PATH" in result.stdout
    assert_nothing_sent(emu)


@pytest.mark.parametrize("env_of,expected", [
    # AZURE_SECRET set, no client id anywhere: the message says which variable is set and what is missing.
    (lambda c: {"AZURE_SECRET": c["apps"]["secret"]["client_secret"], "AZURE_TENANT": c["tenant_id"]},
     ["client_secret (from AZURE_SECRET)", "needs client_id", "AZURE_CLIENT_ID"]),
    # The two families disagree.
    (lambda c: {"AZURE_TENANT_ID": c["tenant_id"], "AZURE_TENANT": c["other_tenant_id"],
                "AZURE_CLIENT_ID": c["apps"]["secret"]["client_id"], "AZURE_SECRET": c["apps"]["secret"]["client_secret"]},
     ["tenant_id is set differently by AZURE_TENANT_ID and AZURE_TENANT"]),
    # A cloud that has no Bookings, from AZURE_CLOUD_ENVIRONMENT: never silently the global cloud.
    (lambda c: {"AZURE_CLOUD_ENVIRONMENT": "AzureChinaCloud", "AZURE_CLIENT_ID": c["apps"]["secret"]["client_id"],
                "AZURE_TENANT": c["tenant_id"], "AZURE_SECRET": c["apps"]["secret"]["client_secret"]},
     ["Microsoft Bookings is not available in the china", "cloud came from AZURE_CLOUD_ENVIRONMENT"]),
    # An authority host azure-identity would refuse too.
    (lambda c: {"AZURE_AUTHORITY_HOST": c["authority_host"].replace("https://", "http://"), "AZURE_TENANT": c["tenant_id"],
                "AZURE_CLIENT_ID": c["apps"]["secret"]["client_id"], "AZURE_SECRET": c["apps"]["secret"]["client_secret"]},
     ["authority_host (from AZURE_AUTHORITY_HOST) must use https://"]),
    # Credentials of two kinds.
    (lambda c: {"AZURE_SECRET": "x", "AZURE_FEDERATED_TOKEN_FILE": c["apps"]["federated"]["token_file"],
                "AZURE_CLIENT_ID": "c", "AZURE_TENANT": "t"},
     ["client_secret (from AZURE_SECRET)", "federated_token_file (from AZURE_FEDERATED_TOKEN_FILE)"]),
], ids=["secret-without-client-id", "tenant-conflict", "china-from-env", "http-authority-from-env", "two-kinds"])
def test_bad_environment_fails_naming_the_variables_with_nothing_sent(emu, playbook, env_of, expected):
    conn = emu.conn
    env = {"MSGRAPH_ENDPOINT": conn["graph_endpoint"], "REQUESTS_CA_BUNDLE": conn["ca_path"]}
    env.setdefault("AZURE_AUTHORITY_HOST", conn["authority_host"])
    env.update(env_of(conn))
    result = playbook.run([info_task()], env=env)
    assert result.returncode != 0
    for text in expected:
        assert text in result.stdout, result.stdout[-3000:]
    assert_nothing_sent(emu)
    assert conn["apps"]["secret"]["client_secret"] not in result.stdout


def test_bare_authority_host_from_the_environment_is_accepted(emu, playbook):
    conn = emu.conn
    env = dict(awx_resource_manager_env(conn), **endpoints_env(conn))
    env["AZURE_AUTHORITY_HOST"] = conn["authority_host"].split("://", 1)[1]  # 127.x.y.z:PORT, as azure-identity takes it
    result = playbook.run([info_task()], env=env)
    assert result.returncode == 0, result.stdout[-5000:]


def test_unknown_tenant_names_tenant_id_and_its_variable(emu, playbook):
    conn = emu.conn
    env = dict(awx_resource_manager_env(conn), **endpoints_env(conn))
    env["AZURE_TENANT"] = "nosuchtenant.example"
    result = playbook.run([info_task()], env=env)
    assert result.returncode != 0
    assert "tenant_id (from AZURE_TENANT) 'nosuchtenant.example' is not a tenant" in result.stdout, result.stdout[-3000:]
    assert "Unable to get authority configuration" not in result.stdout
    assert emu.requests() == [], "nothing may reach Graph"


def test_managed_identity_names_azure_client_id_when_it_fails(emu, playbook):
    mi = emu.conn["managed_identity"]
    env = dict(endpoints_env(emu.conn), IDENTITY_ENDPOINT=mi["endpoint"], IDENTITY_HEADER=mi["header"],
               AZURE_CLIENT_ID="6d7f0000-0000-0000-0000-00000000dead")  # left over for another tool
    result = playbook.run([info_task(auth_source="msi")], env=env)
    assert result.returncode != 0
    assert "AZURE_CLIENT_ID was taken as the client id of a user-assigned managed identity" in result.stdout, \
        result.stdout[-3000:]
    assert emu.requests() == []
    del env["AZURE_CLIENT_ID"]
    system = playbook.run([info_task(auth_source="msi")], env=env)
    assert system.returncode == 0, system.stdout[-3000:]
