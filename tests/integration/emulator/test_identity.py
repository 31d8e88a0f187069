# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real MSAL (no mocks, TLS verified) against the emulator's identity endpoints."""

import json
import time
import uuid

import jwt
import msal
import pytest

from emulator import tokens
from emulator.control import ca_session

# MSAL warns that the password grant is deprecated for public clients; it is still what users ask for.
ROPC_WARNING = pytest.mark.filterwarnings("ignore:This API has been deprecated for public client flows")
ORGANIZER_UPN = "megan.bowen@fabrikam.example"
ORGANIZER_PASSWORD = "Correct-Horse-42!"


class RecordingSession:
    """Wraps the verifying session to keep what MSAL sent: lets a test see the assertion MSAL built."""

    def __init__(self, ca_path, userrealm_port=None):
        self.inner = ca_session(ca_path, userrealm_port)
        self.sent = []

    def get(self, url, **kwargs):
        resp = self.inner.get(url, **kwargs)
        # The URL that went on the wire (the session may have restored the port).
        self.sent.append(("GET", resp.request.url if resp.request is not None else url, kwargs.get("params"), resp.status_code))
        return resp

    def post(self, url, **kwargs):
        resp = self.inner.post(url, **kwargs)
        self.sent.append(("POST", url, kwargs.get("data"), resp.status_code))
        return resp

    def close(self):
        self.inner.close()


def claims_of(token):
    return jwt.decode(token, options={"verify_signature": False})


def split_pem(path):
    with open(path, encoding="ascii") as handle:
        text = handle.read()
    cert_end = text.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----")
    return text[:cert_end].strip() + "\n", text[cert_end:].strip() + "\n"


def confidential(conn, msal_kwargs, name, credential):
    return msal.ConfidentialClientApplication(conn["apps"][name]["client_id"], client_credential=credential, **msal_kwargs)


def assert_aad_error(result, error, code):
    assert "access_token" not in result
    assert result["error"] == error, result
    assert code in result["error_codes"], result
    assert result["error_description"].startswith("AADSTS%d:" % code)
    for key in ("timestamp", "trace_id", "correlation_id"):
        assert result[key]


def test_client_secret(emu, msal_kwargs, scope):
    result = confidential(emu.conn, msal_kwargs, "secret", emu["apps"]["secret"]["client_secret"]).acquire_token_for_client(scope)
    claims = claims_of(result["access_token"])
    assert claims["aud"] == emu["graph_endpoint"]
    assert claims["tid"] == emu["tenant_id"]
    assert claims["appid"] == emu["apps"]["secret"]["client_id"]
    assert set(claims["roles"]) == {"Bookings.ReadWrite.All", "Calendars.ReadWrite"}
    assert claims["exp"] > time.time() + 3000 and claims["iat"] <= time.time() and "nbf" in claims
    assert jwt.get_unverified_header(result["access_token"])["alg"] == "RS256"


def test_readonly_app_gets_read_roles_only(emu, msal_kwargs, scope):
    result = confidential(emu.conn, msal_kwargs, "readonly", emu["apps"]["readonly"]["client_secret"]).acquire_token_for_client(scope)
    assert set(claims_of(result["access_token"])["roles"]) == {"Bookings.Read.All", "Calendars.Read"}


@pytest.mark.parametrize("form", ["thumbprint", "public_certificate"])
def test_certificate_pem(emu, msal_kwargs, scope, form):
    app = emu["apps"]["certificate"]
    cert, key = split_pem(app["pem_path"])
    credential = {"private_key": key, "thumbprint": app["thumbprint"]} if form == "thumbprint" else {"private_key": key, "public_certificate": cert}
    recording = RecordingSession(emu["ca_path"])
    msal_kwargs = dict(msal_kwargs, http_client=recording)
    result = confidential(emu.conn, msal_kwargs, "certificate", credential).acquire_token_for_client(scope)
    assert "access_token" in result, result
    assert claims_of(result["access_token"])["appid"] == app["client_id"]
    assertion = [data for method, _url, data, _s in recording.sent if method == "POST"][0]["client_assertion"]
    header = jwt.get_unverified_header(assertion)
    # MSAL: RS256 + x5t with a thumbprint, PS256 + x5t#S256 when it computes it from the certificate.
    expected = ("RS256", "x5t") if form == "thumbprint" else ("PS256", "x5t#S256")
    assert (header["alg"], expected[1] in header) == (expected[0], True)


def test_certificate_pkcs12_with_password(emu, msal_kwargs, scope):
    app = emu["apps"]["certificate"]
    credential = {"private_key_pfx_path": app["pfx_path"], "passphrase": app["pfx_password"]}
    result = confidential(emu.conn, msal_kwargs, "certificate", credential).acquire_token_for_client(scope)
    assert claims_of(result["access_token"])["appid"] == app["client_id"]


