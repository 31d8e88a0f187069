# Copyright (c) graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Credentials: one small class per auth method, each with a network-free validate() and a
get_token(), after community.hashi_vault's auth classes. MSAL is imported only when a token is
actually needed (access_token never imports it), to keep module start-up lean.

Tokens are cached with msal.SerializableTokenCache in one file per credential (_token_cache.py),
so a play with many tasks asks for a token once, and two tenants, apps, users, clouds or secrets
never share a cache. MSAL talks through the module run's one requests session (_graph_session.py).
"""

from __future__ import annotations

import threading

from urllib.parse import urlsplit

from ansible_collections.graphops.msgraph.plugins.module_utils._certificates import load_certificate_credential
from ansible_collections.graphops.msgraph.plugins.module_utils._azure_cli import AzureCliCredentialMixin
from ansible_collections.graphops.msgraph.plugins.module_utils._clouds import resolve_cloud
from ansible_collections.graphops.msgraph.plugins.module_utils._credential_sources import (
    check_required,
    from_params,
    select_auth_method,
)
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_errors import AuthenticationError, ConfigurationError, redact, register_secret
from ansible_collections.graphops.msgraph.plugins.module_utils._permissions import token_claims
from ansible_collections.graphops.msgraph.plugins.module_utils._token_cache import (
    TokenCacheFile,
    cache_folder,
    find_access_token,
    remove_access_token,
)

_SECRET_OPTIONS = ("client_secret", "client_certificate_password", "password", "access_token")


# ---------------------------------------------------------------------------- credentials

class _Credential:
    """Base: validate() checks options without network; get_token() returns a bearer token."""

    method = None
    delegated = False

    def __init__(self, params, cloud, verify=True, timeout=None, user_agent=None, session=None, sources=None):
        self.params = params
        self.sources = sources or from_params(params)
        self.cloud = cloud
        self.verify = verify
        self.timeout = timeout
        self.user_agent = user_agent
        self._session = session
        self._lock = threading.Lock()
        self._cache_file = None
        self._cache = None          # the msal token cache, loaded on the first get_token()
        self.token_requests = 0     # times an MSAL application or client was asked
        self._fast_disabled = False  # after invalidate(): MSAL decides, no cache shortcut

    def __repr__(self):
        return "<{0} method={1} cloud={2}>".format(type(self).__name__, self.method, self.cloud.name)

    def validate(self):
        check_required(self.method, self.params, self.sources)

    def check_cache(self):
        """Make the token cache folder usable now, before any request (ConfigurationError otherwise)."""
        folder = cache_folder(self.params)
        if folder is not None:
            self._cache_file = TokenCacheFile(folder, self._cache_key(), self._cache_secret())
            self._cache_file.check()

    def is_delegated(self):
        return self.delegated

    def _session_for_msal(self):
        if self._session is None:
            from ansible_collections.graphops.msgraph.plugins.module_utils._graph_session import new_session
            self._session = new_session(self.verify, self.timeout, self.user_agent, self.cloud.authority_host)
        return self._session

    def _token_cache(self, msal):
        """The msal cache: from this credential's file, or in memory only (still ours, so invalidate() works)."""
        if self._cache is None:
            self._cache = self._cache_file.load(msal) if self._cache_file is not None else msal.TokenCache()
        return self._cache

    def _cache_key(self):
        return (self.cloud.name, self.cloud.authority_host, self.params.get("tenant_id"), self.params.get("client_id"),
                self.params.get("username"), self.method)

    def _cache_secret(self):
        """What proves this credential (secret, thumbprint, ...): part of the cache file's name."""
        return None

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
            msal = _import_msal()
            remove_access_token(self._token_cache(msal), msal, token)
            self._persist()

    def _acquire(self):
        raise NotImplementedError


def _transport_auth_error(exc, method):
    """MSAL raises requests' exceptions (and ValueError) on transport trouble: name the kind, never a secret."""
    from ansible_collections.graphops.msgraph.plugins.module_utils._graph_session import transport_failure
    failure = transport_failure(exc)
    return AuthenticationError(failure.kind if failure else "msal_error", redact("{0}: {1}".format(type(exc).__name__, exc)),
                               method=method)


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
            kwargs = dict(
                authority=self.cloud.authority(self.params["tenant_id"]),
                token_cache=self._token_cache(msal),
                http_client=self._session_for_msal(),
                instance_discovery=self._instance_discovery(msal),
                app_name="graphops.msgraph",
            )
            cls = getattr(msal, self.app_class)
            if self.app_class == "ConfidentialClientApplication":
                kwargs["client_credential"] = self._client_credential()
            try:
                self._app = cls(self.params["client_id"], **kwargs)
            except ValueError as exc:
                # MSAL's answer to a tenant the authority does not know (its OpenID configuration is
                # refused): "Unable to get authority configuration for ...". Say which option that is.
                if "authority" not in str(exc).lower():
                    raise
                raise AuthenticationError("invalid_tenant", "{0} {1!r} is not a tenant {2} knows: check the directory "
                                          "(tenant) id or verified domain name".format(
                                              self.sources.named("tenant_id"), self.params["tenant_id"],
                                              self.cloud.authority_host), method=self.method)
        return self._app

    def _acquire(self):
        msal = _import_msal()
        if self._app is None and not self._fast_disabled:
            # Building the application fetches the tenant's OpenID configuration: a token already in
            # this credential's cache (the search acquire_token_for_client makes first) needs none.
            # MSAL files a token under the authority's host name, without a port (its "environment").
            token = find_access_token(self._token_cache(msal), msal, self.params["client_id"],
                                      urlsplit(self.cloud.authority_host).hostname, self.cloud.scope)
            if token is not None:
                register_secret(token)
                return token
        app = self._application(msal)
        self.token_requests += 1
        return self._result_token(app.acquire_token_for_client(scopes=[self.cloud.scope]))


