# Copyright (c) graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Credentials: auto selection, certificates, MSAL through scripted HTTP, token cache files."""

import base64
import datetime
import json
import os
import stat
import time
from urllib.parse import parse_qs

import pytest

from ansible_collections.graphops.msgraph.plugins.module_utils._clouds import resolve_cloud
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_auth import (
    build_credential, load_certificate_credential, select_auth_method)
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_session import new_session
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_errors import AuthenticationError, ConfigurationError

from .conftest import ScriptedAdapter  # pylint: disable=relative-beyond-top-level

SECRET = "client-secret-value-0123"


def _params(**kw):
    base = dict(auth_method="auto", tenant_id=None, client_id=None, client_secret=None, client_certificate_path=None,
                client_certificate_password=None, federated_token_file=None, username=None, password=None,
                access_token=None, cloud="global", graph_endpoint=None, authority_host=None, token_cache_path="")
    base.update(kw)
    return base


@pytest.mark.parametrize("given,expected", [
    (dict(client_secret="s"), "client_secret"),
    (dict(client_certificate_path="/c.pem"), "certificate"),
    (dict(federated_token_file="/f"), "federated"),
    (dict(username="u", password="p"), "password"),
    (dict(access_token="t"), "access_token"),
    (dict(username="u"), "password"),
    (dict(password="p"), "password"),
    (dict(auth_method="managed_identity", client_secret="s"), "managed_identity"),
    (dict(auth_method="client_secret", access_token="t"), "client_secret"),
    (dict(client_secret="", access_token="t"), "access_token"),
])
def test_auto_selection(given, expected):
    assert select_auth_method(_params(**given)) == expected


@pytest.mark.parametrize("given,names", [
    (dict(client_secret="s", access_token="t"), ["client_secret", "access_token"]),
    (dict(client_secret="s", client_certificate_path="/c"), ["client_secret", "client_certificate_path"]),
    (dict(federated_token_file="/f", username="u", password="p"), ["federated_token_file", "username", "password"]),
])
def test_auto_ambiguous_names_options(given, names):
    with pytest.raises(ConfigurationError) as err:
        select_auth_method(_params(**given))
    assert err.value.option == "auth_method"
    for name in names:
        assert name in str(err.value)
    assert "s" != str(err.value)


def test_auto_nothing_given():
    with pytest.raises(ConfigurationError) as err:
        select_auth_method(_params(tenant_id="t", client_id="c"))
    assert "managed_identity" in str(err.value)


@pytest.mark.parametrize("given,missing", [
    (dict(client_secret="s", client_id="c"), "tenant_id"),
    (dict(client_secret="s", tenant_id="t"), "client_id"),
    (dict(username="u", tenant_id="t", client_id="c"), "password"),
    (dict(auth_method="client_secret", tenant_id="t", client_id="c"), "client_secret"),
])
def test_incomplete_names_missing_option(given, missing):
    with pytest.raises(ConfigurationError) as err:
        build_credential(_params(**given))
    assert err.value.option == missing and missing in str(err.value)


def test_secret_never_in_configuration_error():
    with pytest.raises(ConfigurationError) as err:
        build_credential(_params(client_secret=SECRET, client_id="c"))
    assert SECRET not in str(err.value) + repr(err.value)


# ------------------------------------------------------------------ certificates

@pytest.fixture(scope="module")
def cert_files(tmp_path_factory):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID

    folder = tmp_path_factory.mktemp("certs")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "graphops-test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    plain = folder / "plain.pem"
    plain.write_bytes(cert_pem + key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                   serialization.NoEncryption()))
    encrypted = folder / "encrypted.pem"
    encrypted.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.BestAvailableEncryption(b"pem-pass")) + cert_pem)
    pfx = folder / "cert.pfx"
    pfx.write_bytes(pkcs12.serialize_key_and_certificates(b"x", key, cert, None,
                                                          serialization.BestAvailableEncryption(b"pfx-pass")))
    cert_only = folder / "cert-only.pem"
    cert_only.write_bytes(cert_pem)
    return {"plain": str(plain), "encrypted": str(encrypted), "pfx": str(pfx), "cert_only": str(cert_only),
            "thumbprint": cert.fingerprint(hashes.SHA1()).hex().upper()}


