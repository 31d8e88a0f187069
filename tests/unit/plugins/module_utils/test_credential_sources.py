# Copyright (c) graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Where credentials come from (issue 19): options, both AZURE_* families, ~/.azure/credentials, the Azure CLI,
and messages that name every option and variable involved. No network."""

import json
import os
import stat

import pytest

from ansible_collections.graphops.msgraph.plugins.module_utils._clouds import resolve_cloud
from ansible_collections.graphops.msgraph.plugins.module_utils._credential_sources import resolve, select_auth_method
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_auth import build_credential
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_errors import AuthenticationError, ConfigurationError

SECRET = "awx-injected-secret-4711"
OPTIONS = ("auth_method", "auth_source", "profile", "tenant_id", "client_id", "client_secret", "client_certificate_path",
           "client_certificate_password", "federated_token_file", "username", "password", "access_token", "cloud",
           "graph_endpoint", "authority_host")


def _params(**kw):
    params = dict.fromkeys(OPTIONS)
    params.update(auth_method="auto", auth_source="auto", token_cache_path="")
    params.update(kw)
    return params


def _resolve(env, home, **options):
    return resolve(_params(**options), env, home_file=str(home / ".azure" / "credentials"))


def _credential(env, home, **options):
    sources = _resolve(env, home, **options)
    return build_credential(sources.params, sources=sources)


def _write_credentials(home, text):
    folder = home / ".azure"
    folder.mkdir(exist_ok=True)
    (folder / "credentials").write_text(text, encoding="utf-8")


AWX = {"AZURE_SUBSCRIPTION_ID": "sub", "AZURE_CLIENT_ID": "cid", "AZURE_SECRET": SECRET, "AZURE_TENANT": "tid"}


def test_awx_resource_manager_variables_make_a_client_secret_credential(tmp_path):
    cred = _credential(AWX, tmp_path)
    assert cred.method == "client_secret"
    assert (cred.params["tenant_id"], cred.params["client_id"], cred.params["client_secret"]) == ("tid", "cid", SECRET)
    assert cred.sources.origins["client_secret"] == "AZURE_SECRET" and cred.sources.origins["tenant_id"] == "AZURE_TENANT"


def test_awx_user_and_password_variables(tmp_path):
    env = {"AZURE_CLIENT_ID": "cid", "AZURE_TENANT": "tid", "AZURE_AD_USER": "adele@contoso.example", "AZURE_PASSWORD": SECRET}
    cred = _credential(env, tmp_path)
    assert cred.method == "password" and cred.params["username"] == "adele@contoso.example"


def test_secret_without_client_id_says_which_variable_is_set_and_what_is_missing(tmp_path):
    with pytest.raises(ConfigurationError) as err:
        _credential({"AZURE_SECRET": SECRET, "AZURE_TENANT": "tid"}, tmp_path)
    text = str(err.value)
    assert err.value.option == "client_id"
    assert "client_secret (from AZURE_SECRET)" in text and "needs client_id" in text
    assert "AZURE_CLIENT_ID" in text and "tenant_id (from AZURE_TENANT)" in text
    assert SECRET not in text


def test_nothing_usable_names_every_place_looked_and_what_is_set(tmp_path):
    with pytest.raises(ConfigurationError) as err:
        _credential({"AZURE_CLIENT_ID": "cid"}, tmp_path)
    text = str(err.value)
    for name in ("AZURE_CLIENT_SECRET", "AZURE_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_FEDERATED_TOKEN_FILE",
                 "AZURE_USERNAME", "AZURE_AD_USER", "AZURE_PASSWORD", "MSGRAPH_ACCESS_TOKEN", "~/.azure/credentials",
                 "client_id (from AZURE_CLIENT_ID)", "auth_source=msi", "auth_source=cli"):
        assert name in text, name
    assert "****" not in text, "nothing in this message is a secret: " + text


@pytest.mark.parametrize("env,names", [
    ({"AZURE_TENANT_ID": "a", "AZURE_TENANT": "b"}, ["AZURE_TENANT_ID", "AZURE_TENANT"]),
    ({"AZURE_CLIENT_SECRET": "s1", "AZURE_SECRET": "s2"}, ["AZURE_CLIENT_SECRET", "AZURE_SECRET"]),
    ({"AZURE_USERNAME": "u1", "AZURE_AD_USER": "u2"}, ["AZURE_USERNAME", "AZURE_AD_USER"]),
    ({"MSGRAPH_CLOUD": "global", "AZURE_CLOUD_ENVIRONMENT": "AzureChinaCloud"}, ["MSGRAPH_CLOUD", "AZURE_CLOUD_ENVIRONMENT"]),
])
def test_the_two_families_disagreeing_is_a_conflict_naming_both(tmp_path, env, names):
    with pytest.raises(ConfigurationError) as err:
        _resolve(env, tmp_path)
    for name in names:
        assert name in str(err.value)
    assert "s1" not in str(err.value) and "s2" not in str(err.value)


def test_the_two_families_agreeing_is_fine_and_options_win(tmp_path):
    sources = _resolve({"AZURE_TENANT_ID": "t", "AZURE_TENANT": "t", "MSGRAPH_CLOUD": "china",
                        "AZURE_CLOUD_ENVIRONMENT": "AzureChinaCloud", "AZURE_CLIENT_ID": "env"}, tmp_path, client_id="opt")
    assert sources.params["tenant_id"] == "t" and sources.origins["tenant_id"] == "AZURE_TENANT_ID and AZURE_TENANT"
    assert sources.params["client_id"] == "opt" and sources.origins["client_id"] == "option client_id"
    assert resolve_cloud(sources.params["cloud"]).name == "china"


def test_ambiguous_credentials_name_their_variables(tmp_path):
    with pytest.raises(ConfigurationError) as err:
        _credential({"AZURE_SECRET": SECRET, "AZURE_FEDERATED_TOKEN_FILE": "/f", "AZURE_CLIENT_ID": "c"}, tmp_path,
                    tenant_id="t")
    assert "client_secret (from AZURE_SECRET)" in str(err.value)
    assert "federated_token_file (from AZURE_FEDERATED_TOKEN_FILE)" in str(err.value)


@pytest.mark.parametrize("value,expected", [
    ("AzureCloud", "global"), ("AzureUSGovernment", "usgov"), ("AzureChinaCloud", "china"),
    ("AzureUSGovernmentDoD", "usgovdod"), ("azurechinacloud", "china"), ("usgov", "usgov"),
])
def test_azure_cloud_names(value, expected):
    assert resolve_cloud(value).name == expected


def test_unknown_cloud_from_the_environment_names_the_variable(tmp_path):
    sources = _resolve({"AZURE_CLOUD_ENVIRONMENT": "AzureGermanCloud"}, tmp_path)
    with pytest.raises(ConfigurationError) as err:
        resolve_cloud(sources.params["cloud"], origins=sources.origins)
    assert "cloud (from AZURE_CLOUD_ENVIRONMENT)" in str(err.value) and "AzureGermanCloud" in str(err.value)


@pytest.mark.parametrize("value,host,cloud", [
    ("login.microsoftonline.us", "https://login.microsoftonline.us", "usgov"),
    ("https://login.chinacloudapi.cn/", "https://login.chinacloudapi.cn", "china"),
    ("login.example.test:8443", "https://login.example.test:8443", "global"),
])
def test_authority_host_in_azure_identity_forms(tmp_path, value, host, cloud):
    sources = _resolve({"AZURE_AUTHORITY_HOST": value}, tmp_path)
    settings = resolve_cloud(None, None, sources.params["authority_host"], origins=sources.origins)
    assert (settings.authority_host, settings.name) == (host, cloud)


def test_refused_authority_host_says_it_came_from_the_environment(tmp_path):
    sources = _resolve({"AZURE_AUTHORITY_HOST": "http://login.example.test"}, tmp_path)
    with pytest.raises(ConfigurationError) as err:
        resolve_cloud(None, None, sources.params["authority_host"], origins=sources.origins)
    assert "authority_host (from AZURE_AUTHORITY_HOST) must use https://" in str(err.value)


# ------------------------------------------------------------------ ~/.azure/credentials

CREDENTIALS = """[default]
subscription_id=sub
client_id=file-cid
secret={0}
tenant=file-tid