class ClientSecretCredential(_MsalAppCredential):
    method = "client_secret"

    def _client_credential(self):
        return self.params["client_secret"]

    def _cache_secret(self):
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

    def _cache_secret(self):
        return self._client_credential()["thumbprint"]


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

    def _cache_secret(self):
        # The assertion in the file rotates; the file itself is what identifies this credential.
        return self.params["federated_token_file"]


class PasswordCredential(_MsalAppCredential):
    """Resource owner password grant with a public client app; refreshed from the cache afterwards."""

    method = "password"
    delegated = True
    app_class = "PublicClientApplication"

    def _cache_secret(self):
        return self.params["password"]

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

    def _acquire(self):
        msal = _import_msal()
        if self._client is None:
            client_id = self.params.get("client_id")
            identity = (msal.UserAssignedManagedIdentity(client_id=client_id) if client_id
                        else msal.SystemAssignedManagedIdentity())
            self._client = msal.ManagedIdentityClient(identity, http_client=self._session_for_msal(),
                                                      token_cache=self._token_cache(msal))
        self.token_requests += 1
        # Managed identity speaks "resource", not scopes: the Graph endpoint itself.
        try:
            return self._result_token(self._client.acquire_token_for_client(resource=self.cloud.graph_endpoint))
        except ConfigurationError:
            raise
        except Exception as exc:  # MSAL's answer, or its transport trouble
            error = exc if isinstance(exc, AuthenticationError) else _transport_auth_error(exc, self.method)
            origin = self.sources.origins.get("client_id", "")
            if self.params.get("client_id") and not origin.startswith("option "):
                # AKS and AWX leave AZURE_CLIENT_ID set for other tools; here it selects a user-assigned identity.
                error.error_description = "{0} was taken as the client id of a user-assigned managed identity; unset it " \
                    "for the system-assigned identity. {1}".format(origin, error.error_description or "")
            raise error


class AccessTokenCredential(_Credential):
    """A token obtained elsewhere, used as is: no token request, no MSAL import, nothing cached."""

    method = "access_token"

    def validate(self):
        super().validate()
        token = self.params["access_token"]
        register_secret(token)
        if token.lower().startswith("bearer "):
            raise ConfigurationError("access_token must be the token alone, without 'Bearer '", option="access_token")

    def check_cache(self):
        return None  # a token given as is is never cached

    def is_delegated(self):
        return "scp" in (token_claims(self.params["access_token"]) or {})

    def _acquire(self):
        return self.params["access_token"]

    def get_token(self):
        return self.params["access_token"]

    def invalidate(self, token):
        # Nothing to refresh from: the next 401 is reported as it is.
        return None


class AzureCliCredential(AzureCliCredentialMixin, _Credential):
    """auth_source=cli: the Azure CLI's login (az account get-access-token), see _azure_cli.py."""


_CLASSES = {
    "azure_cli": AzureCliCredential,
    "client_secret": ClientSecretCredential,
    "certificate": CertificateCredential,
    "federated": FederatedCredential,
    "password": PasswordCredential,
    "managed_identity": ManagedIdentityCredential,
    "access_token": AccessTokenCredential,
}


def build_credential(params, cloud=None, verify=True, timeout=None, user_agent=None, session=None, sources=None):
    """Pick (auth_method auto or explicit) and validate a credential; raises ConfigurationError, sends nothing.

    params: dict with the common option names (see plugins/doc_fragments/graph.py), already completed from the
    environment (_credential_sources.resolve); sources says where each value came from, for messages.
    """
    for name in _SECRET_OPTIONS:
        register_secret(params.get(name))
    if cloud is None:
        cloud = resolve_cloud(params.get("cloud"), params.get("graph_endpoint"), params.get("authority_host"),
                              origins=(sources.origins if sources else None))
    sources = sources or from_params(params)
    method = select_auth_method(params, sources)
    credential = _CLASSES[method](params, cloud, verify=verify, timeout=timeout, user_agent=user_agent, session=session,
                                  sources=sources)
    credential.validate()
    credential.check_cache()
    return credential
