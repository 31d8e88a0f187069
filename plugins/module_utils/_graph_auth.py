# Copyright (c) graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Credentials: one small class per auth method, each with a network-free validate() and a
get_token(), after community.hashi_vault's auth classes. MSAL is imported only when a token is
actually needed (access_token never imports it), to keep module start-up lean.

Tokens are cached with msal.SerializableTokenCache in one file per (cloud, authority, tenant,
client, user, method), 0600 in a 0700 folder, so a play with many tasks asks for a token once and
two tenants, apps, users or clouds never share a cache.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import tempfile
import threading
import time

from ansible_collections.graphops.msgraph.plugins.module_utils._clouds import resolve_cloud
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_errors import AuthenticationError, ConfigurationError, redact, register_secret

AUTH_METHODS = ("client_secret", "certificate", "federated", "managed_identity", "password", "access_token")
TOKEN_CACHE_ENV = "MSGRAPH_TOKEN_CACHE"

# What each method needs ({option: why}); auto picks the one whose own credential is given.
_REQUIRED = {
    "client_secret": ("tenant_id", "client_id", "client_secret"),
    "certificate": ("tenant_id", "client_id", "client_certificate_path"),
    "federated": ("tenant_id", "client_id", "federated_token_file"),
    "password": ("tenant_id", "client_id", "username", "password"),
    "access_token": ("access_token",),
    "managed_identity": (),
}
# The option that gives each method away when auth_method is auto.
_MARKERS = (
    ("access_token", ("access_token",)),
    ("client_secret", ("client_secret",)),
    ("certificate", ("client_certificate_path",)),
    ("federated", ("federated_token_file",)),
    ("password", ("username", "password")),
)
_SECRET_OPTIONS = ("client_secret", "client_certificate_password", "password", "access_token")


def _given(params, name):
    value = params.get(name)
    return value is not None and value != ""


def select_auth_method(params):
    """Return the auth method for params (auth_method auto or explicit), or raise ConfigurationError."""
    method = params.get("auth_method") or "auto"
    if method != "auto":
        if method not in AUTH_METHODS:
            raise ConfigurationError("auth_method must be auto or one of {0}".format(", ".join(AUTH_METHODS)),
                                     option="auth_method")
        return method
    found = [(m, [o for o in opts if _given(params, o)]) for m, opts in _MARKERS]
    found = [(m, given) for m, given in found if given]
    if not found:
        raise ConfigurationError(
            "no credentials given: set access_token, client_secret, client_certificate_path, federated_token_file "
            "or username and password (with tenant_id and client_id), or auth_method=managed_identity",
            option="auth_method")
    if len(found) > 1:
        options = ", ".join(o for _m, given in found for o in given)
        methods = ", ".join(m for m, _g in found)
        raise ConfigurationError(
            "auth_method=auto is ambiguous: {0} are all set (maybe from AZURE_* environment variables); "
            "set auth_method to one of {1}".format(options, methods),
            option="auth_method")
    return found[0][0]


def check_required(method, params):
    missing = [o for o in _REQUIRED[method] if not _given(params, o)]
    if missing:
        raise ConfigurationError("auth_method={0} needs {1}".format(method, " and ".join(missing)), option=missing[0])


def _jwt_claims(token):
    """Decode a JWT payload without verifying it (only to tell delegated from app-only tokens)."""
    try:
        payload = token.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")).decode("utf-8"))
        return claims if isinstance(claims, dict) else {}
    except (IndexError, ValueError, UnicodeError, binascii.Error):
        return {}


# ---------------------------------------------------------------------------- token cache

def default_token_cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "graphops.msgraph", "tokens")


