# Copyright (c) graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Where each connection value comes from: task options, then azure-identity's environment variables,
then azure.azcollection's (which AWX's "Microsoft Azure Resource Manager" credential injects), then a
profile of azure.azcollection's credential file (~/.azure/credentials). Resolved here rather than with
Ansible's env_fallback because env_fallback forgets where a value came from, and every message about a
credential must name the option or variable that set it (issue 19).

No Ansible import: the wrapper passes the task's options and os.environ in.
"""

from __future__ import annotations

import configparser
import os

from ansible_collections.graphops.msgraph.plugins.module_utils._clouds import cloud_name
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_errors import ConfigurationError, register_secret

AUTH_SOURCES = ("auto", "env", "credential_file", "msi", "cli")
CREDENTIAL_FILE = "~/.azure/credentials"

# option -> environment variables, highest precedence first: azure-identity's (and ours, MSGRAPH_*),
# then azure.azcollection's. AZURE_CLIENT_ID and AZURE_PASSWORD are spelt alike in both families.
ENV_VARS = {
    "tenant_id": ("AZURE_TENANT_ID", "AZURE_TENANT"),
    "client_id": ("AZURE_CLIENT_ID",),
    "client_secret": ("AZURE_CLIENT_SECRET", "AZURE_SECRET"),
    "client_certificate_path": ("AZURE_CLIENT_CERTIFICATE_PATH",),
    "client_certificate_password": ("AZURE_CLIENT_CERTIFICATE_PASSWORD",),
    "federated_token_file": ("AZURE_FEDERATED_TOKEN_FILE",),
    "username": ("AZURE_USERNAME", "AZURE_AD_USER"),
    "password": ("AZURE_PASSWORD",),
    "access_token": ("MSGRAPH_ACCESS_TOKEN",),
    "cloud": ("MSGRAPH_CLOUD", "AZURE_CLOUD_ENVIRONMENT"),
    "graph_endpoint": ("MSGRAPH_ENDPOINT",),
    "authority_host": ("AZURE_AUTHORITY_HOST",),
    "profile": ("AZURE_PROFILE",),
}
# Options whose value is a credential (a file's values for them are secrets too).
SECRET_OPTIONS = ("client_secret", "client_certificate_password", "password", "access_token")
# The values that say which credential is meant (the rest only complete one).
CREDENTIAL_OPTIONS = ("access_token", "client_secret", "client_certificate_path", "federated_token_file",
                      "username", "password")
# azure.azcollection's credential file keys -> our options (subscription_id has no use for Graph).
FILE_KEYS = {"tenant": "tenant_id", "client_id": "client_id", "secret": "client_secret", "ad_user": "username",
             "password": "password", "cloud_environment": "cloud"}
# What each option is called in azure.azcollection, for messages (tenant -> tenant_id, ...).
ALIASES = {"tenant_id": "tenant", "client_secret": "secret", "cloud": "cloud_environment", "username": "ad_user"}


def given(value):
    """AWX injects a field left empty as an empty variable: empty counts as not set."""
    return value is not None and value != ""


def option_label(name):
    alias = ALIASES.get(name)
    return "option {0}".format(name) + (" (or {0})".format(alias) if alias else "")


class Sources:
    """The resolved values (params) and, for each one set, where it came from (origins)."""

    def __init__(self, params, origins, looked_at, profile_note=None, unused=None):
        self.params = params
        self.origins = origins
        self.looked_at = looked_at      # option -> [labels looked at], for "needs X" messages
        self.profile_note = profile_note
        self.unused = unused or []      # "AZURE_SECRET (auth_source=cli)": set, not used; the wrapper warns

    def origin(self, name):
        return self.origins.get(name, "option {0}".format(name))

    def named(self, name):
        """'client_secret (from AZURE_SECRET)' or 'client_secret' for a task option."""
        origin = self.origins.get(name)
        if origin is None or origin.startswith("option "):
            return name
        return "{0} (from {1})".format(name, origin)

    def where_looked(self, name):
        return ", ".join(self.looked_at.get(name) or [option_label(name)])

    def set_summary(self):
        """'client_id (from AZURE_CLIENT_ID), tenant_id' or 'nothing'."""
        names = [n for n in sorted(self.origins) if n in ENV_VARS and n != "profile" and given(self.params.get(n))]
        return ", ".join(self.named(n) for n in names) or "nothing"


def from_params(params):
    """Sources for params given directly (unit tests, other callers): every value set is an option."""
    origins = dict((name, option_label(name)) for name in ENV_VARS if given(params.get(name)))
    return Sources(dict(params), origins, {})


def read_profile(path, profile, origin, missing_ok=False):
    """{option: value} of one section of azure.azcollection's INI credential file."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with open(path, "r") as handle:
            parser.read_file(handle)
    except (OSError, UnicodeError, configparser.Error) as exc:
        raise ConfigurationError("profile: can not read {0}: {1}".format(path, type(exc).__name__), option="profile")
    if not parser.has_section(profile):
        if missing_ok:
            return None
        raise ConfigurationError("profile {0!r} (from {1}) is not a section of {2}; it has: {3}".format(
            profile, origin, path, ", ".join(parser.sections()) or "none"), option="profile")
    values = {}
    for key, value in parser.items(profile):
        if key in FILE_KEYS and given(value.strip()):
            values[FILE_KEYS[key]] = value.strip()
    for name in SECRET_OPTIONS:
        register_secret(values.get(name))
    return values


