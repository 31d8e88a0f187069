# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection layer seen from a playbook: every auth method, the shared token cache, secrets.

Each case runs real ansible-playbook against the emulator and checks through the emulator's own
record (token requests, Graph requests) and through every byte the run left behind: its output
at -vvvv, its ANSIBLE_LOG_PATH log, and every file under its HOME and temp folders.
"""

import json
import os
import stat

import pytest
import requests

from playbook_runner import connection_defaults

BUSINESS_ID = "contosoclinic@contoso.example"
APPOINTMENT_ID = "AAMkAD5gD_eusNSOjbVuS1xDH0q0vkNJ9Cej-UrzqXIM_HueE=="


def info_task(**extra):
    args = {"business_id": BUSINESS_ID, "appointment_id": APPOINTMENT_ID}
    args.update(extra)  # may replace business_id
    return {"name": "Read one appointment", "graphops.msgraph.booking_appointment_info": args, "register": "info"}


def endpoint_args(conn):
    return {"graph_endpoint": conn["graph_endpoint"], "authority_host": conn["authority_host"], "ca_path": conn["ca_path"]}


def app_token(conn):
    """An app-only access token, fetched by hand for the access_token method."""
    answer = requests.post(
        "%s/%s/oauth2/v2.0/token" % (conn["authority_host"], conn["tenant_id"]),
        data={"grant_type": "client_credentials", "client_id": conn["apps"]["secret"]["client_id"],
              "client_secret": conn["apps"]["secret"]["client_secret"], "scope": conn["graph_endpoint"] + "/.default"},
        verify=conn["ca_path"], timeout=30,
    )
    answer.raise_for_status()
    return answer.json()["access_token"]


def auth_cases(conn):
    """(name, module args, extra environment, secrets that must never show) per auth method."""
    apps, users, tenant = conn["apps"], conn["users"], conn["tenant_id"]
    with open(apps["federated"]["token_file"], encoding="utf-8") as handle:
        assertion = handle.read().strip()
    token = app_token(conn)
    mi = conn["managed_identity"]
    return [
        ("client_secret", {"tenant_id": tenant, "client_id": apps["secret"]["client_id"], "client_secret": apps["secret"]["client_secret"]},
         {}, [apps["secret"]["client_secret"]]),
        ("certificate_pem", {"tenant_id": tenant, "client_id": apps["certificate"]["client_id"],
                             "client_certificate_path": apps["certificate"]["pem_path"]}, {}, []),
        ("certificate_pfx", {"tenant_id": tenant, "client_id": apps["certificate"]["client_id"],
                             "client_certificate_path": apps["certificate"]["pfx_path"],
                             "client_certificate_password": apps["certificate"]["pfx_password"]},
         {}, [apps["certificate"]["pfx_password"]]),
        ("federated", {"tenant_id": tenant, "client_id": apps["federated"]["client_id"],
                       "federated_token_file": apps["federated"]["token_file"]}, {}, [assertion]),
        ("managed_identity", {"auth_method": "managed_identity", "client_id": mi["user_assigned_client_id"]},
         {"IDENTITY_ENDPOINT": mi["endpoint"], "IDENTITY_HEADER": mi["header"]}, [mi["header"]]),
        ("password", {"tenant_id": tenant, "client_id": apps["public"]["client_id"], "username": users["organizer"]["upn"],
                      "password": users["organizer"]["password"]}, {}, [users["organizer"]["password"]]),
        ("access_token", {"access_token": token}, {}, [token]),
    ]


def files_written(runner):
    """Every file the run left under its HOME and temp folders, except the token cache."""
    for top in (runner.home, runner.tmp_path / "remote-tmp", runner.tmp_path / "local-tmp"):
        for folder, _dirs, names in os.walk(str(top)):
            for name in names:
                yield os.path.join(folder, name)


def cache_files(runner):
    """The default token cache files: ~/.cache/graphops.msgraph/tokens/... (see _token_cache.py); the mailbox
    locks beside them (locks/) are not a cache, and are searched for secrets like any other file."""
    return [path for path in files_written(runner) if os.sep + os.path.join("graphops.msgraph", "tokens") + os.sep in path]


def assert_no_secret(runner, output, secrets):
    texts = {"output": output, "log": runner.log_path.read_text(encoding="utf-8") if runner.log_path.exists() else ""}
    for path in files_written(runner):
        if path in cache_files(runner):
            continue
        with open(path, "rb") as handle:
            texts[path] = handle.read().decode("utf-8", "replace")
    for where, text in texts.items():
        for secret in secrets:
            assert secret not in text, "a secret appeared in %s" % where
        # Every access, refresh and assertion token the emulator issues is a JWT ("eyJ...").
        assert "eyJ" not in text, "a token appeared in %s" % where


@pytest.mark.parametrize("case", ["client_secret", "certificate_pem", "certificate_pfx", "federated", "managed_identity", "password", "access_token"])
def test_every_auth_method_works_and_keeps_its_secrets(case, emu, playbook):
    name, auth, env, secrets = next(c for c in auth_cases(emu.conn) if c[0] == case)
    args = dict(auth, **endpoint_args(emu.conn))
    token_requests_before = len(emu.token_requests())  # access_token: the test fetched its token itself
    runs = [
        playbook.run([info_task(**args)], "-vvvv", env=env),
        playbook.run([info_task(**args)], "-vvvv", "--check", env=env),
        # A failing run: an appointment id that does not exist is fine for _info, so ask for a
        # business that does not exist instead; the failure message must still hold no secret.
        playbook.run([info_task(**dict(args, business_id="nobody@contoso.example"))], "-vvvv", env=env),
    ]
    assert runs[0].returncode == 0, runs[0].stdout[-5000:]
    assert runs[1].returncode == 0, runs[1].stdout[-5000:]
    assert APPOINTMENT_ID in runs[0].stdout
    assert runs[2].returncode != 0, "%s: reading a business that does not exist must fail" % name
    for run in runs:
        assert_no_secret(playbook, run.stdout, secrets)
    # The cache holds tokens (that is its job, in a 0600 file) but never a credential.
    credentials = [secret for secret in secrets if secret != auth.get("access_token")]
    for path in cache_files(playbook):
        with open(path, encoding="utf-8") as handle:
            cached = handle.read()
        for secret in credentials:
            assert secret not in cached, "a credential was written to the token cache %s" % path
    graph_reads = [r for r in emu.requests() if r.get("method") == "GET" and APPOINTMENT_ID in "/".join(r.get("segments") or [])]
    assert len(graph_reads) >= 2, "the runs must have reached Graph"
    if name == "access_token":
        assert len(emu.token_requests()) == token_requests_before, "access_token must not make a token request"


def test_two_tasks_share_one_token_and_the_cache_is_private(emu, playbook):
    conn = emu.conn
    defaults = connection_defaults(conn)
    first = playbook.run([info_task(), dict(info_task(), name="Read it again")], module_defaults=defaults)
    assert first.returncode == 0, first.stdout[-5000:]
    assert len(emu.token_requests()) == 1, json.dumps(emu.token_requests())
    # The second task found the token in the cache before building an MSAL application: the
    # tenant's OpenID configuration was fetched once, by the first task (the emulator's port is
    # not 443, and MSAL files the token under the host name alone).
    discovery = [r for r in emu.http_requests() if r["path"].endswith("/.well-known/openid-configuration")]
    assert len(discovery) == 1, json.dumps(emu.http_requests())

    caches = cache_files(playbook)
    assert caches, "the default token cache was not written under HOME: %s" % list(files_written(playbook))
    for path in caches:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
        assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700, os.path.dirname(path)
        with open(path, encoding="utf-8") as handle:
            assert conn["apps"]["secret"]["client_secret"] not in handle.read()

    for path in caches:
        os.remove(path)
    again = playbook.run([info_task()], module_defaults=defaults)
    assert again.returncode == 0, again.stdout[-5000:]
    assert len(emu.token_requests()) == 2, "deleting the cache must make the next task acquire a token again"