class TokenCacheFile:
    """One msal.SerializableTokenCache persisted atomically to <folder>/<sha256 of the key>.json."""

    def __init__(self, folder, key_parts):
        self.folder = folder
        digest = hashlib.sha256("|".join(p or "" for p in key_parts).encode("utf-8")).hexdigest()
        self.path = os.path.join(folder, digest + ".json")
        self.cache = None
        self._lock = threading.Lock()

    def load(self, msal):
        self.cache = msal.SerializableTokenCache()
        try:
            with open(self.path, "r") as handle:
                self.cache.deserialize(handle.read())
        except (OSError, ValueError):
            # Missing or unreadable/corrupt: start empty, the next save replaces it.
            self.cache = msal.SerializableTokenCache()
        return self.cache

    def _ensure_folder(self):
        if not os.path.isdir(self.folder):
            os.makedirs(self.folder, mode=0o700)
            os.chmod(self.folder, 0o700)  # makedirs' mode is filtered by the umask

    def save(self):
        if self.cache is None or not self.cache.has_state_changed:
            return
        with self._lock:
            try:
                self._ensure_folder()
                fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=self.folder)  # created 0600
                try:
                    with os.fdopen(fd, "w") as handle:
                        handle.write(self.cache.serialize())
                    os.chmod(tmp, 0o600)
                    os.replace(tmp, self.path)  # atomic: a parallel task never reads half a file
                except BaseException:
                    if os.path.exists(tmp):
                        os.unlink(tmp)
                    raise
                self.cache.has_state_changed = False
            except OSError as exc:
                raise ConfigurationError("token_cache_path: can not write {0}: {1}".format(self.folder, exc.strerror),
                                         option="token_cache_path")


# ---------------------------------------------------------------------------- credentials

class _Credential:
    """Base: validate() checks options without network; get_token() returns a bearer token."""

    method = None
    delegated = False

    def __init__(self, params, cloud, verify=True, timeout=None, user_agent=None, session=None):
        self.params = params
        self.cloud = cloud
        self.verify = verify
        self.timeout = timeout
        self.user_agent = user_agent
        self._session = session
        self._lock = threading.Lock()
        self._cache_file = None
        self.token_requests = 0   # times MSAL was asked (cache hits included)
        self._fast_used = False   # a token was taken from the cache file without MSAL
        self._fast_disabled = False

    def __repr__(self):
        return "<{0} method={1} cloud={2}>".format(type(self).__name__, self.method, self.cloud.name)

    def validate(self):
        check_required(self.method, self.params)

    def is_delegated(self):
        return self.delegated

    def _session_for_msal(self):
        if self._session is None:
            from ansible_collections.graphops.msgraph.plugins.module_utils._graph_requests import new_session
            self._session = new_session(self.verify, self.timeout, self.user_agent)
        return self._session

    def _cache_folder(self):
        path = self.params.get("token_cache_path")
        if path == "":
            return None
        if path is None:
            path = os.environ.get(TOKEN_CACHE_ENV)
            if path == "":
                return None
        return os.path.expanduser(path) if path else default_token_cache_dir()

    def _token_cache(self, msal):
        folder = self._cache_folder()
        if folder is None:
            # Memory only, but ours, so invalidate() can still drop a token Graph refused.
            return msal.TokenCache()
        self._cache_file = TokenCacheFile(folder, self._cache_key())
        return self._cache_file.load(msal)

    def _cache_key(self):
        return (self.cloud.name, self.cloud.authority_host, self.params.get("tenant_id"), self.params.get("client_id"),
                self.params.get("username"), self.method)

    def _persist(self):
        if self._cache_file is not None:
            self._cache_file.save()

    def _result_token(self, result):
        if not isinstance(result, dict) or not result.get("access_token"):
            raise AuthenticationError.from_msal(result if isinstance(result, dict) else {}, method=self.method)
        token = result["access_token"]
        register_secret(token)
        return token

    def get_token(self):
        with self._lock:
            try:
                token = self._acquire()
            except (AuthenticationError, ConfigurationError):
                raise
            except Exception as exc:  # MSAL raises ValueError and requests errors on transport trouble
                raise _transport_auth_error(exc, self.method)
            self._persist()
            return token

    def invalidate(self, token):
        """Forget token (Graph said it is invalid) so the next get_token() asks the identity platform again."""
        with self._lock:
            self._fast_disabled = True
            cache = self._msal_cache()
            if cache is None and self._fast_used:
                # The token came from the cache file without MSAL: open the file with MSAL to drop it.
                cache = self._token_cache(_import_msal())
            if cache is None:
                return
            import msal
            for item in list(cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN)):
                if item.get("secret") == token:
                    cache.remove_at(item)
            self._persist()

    def _msal_cache(self):
        return None

    def _acquire(self):
        raise NotImplementedError