@pytest.mark.parametrize("kind,password", [("plain", None), ("encrypted", "pem-pass"), ("pfx", "pfx-pass")])
def test_certificate_loads(cert_files, kind, password):
    cred = load_certificate_credential(cert_files[kind], password)
    assert cred["thumbprint"] == cert_files["thumbprint"]
    assert "PRIVATE KEY" in cred["private_key"]


@pytest.mark.parametrize("kind,password,option", [
    ("pfx", "wrong", "client_certificate_password"),
    ("pfx", None, "client_certificate_password"),
    ("encrypted", "wrong", "client_certificate_password"),
    ("encrypted", None, "client_certificate_password"),
    ("cert_only", None, "client_certificate_path"),
    ("missing", None, "client_certificate_path"),
])
def test_certificate_errors_name_option_and_send_nothing(cert_files, kind, password, option):
    path = cert_files.get(kind, "/nonexistent/cert.pem")
    session = new_session()
    adapter = ScriptedAdapter(lambda rec: (500, None))
    session.mount("https://", adapter)
    with pytest.raises(ConfigurationError) as err:
        build_credential(_params(tenant_id="t", client_id="c", client_certificate_path=path,
                                 client_certificate_password=password), session=session)
    assert err.value.option == option
    assert adapter.requests == []
    if password:
        assert password not in str(err.value)


# ------------------------------------------------------------------ MSAL over scripted HTTP

class FakeIdentity:
    """Plays the Microsoft identity platform for MSAL (discovery + token endpoint)."""

    def __init__(self, host="https://login.test"):
        self.host = host
        self.token_posts = []
        self.issued = 0

    def __call__(self, rec):
        if rec.method == "GET" and "/.well-known/openid-configuration" in rec.url:
            tenant = rec.url.split("/")[3]
            base = "%s/%s" % (self.host, tenant)
            return 200, {"authorization_endpoint": base + "/oauth2/v2.0/authorize", "token_endpoint": base + "/oauth2/v2.0/token",
                         "issuer": base + "/v2.0"}
        if rec.method == "POST" and rec.url.endswith("/oauth2/v2.0/token"):
            form = dict((k, v[0]) for k, v in parse_qs(rec.raw_body).items())
            self.token_posts.append(form)
            if form.get("client_secret") == "wrong":
                return 401, {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided.",
                             "correlation_id": "corr-9"}
            self.issued += 1
            return 200, {"access_token": "at-%d" % self.issued, "expires_in": 3600, "token_type": "Bearer"}
        return 404, {"error": "not_found"}


def _scripted_session(identity, verify=True):
    session = new_session(verify=verify)
    adapter = ScriptedAdapter(identity)
    session.mount("https://", adapter)
    return session, adapter


def _secret_params(cache, **kw):
    return _params(**dict(dict(tenant_id="tid", client_id="cid", client_secret=SECRET, authority_host="https://login.test",
                               graph_endpoint="https://graph.test", token_cache_path=cache), **kw))


def test_client_secret_token_and_cache(tmp_path):
    cache_dir = str(tmp_path / "cache")
    identity = FakeIdentity()
    session, adapter = _scripted_session(identity, verify="/some/ca.pem")
    cred = build_credential(_secret_params(cache_dir), session=session)
    assert cred.get_token() == "at-1"
    assert cred.get_token() == "at-1"
    [post] = identity.token_posts
    assert post["grant_type"] == "client_credentials" and post["scope"] == "https://graph.test/.default"
    assert post["client_id"] == "cid"
    assert all(r.verify == "/some/ca.pem" for r in adapter.requests)  # ca_path reaches MSAL's requests too
    # The cache: one file, 0600, in a 0700 folder, without the client secret.
    files = os.listdir(cache_dir)
    assert len(files) == 1 and files[0].endswith(".json")
    assert stat.S_IMODE(os.stat(cache_dir).st_mode) == 0o700
    path = os.path.join(cache_dir, files[0])
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path) as handle:
        content = handle.read()
    assert SECRET not in content and "at-1" in content
    # A second task (new credential object) reads the cache: no token request.
    session2, _adapter2 = _scripted_session(identity)
    cred2 = build_credential(_secret_params(cache_dir), session=session2)
    assert cred2.get_token() == "at-1"
    assert len(identity.token_posts) == 1
    # Another tenant, app or cloud never shares the file.
    for other in (dict(tenant_id="tid2"), dict(client_id="cid2"), dict(cloud="usgov")):
        params = _secret_params(cache_dir)
        params.update(other)
        build_credential(params, session=_scripted_session(identity)[0]).get_token()
    assert len(os.listdir(cache_dir)) == 4
    assert len(identity.token_posts) == 4
    # Deleting the cache makes the next task ask again.
    for name in os.listdir(cache_dir):
        os.unlink(os.path.join(cache_dir, name))
    build_credential(_secret_params(cache_dir), session=_scripted_session(identity)[0]).get_token()
    assert len(identity.token_posts) == 5


