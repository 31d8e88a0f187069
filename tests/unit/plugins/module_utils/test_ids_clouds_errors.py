# Copyright (c) graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Ids, clouds, error formatting and redaction."""

import re
from urllib.parse import unquote

import pytest

from ansible_collections.graphops.msgraph.plugins.module_utils import _version
from ansible_collections.graphops.msgraph.plugins.module_utils._clouds import resolve_cloud
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_errors import (
    AuthenticationError, ConfigurationError, GraphForbidden, GraphNotFound, GraphServerError, GraphThrottled,
    GraphTransportError, InvalidInputError, graph_error_from, redact, register_secret)
from ansible_collections.graphops.msgraph.plugins.module_utils._ids import MAX_IDS, build_path, validate_id, validate_id_list

TRICKY_IDS = ["a/b", "...", ".a", "a?b=c", "x#frag", "AA%2FBB", "with space", "naïve-ü-日本", "AAMk/..==", " lead", "a\\b"]


@pytest.mark.parametrize("value", TRICKY_IDS)
def test_build_path_makes_exactly_one_segment(value):
    path = build_path("/solutions/bookingBusinesses/{business_id}/appointments/{appointment_id}/cancel",
                      business_id="b@x.example", appointment_id=value)
    segments = path.split("/")
    assert len(segments) == 7
    assert unquote(segments[5]) == value
    assert not set(segments[5]) & set("/?# ")
    assert segments[5] not in (".", "..")


@pytest.mark.parametrize("value", [".", ".."])
def test_build_path_refuses_dot_segments(value):
    # No encoding of them survives requests (it unquotes %2E) and urllib3 (it collapses dot segments).
    with pytest.raises(InvalidInputError) as err:
        build_path("/users/{user}/events/{event_id}", user="u", event_id=value)
    assert err.value.option == "event_id"


@pytest.mark.parametrize("value", ["", "   ", "\t", None, 5])
def test_build_path_refuses_empty_or_blank(value):
    with pytest.raises(InvalidInputError) as err:
        build_path("/users/{user}/events", user=value)
    assert err.value.option == "user"


def test_build_path_template_mismatch():
    with pytest.raises(ValueError):
        build_path("/users/{user}/events/{event_id}", user="a")
    with pytest.raises(ValueError):
        build_path("/users/{user}", user="a", other="b")


@pytest.mark.parametrize("value", ["", " ", " a", "a ", "a/b", "a\\b", "a?b", "a#b", "a%2F", ".", "..", "a\x00b",
                                   "x" * 1025, None])
def test_validate_id_refuses(value):
    with pytest.raises(InvalidInputError) as err:
        validate_id(value, "appointment_id")
    assert err.value.option == "appointment_id"
    assert "appointment_id" in str(err.value)


@pytest.mark.parametrize("value", ["AAMkAGI2TG93AAA=", "naïve 日本", "x" * 1024, "a.b", "user@contoso.example"])
def test_validate_id_accepts(value):
    assert validate_id(value, "event_id") == value


# The table of tests/emulator/contract/NOTES.md, "Clouds".
CLOUD_TABLE = [
    ("global", "https://login.microsoftonline.com", "https://graph.microsoft.com", True),
    ("usgov", "https://login.microsoftonline.us", "https://graph.microsoft.us", True),
    ("usgovdod", "https://login.microsoftonline.us", "https://dod-graph.microsoft.us", True),
    ("china", "https://login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn", False),
]


@pytest.mark.parametrize("name,authority,endpoint,bookings", CLOUD_TABLE)
def test_cloud_table(name, authority, endpoint, bookings):
    cloud = resolve_cloud(name)
    assert cloud.authority_host == authority
    assert cloud.graph_endpoint == endpoint
    assert cloud.scope == endpoint + "/.default"
    assert cloud.authority("tid") == authority + "/tid"
    assert cloud.bookings is bookings


def test_cloud_default_and_overrides():
    assert resolve_cloud(None).name == "global"
    cloud = resolve_cloud("usgov", graph_endpoint="https://127.0.0.1:8443/", authority_host="https://127.0.0.1:8443")
    assert cloud.graph_endpoint == "https://127.0.0.1:8443"
    assert cloud.scope == "https://127.0.0.1:8443/.default"
    assert cloud.authority("t") == "https://127.0.0.1:8443/t"


@pytest.mark.parametrize("option,value", [("graph_endpoint", "http://graph.test"), ("authority_host", "http://login.test"),
                                          ("graph_endpoint", "https://graph.test/v1.0"), ("authority_host", "ftp://x"),
                                          ("graph_endpoint", "graph.microsoft.com")])
