# Copyright (c) graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Microsoft clouds: where to get a token and where Graph lives.

Hosts from https://learn.microsoft.com/en-us/graph/deployments (see tests/emulator/contract/NOTES.md,
"Clouds"). The token scope is always "<Graph endpoint>/.default": a token for one cloud is not
accepted by another, so the scope follows an overridden graph_endpoint too.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ansible_collections.graphops.msgraph.plugins.module_utils._graph_errors import ConfigurationError

CLOUDS = {
    "global": {"authority_host": "https://login.microsoftonline.com", "graph_endpoint": "https://graph.microsoft.com",
               "bookings": True},
    "usgov": {"authority_host": "https://login.microsoftonline.us", "graph_endpoint": "https://graph.microsoft.us",
              "bookings": True},
    "usgovdod": {"authority_host": "https://login.microsoftonline.us", "graph_endpoint": "https://dod-graph.microsoft.us",
                 "bookings": True},
    "china": {"authority_host": "https://login.chinacloudapi.cn", "graph_endpoint": "https://microsoftgraph.chinacloudapi.cn",
              "bookings": False},
}
DEFAULT_CLOUD = "global"
API_VERSIONS = ("v1.0", "beta")
# azure.azcollection's cloud_environment names (msrestazure's cloud names). DoD has none there, because
# it shares AzureUSGovernment's login host: AzureUSGovernmentDoD is this collection's name for it.
AZURE_CLOUD_NAMES = {"AzureCloud": "global", "AzureUSGovernment": "usgov", "AzureUSGovernmentDoD": "usgovdod",
                     "AzureChinaCloud": "china"}
CLOUD_CHOICES = tuple(CLOUDS) + tuple(AZURE_CLOUD_NAMES)


def cloud_name(value):
    """Our cloud name for one of ours or azure.azcollection's (case-insensitive); value itself if unknown."""
    text = (value or "").strip()
    for name in CLOUD_CHOICES:
        if name.lower() == text.lower():
            return AZURE_CLOUD_NAMES.get(name, name)
    return text


def _described(option, origin):
    """'authority_host' or 'authority_host (from AZURE_AUTHORITY_HOST)'."""
    if origin and not origin.startswith("option "):
        return "{0} (from {1})".format(option, origin)
    return option


def _https_base(value, option, origin=None, bare_host=False):
    """Normalise an https base URL (scheme + host[:port], no path/query); refuse anything else.

    bare_host: accept "login.microsoftonline.us" as azure-identity does for AZURE_AUTHORITY_HOST.
    """
    label = _described(option, origin)
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError("{0} must be an https:// URL".format(label), option=option)
    value = value.strip()
    if bare_host and "://" not in value:
        value = "https://" + value
    parts = urlsplit(value)
    if parts.scheme.lower() != "https":
        # Tokens and cancellations must never travel in clear text, not even to a test server.
        raise ConfigurationError("{0} must use https://, got {1!r}".format(label, value), option=option)
    if not parts.hostname or parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigurationError("{0} must look like https://host[:port], got {1!r}".format(label, value), option=option)
    if parts.path.strip("/"):
        raise ConfigurationError("{0} must not contain a path (the API version is added by the collection), got {1!r}"
                                 .format(label, value), option=option)
    return "https://" + parts.netloc.lower()


class CloudSettings:
    """The effective hosts for one task."""

    def __init__(self, name, authority_host, graph_endpoint, bookings):
        self.name = name
        self.authority_host = authority_host
        self.graph_endpoint = graph_endpoint
        self.bookings = bookings

    @property
    def scope(self):
        return self.graph_endpoint + "/.default"

    def authority(self, tenant_id):
        return self.authority_host + "/" + tenant_id

    def __repr__(self):
        return "CloudSettings(name={0!r}, authority_host={1!r}, graph_endpoint={2!r})".format(
            self.name, self.authority_host, self.graph_endpoint)


def resolve_cloud(cloud=None, graph_endpoint=None, authority_host=None, origins=None):
    """Return CloudSettings for cloud with the optional host overrides applied (https only).

    origins: {option: where its value came from} (see _credential_sources), named in every refusal.
    """
    origins = origins or {}
    authority = _https_base(authority_host, "authority_host", origins.get("authority_host"), bare_host=True) \
        if authority_host else None
    if cloud:
        name = cloud_name(cloud)
    else:
        # As azure-identity: an authority host alone (AZURE_AUTHORITY_HOST=login.microsoftonline.us) says the cloud.
        name = next((n for n, c in CLOUDS.items() if c["authority_host"] == authority), DEFAULT_CLOUD)
    if name not in CLOUDS:
        raise ConfigurationError("{0} must be one of {1}, got {2!r}".format(
            _described("cloud", origins.get("cloud")), ", ".join(CLOUD_CHOICES), cloud), option="cloud")
    base = CLOUDS[name]
    return CloudSettings(
        name,
        authority or base["authority_host"],
        _https_base(graph_endpoint, "graph_endpoint", origins.get("graph_endpoint")) if graph_endpoint else base["graph_endpoint"],
        base["bookings"])