def _env_candidates(env, name):
    return [(var, env.get(var)) for var in ENV_VARS.get(name, ()) if given(env.get(var))]


def resolve(params, env=None, home_file=None):
    """Sources for the task: params (the module's options) completed from env and the credential file.

    Raises ConfigurationError, naming each variable or option involved, when the two environment
    families disagree about a value or a credential file profile and environment credentials collide.
    """
    env = os.environ if env is None else env
    source = params.get("auth_source") or "auto"
    path = os.path.expanduser(home_file or CREDENTIAL_FILE)
    resolved = dict(params)
    origins, looked_at, unused = {}, {}, []
    use_env = source != "credential_file"
    for name in ENV_VARS:
        labels = [option_label(name)]
        if use_env or name in ("graph_endpoint", "authority_host", "access_token", "cloud", "profile"):
            labels += list(ENV_VARS[name])
        looked_at[name] = labels
        found = _env_candidates(env, name)
        if given(params.get(name)):
            origins[name] = option_label(name)
            # The documented precedence, but never silent: a variable that says otherwise is reported.
            unused += ["{0} (option {1} wins)".format(var, name) for var, value in found if value != params.get(name)]
            continue
        if (source in ("cli", "msi") and name in CREDENTIAL_OPTIONS) or \
                (not use_env and name in CREDENTIAL_OPTIONS + ("tenant_id", "client_id")):
            # The Azure CLI's login or the managed identity is the credential; credential_file reads the file only.
            unused += ["{0} (auth_source={1})".format(var, source) for var, _value in found]
            continue
        # MSGRAPH_CLOUD=china and AZURE_CLOUD_ENVIRONMENT=AzureChinaCloud agree.
        distinct = set(cloud_name(value) if name == "cloud" else value for _var, value in found)
        if len(distinct) > 1:
            raise ConfigurationError("{name} is set differently by {vars}: unset all but one, or set option {name}".format(
                name=name, vars=" and ".join(var for var, _v in found)), option=name)
        if found:
            resolved[name] = found[0][1]
            origins[name] = " and ".join(var for var, _v in found) if len(found) > 1 else found[0][0]
            if name in SECRET_OPTIONS:
                register_secret(found[0][1])
    note = _apply_profile(resolved, origins, looked_at, source, path)
    if source in ("env", "msi", "cli") and given(resolved.get("profile")):
        unused.append("profile {0!r} (from {1}; auth_source={2})".format(resolved["profile"], origins["profile"], source))
    return Sources(resolved, origins, looked_at, note, unused)


def _apply_profile(resolved, origins, looked_at, source, path):
    """Fill what is still unset from a profile of the credential file, as azure.azcollection would."""
    if source in ("env", "msi", "cli"):
        return None
    profile = resolved.get("profile")
    named = given(profile)
    if not named:
        profile = "default"
    if source == "auto" and not named:
        # As azure.azcollection's auto: the default profile only when nothing else gave a credential.
        if any(given(resolved.get(n)) for n in CREDENTIAL_OPTIONS) or not os.path.isfile(path):
            return "{0} {1}".format(CREDENTIAL_FILE, "(not used: a credential is set)" if os.path.isfile(path) else "(not found)")
    if not os.path.isfile(path):
        what = "profile {0!r} (from {1})".format(profile, origins.get("profile")) if named else "auth_source=credential_file"
        raise ConfigurationError("{0} needs the credential file {1}, which does not exist".format(what, path),
                                 option="profile" if named else "auth_source")
    label = "profile {0!r} of {1}".format(profile, CREDENTIAL_FILE)
    values = read_profile(path, profile, origins.get("profile", "the default"), missing_ok=source == "auto" and not named)
    if values is None:
        return "{0} (no [default] profile)".format(CREDENTIAL_FILE)
    if source == "auto":
        clash = [origins[n] for n in CREDENTIAL_OPTIONS if given(resolved.get(n)) and n in origins
                 and not origins[n].startswith("option ") and values.get(n)]
        if clash:
            raise ConfigurationError("{0} (from {1}) and {2} both give credentials: unset one, or set auth_source "
                                     "to credential_file or env".format(label, origins.get("profile"), ", ".join(clash)),
                                     option="auth_source")
    for name, value in values.items():
        looked_at.setdefault(name, []).append(label)
        if not given(resolved.get(name)):
            resolved[name] = value
            origins[name] = label
    return label