def test_cloud_override_refused(option, value):
    with pytest.raises(ConfigurationError) as err:
        resolve_cloud("global", **{option: value})
    assert err.value.option == option
    assert option in str(err.value)


def test_unknown_cloud():
    with pytest.raises(ConfigurationError) as err:
        resolve_cloud("mars")
    assert err.value.option == "cloud"


def test_graph_error_format_and_dict():
    body = {"error": {"code": "ErrorAccessDenied", "message": "Access is denied.",
                      "innerError": {"date": "2026-01-01T00:00:00", "request-id": "rid-1", "client-request-id": "crid-1"}}}
    err = graph_error_from(403, body, {"request-id": "rid-1", "client-request-id": "crid-1"}, method="POST",
                           url="https://graph.test/v1.0/x")
    assert isinstance(err, GraphForbidden)
    assert str(err) == "HTTP 403 ErrorAccessDenied: Access is denied. (request-id rid-1, client-request-id crid-1)"
    data = err.to_dict()
    assert data["status"] == 403 and data["code"] == "ErrorAccessDenied" and data["request_id"] == "rid-1"
    assert data["client_request_id"] == "crid-1" and data["date"] == "2026-01-01T00:00:00"


def test_error_classes_and_empty_message():
    assert isinstance(graph_error_from(404, None), GraphNotFound)
    assert isinstance(graph_error_from(429, None), GraphThrottled)
    err = graph_error_from(500, {"error": {"code": "UnknownError", "message": ""}}, {"request-id": "r"})
    assert isinstance(err, GraphServerError)
    assert str(err).startswith("HTTP 500 UnknownError: (no message) (request-id r")
    err.attempts = 4
    assert "gave up after 4 attempts" in str(err)


def test_transport_error_has_no_status():
    err = GraphTransportError("connection reset", method="POST", url="https://graph.test/x", client_request_id="c")
    assert err.status is None
    assert "connection reset" in str(err) and "client-request-id c" in str(err)


def test_redaction_of_tokens_and_registered_secrets():
    jwt_like = "eyJhbGciOiJSUzI1NiJ9.eyJzY3AiOiJ4In0.c2lnbmF0dXJl"
    register_secret("S3cr3t-Value!")
    text = redact("Authorization: Bearer abc.def and %s and client_secret=S3cr3t-Value! also S3cr3t-Value!" % jwt_like)
    assert jwt_like not in text and "S3cr3t-Value!" not in text and "abc.def" not in text
    err = graph_error_from(400, {"error": {"code": "BadRequest", "message": "bad token " + jwt_like}})
    assert jwt_like not in str(err) and jwt_like not in repr(err) and jwt_like not in str(err.to_dict())


def test_authentication_error_from_msal():
    register_secret("pa55word-xyz")
    err = AuthenticationError.from_msal({
        "error": "invalid_client",
        "error_description": "AADSTS7000215: Invalid client secret provided: pa55word-xyz\r\nTrace ID: 1",
        "correlation_id": "corr-1"}, method="client_secret")
    assert str(err) == ("Authentication failed (client_secret): invalid_client: AADSTS7000215: Invalid client secret "
                        "provided: ******** (correlation-id corr-1)")
    data = err.to_dict()
    assert data["error"] == "invalid_client" and data["correlation_id"] == "corr-1"
    assert "pa55word-xyz" not in repr(err) + str(data)


def test_configuration_error_names_option():
    err = ConfigurationError("tenant_id is missing", option="tenant_id")
    assert err.to_dict() == {"type": "ConfigurationError", "message": "tenant_id is missing", "option": "tenant_id"}


def test_version_matches_galaxy():
    with open(__file__.rsplit("/tests/", 1)[0] + "/galaxy.yml") as handle:
        version = re.search(r"^version:\s*(\S+)", handle.read(), re.M).group(1)
    assert _version.COLLECTION_VERSION == version
    assert _version.USER_AGENT == "graphops.msgraph/" + version


def test_validate_id_list_drops_repeats_in_order():
    assert validate_id_list(["b", "a", "b", "c", "a"], "ids") == ["b", "a", "c"]


@pytest.mark.parametrize("values,fragment", [
    ([], "ids must list at least one id"),
    (["ok", "a/b"], "ids must not contain any of '/'"),
    (["id%d" % n for n in range(MAX_IDS + 1)], "ids lists %d different ids; one task takes at most %d" % (MAX_IDS + 1, MAX_IDS)),
])
def test_validate_id_list_refuses(values, fragment):
    with pytest.raises(InvalidInputError) as info:
        validate_id_list(values, "ids")
    assert fragment in str(info.value) and info.value.option == "ids"


def test_validate_id_list_counts_different_ids_only():
    assert validate_id_list(["same"] * (MAX_IDS + 10), "ids") == ["same"]