def _transport_auth_error(exc, method):
    name = type(exc).__name__
    error = "tls_error" if "SSL" in name else ("connection_error" if "Connection" in name or "Timeout" in name else "msal_error")
    return AuthenticationError(error, redact("{0}: {1}".format(name, exc)), method=method)


def _import_msal():
    try:
        import msal  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise ConfigurationError("the Python library 'msal' is required for auth_method other than access_token",
                                 option="auth_method")
    return msal


class _MsalAppCredential(_Credential):
    """Shared by the methods that go through an MSAL ClientApplication."""

    app_class = "ConfidentialClientApplication"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._app = None
        self._cache = None

    def _msal_cache(self):
        return self._cache

    def _client_credential(self):
        raise NotImplementedError

    def _instance_discovery(self, msal):
        """MSAL validates an authority through login.microsoftonline.com unless it knows the host.

        For the public Microsoft hosts keep MSAL's standard behaviour; for anything else (an
        authority_host override, a sovereign or test host) there is nothing Microsoft's discovery
        could confirm, so turn it off (NOTES, "MSAL against a local https server").
        """
        known = getattr(getattr(msal, "authority", None), "WELL_KNOWN_AUTHORITY_HOSTS", frozenset())
        host = self.cloud.authority_host.split("://", 1)[1].lower()
        return None if host in known else False

    def _application(self, msal):
        if self._app is None:
            self._cache = self._token_cache(msal)
            kwargs = dict(
                authority=self.cloud.authority(self.params["tenant_id"]),
                token_cache=self._cache,
                http_client=self._session_for_msal(),
                instance_discovery=self._instance_discovery(msal),
                app_name="graphops.msgraph",
            )
            cls = getattr(msal, self.app_class)
            if self.app_class == "ConfidentialClientApplication":
                kwargs["client_credential"] = self._client_credential()
            self._app = cls(self.params["client_id"], **kwargs)
        return self._app

    def _acquire(self):
        token = self._cached_app_token()
        if token is not None:
            return token
        msal = _import_msal()
        app = self._application(msal)
        self.token_requests += 1
        return self._result_token(app.acquire_token_for_client(scopes=[self.cloud.scope]))

    def _cached_app_token(self):
        """An app token still valid for 5 minutes or more, read from our cache file without MSAL.

        Importing MSAL and building its application (which fetches the tenant's OpenID
        configuration) costs a module run more than the Graph request itself. The file is MSAL's
        serialized cache (the unified schema every MSAL library shares): this takes an AccessToken
        entry of this app, tenant and scope exactly as acquire_token_for_client() would, and leaves
        everything else (refresh, a token due for refresh, any doubt about the file) to MSAL.
        """
        folder = self._cache_folder()
        if self._fast_disabled or folder is None or self._app is not None:
            return None
        try:
            with open(TokenCacheFile(folder, self._cache_key()).path, "r") as handle:
                entries = json.load(handle).get("AccessToken") or {}
            now = time.time()
            tenant = (self.params.get("tenant_id") or "").lower()
            for entry in entries.values():
                if entry.get("credential_type") != "AccessToken" or entry.get("client_id") != self.params.get("client_id"):
                    continue
                if (entry.get("realm") or "").lower() != tenant or self.cloud.scope.lower() not in (entry.get("target") or "").lower().split():
                    continue
                if int(entry.get("expires_on", 0)) - now < 300 or now >= int(entry.get("refresh_on") or now + 1):
                    continue
                token = entry.get("secret")
                if token:
                    register_secret(token)
                    self._fast_used = True
                    return token
        except (OSError, ValueError, TypeError, AttributeError):
            return None
        return None


