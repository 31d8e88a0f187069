# Copyright (c) graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The persisted token cache: MSAL's own msal.SerializableTokenCache in a file of its own per credential.

* One file per (cloud, authority, tenant, client, user, method) **and credential**: the file name
  is derived from the client secret, certificate thumbprint, federated token file or password too,
  so a wrong or rotated secret never reuses a token another secret obtained (it fails as Entra
  fails it, AADSTS7000215). The secret goes in only through PBKDF2, so a file name does not make
  guessing a weak password cheap.
* 0600 files in a 0700 folder, written atomically (a parallel task never reads half a file). A
  folder or file with wider modes is narrowed; a folder owned by someone else is refused.
* A file that is not MSAL's cache (corrupt, or valid JSON of another shape) is treated as empty
  and replaced at the next save.
* Every check that can fail is made by check(), before any request is sent.
* Tokens are looked up with the cache's public search(), never by reading its file format.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
import threading
import time

from ansible_collections.graphops.msgraph.plugins.module_utils._graph_errors import ConfigurationError

TOKEN_CACHE_ENV = "MSGRAPH_TOKEN_CACHE"
# MSAL itself treats an access token as expired 5 minutes before it is
# (ClientApplication._acquire_token_silent_from_cache_and_possibly_refresh_it).
EXPIRY_MARGIN = 300
_PBKDF2_ROUNDS = 10000


def default_token_cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "graphops.msgraph", "tokens")


def cache_folder(params):
    """The folder of the token cache, or None when caching is off (token_cache_path or MSGRAPH_TOKEN_CACHE set to '')."""
    path = params.get("token_cache_path")
    if path is None:
        path = os.environ.get(TOKEN_CACHE_ENV)
    if path == "":
        return None
    return os.path.expanduser(path) if path else default_token_cache_dir()


def cache_name(key_parts, secret):
    """The file name for a credential: who it is (key_parts) and, through PBKDF2, what proves it (secret)."""
    identity = "|".join(part or "" for part in key_parts).encode("utf-8")
    proof = b""
    if secret:
        proof = hashlib.pbkdf2_hmac("sha256", secret.encode("utf-8"), b"graphops.msgraph|" + identity, _PBKDF2_ROUNDS)
    return hashlib.sha256(identity + b"|" + proof).hexdigest() + ".json"


def _refuse(message):
    return ConfigurationError("token_cache_path: " + message, option="token_cache_path")


def _is_msal_cache(state):
    """MSAL's serialized cache is a JSON object whose values (credential types) are objects of entries."""
    return isinstance(state, dict) and all(isinstance(v, dict) and all(isinstance(e, dict) for e in v.values())
                                           for v in state.values())


class TokenCacheFile:
    """One msal.SerializableTokenCache persisted to <folder>/<cache_name(key_parts, secret)>."""

    def __init__(self, folder, key_parts, secret):
        self.folder = folder
        self.path = os.path.join(folder, cache_name(key_parts, secret))
        self.cache = None
        self._lock = threading.Lock()

    def check(self):
        """Make the folder usable (created 0700, or narrowed to it), or raise ConfigurationError. Sends nothing."""
        folder = self.folder
        if os.path.lexists(folder) and not os.path.isdir(folder):
            raise _refuse("{0} exists and is not a folder".format(folder))
        if not os.path.isdir(folder):
            try:
                os.makedirs(folder, mode=0o700)
            except OSError as exc:
                raise _refuse("can not create the folder {0}: {1}".format(folder, exc.strerror))
        info = os.stat(folder)
        if info.st_uid != os.geteuid():
            raise _refuse("the folder {0} belongs to another user".format(folder))
        try:
            if stat.S_IMODE(info.st_mode) != 0o700:
                os.chmod(folder, 0o700)  # also narrows what makedirs' umask-filtered mode left
            if os.path.exists(self.path) and stat.S_IMODE(os.stat(self.path).st_mode) != 0o600:
                os.chmod(self.path, 0o600)
        except OSError as exc:
            raise _refuse("can not restrict {0} to its owner: {1}".format(folder, exc.strerror))
        if not os.access(folder, os.R_OK | os.W_OK | os.X_OK):
            raise _refuse("the folder {0} is not readable and writable".format(folder))

    def load(self, msal):
        """The cache from the file; empty when the file is missing, unreadable or not MSAL's cache."""
        self.cache = msal.SerializableTokenCache()
        try:
            with open(self.path, "r", encoding="utf-8") as handle:
                state = handle.read()
            if _is_msal_cache(json.loads(state)):
                self.cache.deserialize(state)
        except (OSError, ValueError):
            pass  # replaced by the next save
        return self.cache

    def save(self):
        if self.cache is None or not self.cache.has_state_changed:
            return
        with self._lock:
            try:
                fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=self.folder)  # created 0600
                try:
                    with os.fdopen(fd, "w", encoding="utf-8") as handle:
                        handle.write(self.cache.serialize())
                    os.replace(tmp, self.path)
                except BaseException:
                    if os.path.exists(tmp):
                        os.unlink(tmp)
                    raise
                self.cache.has_state_changed = False
            except OSError as exc:
                raise _refuse("can not write {0}: {1}".format(self.folder, exc.strerror))


def find_access_token(cache, msal, client_id, environment, scope, now=None):
    """An app access token still good for EXPIRY_MARGIN seconds and not due for refresh, or None.

    The same search acquire_token_for_client() makes first, through the cache's public API: the
    caller can then use the token without building an MSAL application, which would fetch the
    tenant's OpenID configuration over the network. The realm is not in the query because MSAL
    files the token under the tenant id from that configuration (a GUID even for a domain name),
    and the file is this tenant's alone anyway (its name includes tenant_id).
    """
    now = time.time() if now is None else now
    query = {"client_id": client_id, "environment": environment, "home_account_id": None}
    for entry in cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN, target=[scope], query=query):
        try:
            if int(entry["expires_on"]) - now < EXPIRY_MARGIN or int(entry.get("refresh_on") or now + 1) <= now:
                continue
        except (KeyError, TypeError, ValueError):
            continue
        if entry.get("secret"):
            return entry["secret"]
    return None


def remove_access_token(cache, msal, token):
    """Drop every cached access token equal to token (Graph refused it)."""
    for entry in list(cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN)):
        if entry.get("secret") == token:
            cache.remove_at(entry)
