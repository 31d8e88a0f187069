# Copyright (c) graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""GraphModule: merged argspec, env fallbacks, option checks before any request, one failure format."""

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.graphops.msgraph.plugins.module_utils._graph_errors import (
    AuthenticationError, ConfigurationError, graph_error_from)
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_module import GraphModule, graph_argument_spec

ENV_VARS = ["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH",
            "AZURE_CLIENT_CERTIFICATE_PASSWORD", "AZURE_FEDERATED_TOKEN_FILE", "AZURE_USERNAME", "AZURE_PASSWORD",
            "MSGRAPH_ACCESS_TOKEN", "MSGRAPH_CLOUD", "MSGRAPH_ENDPOINT", "AZURE_AUTHORITY_HOST", "MSGRAPH_TOKEN_CACHE",
            "AZURE_TENANT", "AZURE_SECRET", "AZURE_AD_USER", "AZURE_CLOUD_ENVIRONMENT", "AZURE_PROFILE"]


class Failed(Exception):
    pass


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.azure/credentials of the developer


@pytest.fixture
def fail_capture(monkeypatch):
    captured = {}

    def fail_json(self, **kwargs):
        captured.update(kwargs)
        raise Failed(kwargs.get("msg"))

    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.fail_json", fail_json)
    return captured


def _gm(args, spec=None):
    with patch_module_args(args):
        return GraphModule(argument_spec=spec or {"business_id": {"type": "str", "required": True}})


def test_argspec_merged_and_defaults():
    gm = _gm({"business_id": "b", "access_token": "abc"})
    assert gm.params["business_id"] == "b"
    assert gm.params["cloud"] is None and gm.params["api_version"] == "v1.0" and gm.params["validate_certs"] is True
    assert gm.check_mode is False and gm.cloud == "global"
    spec = graph_argument_spec()
    for name in ("client_secret", "client_certificate_password", "password", "access_token"):
        assert spec[name]["no_log"] is True


def test_env_fallbacks(monkeypatch):
    monkeypatch.setenv("AZURE_TENANT_ID", "tid")
    monkeypatch.setenv("AZURE_CLIENT_ID", "cid")
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "sec")
    monkeypatch.setenv("MSGRAPH_CLOUD", "usgovdod")
    gm = _gm({"business_id": "b"})
    assert gm.sources.params["tenant_id"] == "tid" and gm.sources.params["client_secret"] == "sec"
    assert gm.sources.origins["client_secret"] == "AZURE_CLIENT_SECRET"
    assert gm.cloud == "usgovdod"
    assert gm.cloud_settings.scope == "https://dod-graph.microsoft.us/.default"
    assert gm.credential().method == "client_secret"


def test_client_built_lazily_with_options():
    gm = _gm({"business_id": "b", "access_token": "abc", "graph_endpoint": "https://127.0.0.1:9", "api_version": "beta",
              "retries": 5, "max_wait": 7, "timeout": 11})
    client = gm.client()
    assert client is gm.client()
    assert client.base_url == "https://127.0.0.1:9/beta"
    assert (client.retries, client.max_wait, client.timeout) == (5, 7, 11)
    assert client.user_agent.startswith("graphops.msgraph/")


@pytest.mark.parametrize("args,option", [
    ({"graph_endpoint": "http://graph.test", "access_token": "a"}, "graph_endpoint"),
    ({"authority_host": "http://login.test", "access_token": "a"}, "authority_host"),
    ({"client_secret": "s", "access_token": "a"}, "auth_method"),
    ({"client_secret": "s"}, "tenant_id"),
    ({"access_token": "a", "ca_path": "/nonexistent/ca.pem"}, "ca_path"),
    ({"access_token": "a", "timeout": 0}, "timeout"),
])
def test_bad_options_fail_before_any_request(fail_capture, args, option):
    args = dict(args, business_id="b")
    gm = _gm(args)
    with pytest.raises(Failed):
        gm.client()
    assert fail_capture["error"]["option"] == option
    assert option in fail_capture["msg"]
    assert fail_capture["changed"] is False
    assert "s" not in (fail_capture["error"].get("value") or "")


