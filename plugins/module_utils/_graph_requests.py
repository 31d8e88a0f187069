# Copyright (c) graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The requests session MSAL talks through. Imported only when MSAL runs (the token cache could
not answer): Graph requests themselves go through _graph_http, which needs no requests."""

from __future__ import annotations

import traceback

from ansible_collections.graphops.msgraph.plugins.module_utils._graph_errors import ConfigurationError

try:
    import requests
    from requests.adapters import HTTPAdapter
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None


def effective_verify(merged, chosen):
    """The verify value to use: the user's explicit choice, else what requests merged from the environment."""
    return merged if chosen is True else chosen


if HAS_REQUESTS:
    class PinnedSession(requests.Session):
        """A requests session whose TLS verification setting always wins.

        requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override Session.verify (NOTES, "requests
        pitfall"); ca_path (or validate_certs=false) is the user's explicit choice, so it is forced
        here for every request MSAL sends. Without such a choice (verify=True) the environment's
        bundle applies as requests users expect (a corporate TLS-inspecting proxy's CA, for
        example). Proxies from the environment still apply. _graph_http follows the same rules.
        """

        def __init__(self, verify=True, timeout=None, user_agent=None):
            super().__init__()
            self.verify = verify
            self.pinned_verify = verify
            self.default_timeout = timeout
            if user_agent:
                self.headers["User-Agent"] = user_agent
            # No automatic retries below us: a request must never be re-sent behind our back.
            self.mount("https://", HTTPAdapter(max_retries=0))

        def merge_environment_settings(self, url, proxies, stream, verify, cert):
            settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
            settings["verify"] = effective_verify(settings["verify"], self.pinned_verify)
            return settings

        def request(self, method, url, *args, **kwargs):  # pylint: disable=arguments-differ
            if kwargs.get("timeout") is None and self.default_timeout:
                kwargs["timeout"] = self.default_timeout
            return super().request(method, url, *args, **kwargs)


def new_session(verify=True, timeout=None, user_agent=None):
    """Return a PinnedSession (requests must be importable)."""
    if not HAS_REQUESTS:
        raise ConfigurationError("the Python library 'requests' is required")
    return PinnedSession(verify=verify, timeout=timeout, user_agent=user_agent)