def test_invalidate_drops_token_from_cache(tmp_path):
    cache_dir = str(tmp_path / "c")
    identity = FakeIdentity()
    cred = build_credential(_secret_params(cache_dir), session=_scripted_session(identity)[0])
    assert cred.get_token() == "at-1"
    cred.invalidate("at-1")
    assert cred.get_token() == "at-2"
    with open(os.path.join(cache_dir, os.listdir(cache_dir)[0])) as handle:
        content = handle.read()
    assert "at-1" not in content and "at-2" in content


@pytest.mark.parametrize("authority_host", ["https://login.test", "https://login.test:8443"])
def test_warm_cache_needs_no_request(tmp_path, authority_host):
    """A second task finds the cached token through the cache's public search(): no HTTP at all
    (not even MSAL's tenant discovery), and no MSAL application is built. MSAL files the token
    under the host name without the port, so an authority on another port finds it too."""
    cache_dir = str(tmp_path / "cache")
    identity = FakeIdentity(host=authority_host)
    build_credential(_secret_params(cache_dir, authority_host=authority_host), session=_scripted_session(identity)[0]).get_token()
    session, adapter = _scripted_session(identity)
    warm = build_credential(_secret_params(cache_dir, authority_host=authority_host), session=session)
    assert warm.get_token() == "at-1"
    assert adapter.requests == [] and warm.token_requests == 0 and len(identity.token_posts) == 1
    # Another scope (cloud), app or tenant finds nothing usable in the file: MSAL asks.
    params = _secret_params(cache_dir, authority_host=authority_host)
    params["client_id"] = "cid2"
    other = build_credential(params, session=_scripted_session(identity)[0])
    assert other.get_token() == "at-2" and other.token_requests == 1


@pytest.mark.parametrize("change", [
    {"expires_on": lambda now: now + 120},       # less than 5 minutes left: MSAL refreshes
    {"refresh_on": lambda now: now - 1},         # MSAL's proactive refresh time has come
    {"target": lambda now: "https://other.test/.default"},
    {"client_id": lambda now: "another-app"},
    {"environment": lambda now: "login.other.test"},
])
def test_warm_cache_leaves_doubtful_tokens_to_msal(tmp_path, change):
    cache_dir = str(tmp_path / "cache")
    identity = FakeIdentity()
    build_credential(_secret_params(cache_dir), session=_scripted_session(identity)[0]).get_token()
    [name] = os.listdir(cache_dir)
    path = os.path.join(cache_dir, name)
    with open(path) as handle:
        data = json.load(handle)
    now = int(time.time())
    for entry in data["AccessToken"].values():
        for key, value in change.items():
            entry[key] = str(value(now))
    with open(path, "w") as handle:
        json.dump(data, handle)
    cred = build_credential(_secret_params(cache_dir), session=_scripted_session(identity)[0])
    cred.get_token()
    assert cred.token_requests == 1


def test_invalidating_a_warm_cache_token_removes_it_from_the_file(tmp_path):
    cache_dir = str(tmp_path / "c")
    identity = FakeIdentity()
    build_credential(_secret_params(cache_dir), session=_scripted_session(identity)[0]).get_token()
    cred = build_credential(_secret_params(cache_dir), session=_scripted_session(identity)[0])
    assert cred.get_token() == "at-1" and cred.token_requests == 0
    cred.invalidate("at-1")
    assert cred.get_token() == "at-2" and cred.token_requests == 1
    with open(os.path.join(cache_dir, os.listdir(cache_dir)[0])) as handle:
        content = handle.read()
    assert "at-1" not in content and "at-2" in content


def _cache_files(folder):
    return sorted(name for name in os.listdir(folder) if not name.startswith("."))