# ---------------------------------------------------------------------------- which credential

AUTH_METHODS = ("client_secret", "certificate", "federated", "managed_identity", "password", "access_token")
# What each method needs; auto picks the one whose own credential is given.
REQUIRED = {
    "client_secret": ("tenant_id", "client_id", "client_secret"),
    "certificate": ("tenant_id", "client_id", "client_certificate_path"),
    "federated": ("tenant_id", "client_id", "federated_token_file"),
    "password": ("tenant_id", "client_id", "username", "password"),
    "access_token": ("access_token",),
    "managed_identity": (),
    "azure_cli": (),
}
# The option that gives each method away when auth_method is auto.
MARKERS = (
    ("access_token", ("access_token",)),
    ("client_secret", ("client_secret",)),
    ("certificate", ("client_certificate_path",)),
    ("federated", ("federated_token_file",)),
    ("password", ("username", "password")),
)


def select_auth_method(params, sources=None):
    """The auth method for params (auth_method and auth_source), or ConfigurationError naming what was looked at."""
    sources = sources or from_params(params)
    method = params.get("auth_method") or "auto"
    source = params.get("auth_source") or "auto"
    if method != "auto" and method not in AUTH_METHODS:
        raise ConfigurationError("auth_method must be auto or one of {0}".format(", ".join(AUTH_METHODS)), option="auth_method")
    if source in ("msi", "cli"):
        wanted = "managed_identity" if source == "msi" else "azure_cli"
        if method not in ("auto", wanted):
            raise ConfigurationError("auth_source={0} and auth_method={1} contradict each other: leave auth_method "
                                     "at auto".format(source, method), option="auth_method")
        return wanted
    if method != "auto":
        return method
    found = [(m, [o for o in opts if given(params.get(o))]) for m, opts in MARKERS]
    found = [(m, names) for m, names in found if names]
    if not found:
        # "name in places", never "name: ...", which redact() would read as a secret's value.
        looked = "; ".join("{0} in {1}".format(o, sources.where_looked(o)) for o in CREDENTIAL_OPTIONS)
        raise ConfigurationError(
            "no credentials found (auth_source={0}). Looked for {1}{2}. Set: {3}. Give one of access_token, "
            "client_secret, client_certificate_path, federated_token_file or username and password (with tenant_id "
            "and client_id), or set auth_source=msi (or auth_method=managed_identity) or auth_source=cli".format(
                source, looked, "; " + sources.profile_note if sources.profile_note else "", sources.set_summary()),
            option="auth_method")
    if len(found) > 1:
        raise ConfigurationError(
            "auth_method=auto is ambiguous: {0} are all set; unset all but one, or set auth_method to one of {1}".format(
                ", ".join(sources.named(o) for _m, names in found for o in names), ", ".join(m for m, _n in found)),
            option="auth_method")
    return found[0][0]


def check_required(method, params, sources=None):
    """ConfigurationError naming the first option method still needs, where it was looked for, and what is set."""
    sources = sources or from_params(params)
    missing = [o for o in REQUIRED[method] if not given(params.get(o))]
    if missing:
        why = ""
        marker = next((names for m, names in MARKERS if m == method), ())
        picked = [sources.named(o) for o in marker if given(params.get(o))]
        if picked and (params.get("auth_method") or "auto") == "auto":
            why = " (picked because {0} is set)".format(" and ".join(picked))
        raise ConfigurationError("auth_method={0}{1} needs {2}. Looked for {3} in: {4}. Set: {5}".format(
            method, why, " and ".join(missing), missing[0], sources.where_looked(missing[0]), sources.set_summary()),
            option=missing[0])