class ClientSecretCredential(_MsalAppCredential):
    method = "client_secret"

    def _client_credential(self):
        return self.params["client_secret"]


class CertificateCredential(_MsalAppCredential):
    """PEM (certificate and key in one file) or PKCS#12, decrypted here so a wrong password fails
    in validate(), before anything is sent. The assertion is RS256 with the SHA-1 thumbprint (x5t),
    which Entra ID accepts for every certificate credential."""

    method = "certificate"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._credential = None

    def validate(self):
        super().validate()
        self._credential = load_certificate_credential(self.params["client_certificate_path"],
                                                       self.params.get("client_certificate_password"))

    def _client_credential(self):
        if self._credential is None:
            self.validate()
        return self._credential


def load_certificate_credential(path, password=None):
    """Return MSAL's client_credential dict {private_key, thumbprint} from a PEM or PKCS#12 file."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise ConfigurationError("client_certificate_path: can not read {0}: {1}".format(path, exc.strerror),
                                 option="client_certificate_path")
    try:
        # cryptography comes with msal; imported here so other methods never pay for it.
        from cryptography import x509  # pylint: disable=import-outside-toplevel
        from cryptography.hazmat.primitives import hashes, serialization  # pylint: disable=import-outside-toplevel
        from cryptography.hazmat.primitives.serialization import pkcs12  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise ConfigurationError("the Python library 'cryptography' is required for auth_method=certificate",
                                 option="client_certificate_path")
    pw = password.encode("utf-8") if password else None
    if b"-----BEGIN" in data:
        certs = x509.load_pem_x509_certificates(data) if b"CERTIFICATE-----" in data else []
        if not certs:
            raise ConfigurationError("client_certificate_path: {0} holds no PEM certificate".format(path),
                                     option="client_certificate_path")
        if b"PRIVATE KEY-----" not in data:
            raise ConfigurationError("client_certificate_path: {0} holds no private key (put the key in the same file)"
                                     .format(path), option="client_certificate_path")
        try:
            key = serialization.load_pem_private_key(data, password=pw)
        except TypeError:
            raise ConfigurationError("client_certificate_password is required: the key in {0} is encrypted".format(path)
                                     if pw is None else
                                     "client_certificate_password is given but the key in {0} is not encrypted".format(path),
                                     option="client_certificate_password")
        except ValueError:
            raise ConfigurationError("client_certificate_password is wrong, or the key in {0} is not readable".format(path),
                                     option="client_certificate_password")
        cert = certs[0]
    else:
        try:
            key, cert, _extra = pkcs12.load_key_and_certificates(data, pw)
        except ValueError:
            raise ConfigurationError("client_certificate_password is wrong, or {0} is not a PEM or PKCS#12 file".format(path),
                                     option="client_certificate_password")
        if key is None or cert is None:
            raise ConfigurationError("client_certificate_path: {0} must hold both the certificate and its key".format(path),
                                     option="client_certificate_path")
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode("ascii")
    return {"private_key": key_pem, "thumbprint": cert.fingerprint(hashes.SHA1()).hex().upper()}  # nosec: x5t is SHA-1 by spec


class FederatedCredential(_MsalAppCredential):
    """Workload identity federation: the assertion is read from the file on every acquisition,
    because the platform (Kubernetes, GitHub Actions) rotates that file underneath us."""

    method = "federated"

    def validate(self):
        super().validate()
        self._read_assertion()

    def _read_assertion(self):
        path = self.params["federated_token_file"]
        try:
            with open(path, "r") as handle:
                assertion = handle.read().strip()
        except (OSError, UnicodeError) as exc:
            raise ConfigurationError("federated_token_file: can not read {0}: {1}".format(path, exc),
                                     option="federated_token_file")
        if not assertion:
            raise ConfigurationError("federated_token_file: {0} is empty".format(path), option="federated_token_file")
        register_secret(assertion)
        return assertion

    def _client_credential(self):
        return {"client_assertion": self._read_assertion}


class PasswordCredential(_MsalAppCredential):
    """Resource owner password grant with a public client app; refreshed from the cache afterwards."""

    method = "password"
    delegated = True
    app_class = "PublicClientApplication"

    def _acquire(self):
        msal = _import_msal()
        app = self._application(msal)
        self.token_requests += 1
        scopes = [self.cloud.scope]
        for account in app.get_accounts(username=self.params["username"]):
            # Entra answers a ".default" request with the scopes it granted, and MSAL files the token
            # under those, so a lookup for ".default" misses it and spends the refresh token. Ask
            # for the granted scopes first (still through MSAL's expiry checks), then ".default".
            for candidate in self._granted_scopes(msal, account) + [scopes]:
                result = app.acquire_token_silent(candidate, account=account)
                if result and result.get("access_token"):
                    return self._result_token(result)
        return self._result_token(app.acquire_token_by_username_password(
            self.params["username"], self.params["password"], scopes=scopes))

    def _granted_scopes(self, msal, account):
        prefix = self.cloud.graph_endpoint.lower() + "/"
        found = []
        for item in self._cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN, query={
                "client_id": self.params["client_id"], "home_account_id": account.get("home_account_id")}):
            target = (item.get("target") or "").split()
            if target and all(t.lower().startswith(prefix) for t in target) and target not in found:
                found.append(target)
        return found


class ManagedIdentityCredential(_Credential):
    """Azure managed identity through msal.ManagedIdentityClient (system- or user-assigned)."""

    method = "managed_identity"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._client = None
        self._cache = None

    def _msal_cache(self):
        return self._cache

    def _acquire(self):
        msal = _import_msal()
        if self._client is None:
            client_id = self.params.get("client_id")
            identity = (msal.UserAssignedManagedIdentity(client_id=client_id) if client_id
                        else msal.SystemAssignedManagedIdentity())
            self._cache = self._token_cache(msal)
            kwargs = {"http_client": self._session_for_msal()}
            if self._cache is not None:
                kwargs["token_cache"] = self._cache
            self._client = msal.ManagedIdentityClient(identity, **kwargs)
        self.token_requests += 1
        # Managed identity speaks "resource", not scopes: the Graph endpoint itself.
        return self._result_token(self._client.acquire_token_for_client(resource=self.cloud.graph_endpoint))


class AccessTokenCredential(_Credential):
    """A token obtained elsewhere, used as is: no token request, no MSAL import, nothing cached."""

    method = "access_token"

    def validate(self):
        super().validate()
        token = self.params["access_token"]
        register_secret(token)
        if token.lower().startswith("bearer "):
            raise ConfigurationError("access_token must be the token alone, without 'Bearer '", option="access_token")

    def is_delegated(self):
        return "scp" in _jwt_claims(self.params["access_token"])

    def _acquire(self):
        return self.params["access_token"]

    def get_token(self):
        return self.params["access_token"]

    def invalidate(self, token):
        # Nothing to refresh from: the next 401 is reported as it is.
        return None


_CLASSES = {
    "client_secret": ClientSecretCredential,
    "certificate": CertificateCredential,
    "federated": FederatedCredential,
    "password": PasswordCredential,
    "managed_identity": ManagedIdentityCredential,
    "access_token": AccessTokenCredential,
}


def build_credential(params, cloud=None, verify=True, timeout=None, user_agent=None, session=None):
    """Pick (auth_method auto or explicit) and validate a credential; raises ConfigurationError, sends nothing.

    params: dict with the common option names (see plugins/doc_fragments/graph.py).
    """
    for name in _SECRET_OPTIONS:
        register_secret(params.get(name))
    if cloud is None:
        cloud = resolve_cloud(params.get("cloud"), params.get("graph_endpoint"), params.get("authority_host"))
    method = select_auth_method(params)
    credential = _CLASSES[method](params, cloud, verify=verify, timeout=timeout, user_agent=user_agent, session=session)
    credential.validate()
    return credential