def test_federated_assertion_from_token_file(emu, msal_kwargs, scope):
    with open(emu["apps"]["federated"]["token_file"], encoding="ascii") as handle:
        assertion = handle.read().strip()
    result = confidential(emu.conn, msal_kwargs, "federated", {"client_assertion": lambda: assertion}).acquire_token_for_client(scope)
    assert claims_of(result["access_token"])["appid"] == emu["apps"]["federated"]["client_id"]


def test_federated_assertion_minted_by_control_api(emu, msal_kwargs, scope):
    assertion = emu.federated_token(lifetime=600)
    result = confidential(emu.conn, msal_kwargs, "federated", {"client_assertion": lambda: assertion}).acquire_token_for_client(scope)
    assert "access_token" in result, result


def test_bad_secret_is_msal_error(emu, msal_kwargs, scope):
    result = confidential(emu.conn, msal_kwargs, "secret", "not-the-secret").acquire_token_for_client(scope)
    assert_aad_error(result, "invalid_client", 7000215)
    assert emu.token_requests()[-1]["status"] == 401


def test_unregistered_certificate_is_msal_error(emu, msal_kwargs, scope):
    key = tokens.new_rsa_key()
    cert = tokens.self_signed_cert(key, "not-registered")
    credential = {"private_key": tokens.key_pem(key).decode(), "thumbprint": tokens.thumbprints(cert)[0]}
    result = confidential(emu.conn, msal_kwargs, "certificate", credential).acquire_token_for_client(scope)
    assert_aad_error(result, "invalid_client", 700027)


def test_expired_federated_assertion_is_msal_error(emu, msal_kwargs, scope):
    assertion = emu.federated_token(lifetime=-600)
    result = confidential(emu.conn, msal_kwargs, "federated", {"client_assertion": lambda: assertion}).acquire_token_for_client(scope)
    assert_aad_error(result, "invalid_client", 700024)


def test_expired_certificate_assertion_is_msal_error(emu, msal_kwargs, scope):
    app = emu["apps"]["certificate"]
    _cert, key = split_pem(app["pem_path"])
    now = int(time.time())
    assertion = jwt.encode({"aud": "%s/%s/oauth2/v2.0/token" % (emu["authority_host"], emu["tenant_id"]), "iss": app["client_id"],
                            "sub": app["client_id"], "jti": str(uuid.uuid4()), "iat": now - 1200, "nbf": now - 1200, "exp": now - 600},
                           key, algorithm="RS256", headers={"x5t": tokens.b64url_thumbprint(app["thumbprint"])})
    result = confidential(emu.conn, msal_kwargs, "certificate", {"client_assertion": lambda: assertion}).acquire_token_for_client(scope)
    assert_aad_error(result, "invalid_client", 700024)


def test_federated_assertion_from_unknown_issuer_is_refused(emu, msal_kwargs, scope):
    now = int(time.time())
    forged = jwt.encode({"iss": "https://token.actions.example", "sub": "repo:x", "aud": "api://AzureADTokenExchange",
                         "iat": now, "exp": now + 600}, tokens.new_rsa_key(), algorithm="RS256")
    result = confidential(emu.conn, msal_kwargs, "federated", {"client_assertion": lambda: forged}).acquire_token_for_client(scope)
    assert result["error"] == "invalid_client" and "access_token" not in result


@ROPC_WARNING
def test_password_grant_and_refresh_token(emu, session, msal_kwargs, scope, seeded):
    assert "realm_port" not in emu.conn and emu["port"] != 443
    recording = RecordingSession(emu["ca_path"], userrealm_port=emu["port"])
    public = msal.PublicClientApplication(emu["apps"]["public"]["client_id"], **dict(msal_kwargs, http_client=recording))
    result = public.acquire_token_by_username_password(ORGANIZER_UPN, ORGANIZER_PASSWORD, scopes=scope)
    assert "access_token" in result, result
    claims = claims_of(result["access_token"])
    assert claims["upn"] == ORGANIZER_UPN and "roles" not in claims
    # /.default: every delegated permission the public app was consented for, plus the OpenID
    # Connect scopes MSAL always asks for (offline_access only earns the refresh token).
    assert set(claims["scp"].split()) == {"BookingsAppointment.ReadWrite.All", "Calendars.ReadWrite", "Group.ReadWrite.All", "openid",
                                          "profile"}
    # MSAL's user realm discovery reached the emulator's own (ephemeral) port and was answered there.
    realm = [s for s in recording.sent if "/common/userrealm/" in s[1]]
    assert realm and realm[0][1].startswith("https://%s:%d/common/userrealm/" % (emu["host"], emu["port"])) and realm[0][3] == 200
    assert [r for r in emu.http_requests() if r["path"].startswith("/common/userrealm/")]

    refreshed = public.acquire_token_by_refresh_token(result["refresh_token"], scopes=scope)
    assert "access_token" in refreshed, refreshed
    assert claims_of(refreshed["access_token"])["oid"] == claims["oid"]
    reused = public.acquire_token_by_refresh_token(result["refresh_token"], scopes=scope)
    assert reused["error"] == "invalid_grant"
    assert session.get(emu["graph_endpoint"] + "/v1.0/me/events", headers={"Authorization": "Bearer " + refreshed["access_token"]},
                       timeout=30).status_code == 200