def test_a_wrong_secret_never_uses_the_warm_cache(tmp_path):
    """The cache is keyed by the credential: a typo in a rotated secret fails as Entra fails it."""
    cache_dir = str(tmp_path / "cache")
    identity = FakeIdentity()
    build_credential(_secret_params(cache_dir), session=_scripted_session(identity)[0]).get_token()
    params = _secret_params(cache_dir)
    params["client_secret"] = "wrong"
    session, adapter = _scripted_session(identity)
    with pytest.raises(AuthenticationError) as err:
        build_credential(params, session=session).get_token()
    assert "AADSTS7000215" in str(err.value) and "wrong" not in str(err.value)
    assert identity.token_posts[-1]["client_secret"] == "wrong" and adapter.requests
    assert len(_cache_files(cache_dir)) == 1  # nothing was cached for the wrong secret
    for name in _cache_files(cache_dir):
        assert SECRET not in name and "wrong" not in name


@pytest.mark.parametrize("option, other", [("client_secret", "rotated-secret"), ("tenant_id", "tid2"),
                                           ("client_id", "cid2"), ("cloud", "usgov")])
def test_each_credential_has_its_own_cache_file(tmp_path, option, other):
    cache_dir = str(tmp_path / "cache")
    identity = FakeIdentity()
    build_credential(_secret_params(cache_dir), session=_scripted_session(identity)[0]).get_token()
    params = _secret_params(cache_dir)
    params[option] = other
    assert build_credential(params, session=_scripted_session(identity)[0]).get_token() == "at-2"
    assert len(_cache_files(cache_dir)) == 2