def test_fail_graph_format(fail_capture):
    gm = _gm({"business_id": "b", "access_token": "abc"})
    err = graph_error_from(403, {"error": {"code": "ErrorAccessDenied", "message": "Access is denied."}},
                           {"request-id": "rid", "client-request-id": "crid"})
    with pytest.raises(Failed):
        gm.fail_graph(err, "Cancel appointment X failed", cancelled=["A"], changed=True)
    assert fail_capture["msg"] == ("Cancel appointment X failed: HTTP 403 ErrorAccessDenied: Access is denied. "
                                   "(request-id rid, client-request-id crid)")
    assert fail_capture["error"]["status"] == 403 and fail_capture["error"]["request_id"] == "rid"
    assert fail_capture["cancelled"] == ["A"] and fail_capture["changed"] is True


def test_fail_graph_auth_and_unknown(fail_capture):
    gm = _gm({"business_id": "b", "access_token": "abc"})
    with pytest.raises(Failed):
        gm.fail_graph(AuthenticationError("invalid_client", "bad secret", "corr"), "Reading failed")
    assert fail_capture["error"]["correlation_id"] == "corr"
    assert fail_capture["msg"].startswith("Reading failed: Authentication failed: invalid_client")
    with pytest.raises(Failed):
        gm.fail_graph(ValueError("boom Bearer eyJabc.eyJdef.ghi"), "Oops")
    assert "eyJabc" not in fail_capture["msg"] and "eyJabc" not in fail_capture["exception"]
    json.dumps(fail_capture["error"])


def test_is_delegated_from_access_token():
    import base64
    payload = base64.urlsafe_b64encode(json.dumps({"scp": "Calendars.ReadWrite"}).encode()).decode().rstrip("=")
    assert _gm({"business_id": "b", "access_token": "e30." + payload + ".sig"}).is_delegated() is True
    assert _gm({"business_id": "b", "access_token": "opaque"}).is_delegated() is False


def test_configuration_error_subclass_is_reported_with_option(fail_capture):
    gm = _gm({"business_id": "b", "access_token": "abc"})
    with pytest.raises(Failed):
        gm.fail_graph(ConfigurationError("appointment_id must not be empty", option="appointment_id"), "Invalid input")
    assert fail_capture["error"]["option"] == "appointment_id"
    assert "exception" not in fail_capture


ID_SPEC = {"business_id": {"type": "str", "required": True}, "ids": {"type": "list", "elements": "str"},
           "match": {"type": "dict", "options": {"start": {"type": "str"}}}}


@pytest.mark.parametrize("args,message", [
    ({"business_id": ["a", "b"]}, "business_id must be a string, got a list"),
    ({"business_id": {"a": 1}}, "business_id must be a string, got a dict"),
    ({"business_id": True}, "business_id must be a string, got a bool"),
    ({"business_id": "b", "ids": ["ok", ["x"]]}, "ids[1] must be a string, got a list"),
    ({"business_id": "b", "match": {"start": {"x": 1}}}, "match.start must be a string, got a dict"),
    ({"business_id": "b", "access_token": ["t"]}, "access_token must be a string, got a list"),
])
def test_non_text_for_a_text_option_is_refused(fail_capture, args, message):
    # Ansible alone would turn these into "['a', 'b']", "{'a': 1}", "True" and carry on.
    with pytest.raises(Failed):
        _gm(args, spec=ID_SPEC)
    assert fail_capture["msg"] == message


def test_numbers_for_a_text_option_are_kept_as_written(fail_capture):
    gm = _gm({"business_id": 12345, "ids": [1, "b"]}, spec=ID_SPEC)
    assert gm.params["business_id"] == "12345" and gm.params["ids"] == ["1", "b"]