@ROPC_WARNING
def test_password_grant_through_the_collections_session(emu, scope, seeded):
    """The collection's own session (plugins/module_utils/_graph_session.py) as MSAL's http_client:
    its user realm shim reaches the emulator on its ephemeral port, no port 443 involved."""
    from ansible_collections.graphops.msgraph.plugins.module_utils._graph_session import \
        new_session  # pylint: disable=import-outside-toplevel
    session = new_session(verify=emu["ca_path"], timeout=30, authority_host=emu["authority_host"])
    public = msal.PublicClientApplication(emu["apps"]["public"]["client_id"], authority="%s/%s" % (emu["authority_host"], emu["tenant_id"]),
                                          http_client=session, instance_discovery=False)
    result = public.acquire_token_by_username_password(ORGANIZER_UPN, ORGANIZER_PASSWORD, scopes=scope)
    assert claims_of(result["access_token"])["upn"] == ORGANIZER_UPN, result
    realm = [r for r in emu.http_requests() if r["path"].startswith("/common/userrealm/")]
    assert realm and emu["port"] not in (0, 443), emu.http_requests()


@ROPC_WARNING
def test_wrong_password_is_invalid_grant(emu, msal_kwargs, scope, seeded):
    public = msal.PublicClientApplication(emu["apps"]["public"]["client_id"], **msal_kwargs)
    result = public.acquire_token_by_username_password(ORGANIZER_UPN, "wrong", scopes=scope)
    assert_aad_error(result, "invalid_grant", 50126)


@pytest.mark.parametrize("which", ["system", "user"])
def test_managed_identity(emu, session, monkeypatch, which):
    mi = emu["managed_identity"]
    monkeypatch.setenv("IDENTITY_ENDPOINT", mi["endpoint"])
    monkeypatch.setenv("IDENTITY_HEADER", mi["header"])
    identity = msal.SystemAssignedManagedIdentity() if which == "system" else msal.UserAssignedManagedIdentity(client_id=mi["user_assigned_client_id"])
    client = msal.ManagedIdentityClient(identity, http_client=session)
    result = client.acquire_token_for_client(resource=emu["graph_endpoint"])
    assert "access_token" in result, result
    claims = claims_of(result["access_token"])
    assert claims["appid"] == mi["system_client_id" if which == "system" else "user_assigned_client_id"]
    assert claims["aud"] == emu["graph_endpoint"] and "Calendars.ReadWrite" in claims["roles"]


def test_managed_identity_requires_identity_header(emu, session):
    resp = session.get(emu["managed_identity"]["endpoint"], params={"api-version": "2019-08-01", "resource": emu["graph_endpoint"]},
                       timeout=30)
    assert resp.status_code == 401


def test_discovery_and_unknown_tenant(emu, session):
    conf = session.get("%s/%s/v2.0/.well-known/openid-configuration" % (emu["authority_host"], emu["tenant_id"]), timeout=30).json()
    assert conf["token_endpoint"] == "%s/%s/oauth2/v2.0/token" % (emu["authority_host"], emu["tenant_id"])
    assert conf["authorization_endpoint"] and conf["issuer"]
    resp = session.post("%s/%s/oauth2/v2.0/token" % (emu["authority_host"], uuid.uuid4()), data={"grant_type": "client_credentials"},
                        timeout=30)
    assert resp.status_code == 400 and resp.json()["error"] == "invalid_tenant"


@ROPC_WARNING
def test_token_requests_record_no_secret(emu, msal_kwargs, scope, seeded):
    confidential(emu.conn, msal_kwargs, "secret", emu["apps"]["secret"]["client_secret"]).acquire_token_for_client(scope)
    msal.PublicClientApplication(emu["apps"]["public"]["client_id"], **msal_kwargs).acquire_token_by_username_password(
        ORGANIZER_UPN, ORGANIZER_PASSWORD, scopes=scope)
    records = emu.token_requests()
    assert [r["grant_type"] for r in records] == ["client_credentials", "password"]
    text = json.dumps(records)
    for secret in (emu["apps"]["secret"]["client_secret"], ORGANIZER_PASSWORD, "eyJ"):
        assert secret not in text
    assert set(records[0]) == {"seq", "ts", "grant_type", "client_id", "status", "error"}