def test_wide_modes_are_narrowed(tmp_path):
    cache_dir = tmp_path / "cache"
    identity = FakeIdentity()
    build_credential(_secret_params(str(cache_dir)), session=_scripted_session(identity)[0]).get_token()
    [name] = _cache_files(cache_dir)
    os.chmod(cache_dir, 0o777)
    os.chmod(cache_dir / name, 0o644)
    cred = build_credential(_secret_params(str(cache_dir)), session=_scripted_session(identity)[0])
    assert stat.S_IMODE(os.stat(cache_dir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(cache_dir / name).st_mode) == 0o600
    assert cred.get_token() == "at-1"


@pytest.mark.parametrize("content", ["[]", "{\"AccessToken\": []}", "{not json", "", "null", "{\"AccessToken\": {\"k\": 1}}"])
def test_a_cache_of_the_wrong_shape_is_rebuilt(tmp_path, content):
    cache_dir = tmp_path / "cache"
    identity = FakeIdentity()
    build_credential(_secret_params(str(cache_dir)), session=_scripted_session(identity)[0]).get_token()
    [name] = _cache_files(cache_dir)
    (cache_dir / name).write_text(content)
    for expected in ("at-2", "at-2"):  # rebuilt once, then used
        assert build_credential(_secret_params(str(cache_dir)), session=_scripted_session(identity)[0]).get_token() == expected
    assert len(identity.token_posts) == 2
    assert "at-2" in (cache_dir / name).read_text()


def test_an_unusable_cache_path_fails_before_any_request(tmp_path):
    regular = tmp_path / "a-file"
    regular.write_text("x")
    identity = FakeIdentity()
    session, adapter = _scripted_session(identity)
    with pytest.raises(ConfigurationError) as err:
        build_credential(_secret_params(str(regular)), session=session)
    assert err.value.option == "token_cache_path" and "is not a folder" in str(err.value)
    with pytest.raises(ConfigurationError) as err:
        build_credential(_secret_params(str(regular / "below")), session=session)
    assert err.value.option == "token_cache_path"
    assert adapter.requests == []


def test_a_folder_of_another_user_is_refused(tmp_path, monkeypatch):
    cache_dir = tmp_path / "theirs"
    cache_dir.mkdir(mode=0o700)
    # As if this process ran as another user than the folder's owner.
    monkeypatch.setattr(os, "geteuid", lambda: os.stat(cache_dir).st_uid + 1)
    session, adapter = _scripted_session(FakeIdentity())
    with pytest.raises(ConfigurationError) as err:
        build_credential(_secret_params(str(cache_dir)), session=session)
    assert err.value.option == "token_cache_path" and "belongs to another user" in str(err.value)
    assert adapter.requests == []


def test_empty_cache_path_disables_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    identity = FakeIdentity()
    build_credential(_secret_params(""), session=_scripted_session(identity)[0]).get_token()
    build_credential(_secret_params(""), session=_scripted_session(identity)[0]).get_token()
    assert len(identity.token_posts) == 2
    assert not (tmp_path / "xdg").exists()


def test_default_cache_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("MSGRAPH_TOKEN_CACHE", raising=False)
    identity = FakeIdentity()
    build_credential(_secret_params(None), session=_scripted_session(identity)[0]).get_token()
    folder = tmp_path / "xdg" / "graphops.msgraph" / "tokens"
    assert len(os.listdir(folder)) == 1
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700


def test_msal_error_becomes_authentication_error():
    identity = FakeIdentity()
    params = _secret_params("")
    params["client_secret"] = "wrong"
    cred = build_credential(params, session=_scripted_session(identity)[0])
    with pytest.raises(AuthenticationError) as err:
        cred.get_token()
    assert err.value.error == "invalid_client" and err.value.correlation_id == "corr-9"
    assert "AADSTS7000215" in str(err.value) and "wrong" not in str(err.value).replace("wrong", "", 0)


def test_certificate_assertion_sent(tmp_path, cert_files):
    identity = FakeIdentity()
    params = _params(tenant_id="tid", client_id="cid", client_certificate_path=cert_files["pfx"],
                     client_certificate_password="pfx-pass", authority_host="https://login.test", token_cache_path="")
    cred = build_credential(params, session=_scripted_session(identity)[0])
    assert cred.get_token() == "at-1"
    form = identity.token_posts[0]
    assert form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    header = json.loads(base64.urlsafe_b64decode(form["client_assertion"].split(".")[0] + "=="))
    assert header["alg"] == "RS256" and "x5t" in header


def test_federated_token_file_read_on_each_acquisition(tmp_path):
    token_file = tmp_path / "fed.jwt"
    token_file.write_text("assertion-one")
    identity = FakeIdentity()
    params = _params(tenant_id="tid", client_id="cid", federated_token_file=str(token_file),
                     authority_host="https://login.test", token_cache_path="")
    cred = build_credential(params, session=_scripted_session(identity)[0])
    cred.get_token()
    token_file.write_text("assertion-two")
    cred.invalidate("at-1")
    cred.get_token()
    assert [p["client_assertion"] for p in identity.token_posts] == ["assertion-one", "assertion-two"]


def test_federated_missing_file():
    with pytest.raises(ConfigurationError) as err:
        build_credential(_params(tenant_id="t", client_id="c", federated_token_file="/nonexistent/jwt"))
    assert err.value.option == "federated_token_file"


def _jwt(claims):
    def enc(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")
    return enc({"alg": "none"}) + "." + enc(claims) + ".sig"


def test_access_token_used_as_is_and_delegation():
    delegated = _jwt({"scp": "Calendars.ReadWrite", "oid": "x"})
    cred = build_credential(_params(access_token=delegated))
    assert cred.get_token() == delegated and cred.is_delegated() is True
    assert build_credential(_params(access_token=_jwt({"roles": ["Bookings.ReadWrite.All"]}))).is_delegated() is False
    assert build_credential(_params(access_token="opaque-token")).is_delegated() is False
    with pytest.raises(ConfigurationError):
        build_credential(_params(access_token="Bearer " + delegated))


def test_delegation_by_method(tmp_path):
    assert build_credential(_params(tenant_id="t", client_id="c", username="u", password="p")).is_delegated() is True
    assert build_credential(_params(tenant_id="t", client_id="c", client_secret="s")).is_delegated() is False
    assert build_credential(_params(auth_method="managed_identity")).is_delegated() is False


def test_instance_discovery_choice():
    cred = build_credential(_params(tenant_id="t", client_id="c", client_secret="s"))
    import msal
    assert cred._instance_discovery(msal) is None  # public Microsoft host: MSAL's standard behaviour
    cred = build_credential(_params(tenant_id="t", client_id="c", client_secret="s", authority_host="https://127.0.0.1:8443"))
    assert cred._instance_discovery(msal) is False
    assert resolve_cloud("china").authority_host.split("//")[1] in msal.authority.WELL_KNOWN_AUTHORITY_HOSTS