[gov]
client_id=gov-cid
secret={0}
tenant=gov-tid
cloud_environment=AzureUSGovernment
""".format(SECRET)


def test_default_profile_is_used_when_nothing_else_gives_a_credential(tmp_path):
    _write_credentials(tmp_path, CREDENTIALS)
    cred = _credential({}, tmp_path)
    assert cred.method == "client_secret" and cred.params["client_id"] == "file-cid"
    assert cred.sources.origins["client_secret"] == "profile 'default' of ~/.azure/credentials"


def test_named_profile_from_azure_profile_sets_the_cloud(tmp_path):
    _write_credentials(tmp_path, CREDENTIALS)
    sources = _resolve({"AZURE_PROFILE": "gov"}, tmp_path)
    assert sources.params["tenant_id"] == "gov-tid" and resolve_cloud(sources.params["cloud"]).name == "usgov"


def test_missing_profile_lists_the_sections(tmp_path):
    _write_credentials(tmp_path, CREDENTIALS)
    with pytest.raises(ConfigurationError) as err:
        _resolve({}, tmp_path, profile="prod")
    assert "'prod'" in str(err.value) and "default, gov" in str(err.value) and err.value.option == "profile"


def test_environment_credentials_win_over_the_default_profile_and_clash_with_a_named_one(tmp_path):
    _write_credentials(tmp_path, CREDENTIALS)
    assert _resolve(AWX, tmp_path).params["client_id"] == "cid"
    with pytest.raises(ConfigurationError) as err:
        _resolve(dict(AWX, AZURE_PROFILE="gov"), tmp_path)
    assert "AZURE_SECRET" in str(err.value) and "'gov'" in str(err.value) and "AZURE_PROFILE" in str(err.value)


def test_auth_source_picks_one_place(tmp_path):
    _write_credentials(tmp_path, CREDENTIALS)
    assert _resolve(AWX, tmp_path, auth_source="credential_file").params["client_id"] == "file-cid"
    assert _resolve({}, tmp_path, auth_source="env").params["client_id"] is None
    with pytest.raises(ConfigurationError) as err:
        _resolve({}, tmp_path / "nowhere", auth_source="credential_file")
    assert "does not exist" in str(err.value)


# ------------------------------------------------------------------ msi and cli

def test_msi_is_managed_identity_with_client_id_from_the_environment(tmp_path):
    cred = _credential({"AZURE_CLIENT_ID": "uami"}, tmp_path, auth_source="msi")
    assert cred.method == "managed_identity" and cred.params["client_id"] == "uami"
    with pytest.raises(ConfigurationError):
        select_auth_method(_params(auth_source="msi", auth_method="client_secret"))


def _stand_in_az(folder, answer, code=0, stderr=""):
    """An 'az' that prints what the real one prints and records its arguments."""
    folder.mkdir(exist_ok=True)
    script = folder / "az"
    script.write_text("#!/bin/sh\necho \"$@\" > {0}\necho '{1}' >&2\necho '{2}'\nexit {3}\n".format(
        folder / "argv", stderr, answer, code), encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return folder


AZ_ANSWER = {"accessToken": "eyJ0eXAiOiJKV1QifQ.eyJzY3AiOiJDYWxlbmRhcnMuUmVhZCJ9.c2ln",
             "expiresOn": "2026-12-07 04:12:09.000000", "expires_on": 1796616729, "subscription": "sub",
             "tenant": "tid", "tokenType": "Bearer"}


def test_cli_runs_az_for_the_graph_endpoint(tmp_path, monkeypatch):
    folder = _stand_in_az(tmp_path / "bin", json.dumps(AZ_ANSWER))
    monkeypatch.setenv("PATH", str(folder) + os.pathsep + os.environ["PATH"])
    cred = _credential(AWX, tmp_path, auth_source="cli", tenant_id="tid")
    assert cred.method == "azure_cli"
    assert cred.get_token() == AZ_ANSWER["accessToken"] and cred.is_delegated()
    argv = (folder / "argv").read_text(encoding="utf-8").split()
    assert argv == ["account", "get-access-token", "--resource", "https://graph.microsoft.com", "--output", "json",
                    "--tenant", "tid"]


def test_cli_failure_reports_what_az_said(tmp_path, monkeypatch):
    folder = _stand_in_az(tmp_path / "bin", "", code=1, stderr="ERROR: Please run 'az login' to setup account.")
    monkeypatch.setenv("PATH", str(folder) + os.pathsep + os.environ["PATH"])
    with pytest.raises(AuthenticationError) as err:
        _credential({}, tmp_path, auth_source="cli").get_token()
    assert "az login" in str(err.value) and "exited with 1" in str(err.value)


def test_cli_without_az_installed_fails_before_anything(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ConfigurationError) as err:
        _credential({}, tmp_path, auth_source="cli")
    assert "no 'az' executable on PATH" in str(err.value) and err.value.option == "auth_source"


def test_what_is_set_but_not_used_is_listed_by_name(tmp_path):
    sources = _resolve(dict(AWX, AZURE_PROFILE="gov"), tmp_path, auth_source="cli", client_id="opt")
    assert sources.unused == ["AZURE_CLIENT_ID (option client_id wins)", "AZURE_SECRET (auth_source=cli)",
                              "profile 'gov' (from AZURE_PROFILE; auth_source=cli)"]
    assert SECRET not in repr(sources.unused)
    assert _resolve(AWX, tmp_path, client_id="cid").unused == [], "an option equal to the variable is no news"
