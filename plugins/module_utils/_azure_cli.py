# Copyright (c) graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""auth_source=cli, as azure.azcollection's: a token from the Azure CLI's own login.

`az account get-access-token --resource <Graph endpoint> --output json` prints
{"accessToken", "expiresOn", "expires_on", "subscription", "tenant", "tokenType"}; the token is
used as it is (the CLI caches and refreshes it, so nothing is cached here). No request is sent by
this collection for it: the CLI talks to Entra ID itself.
"""

from __future__ import annotations

import json
import shutil
import subprocess

from ansible_collections.graphops.msgraph.plugins.module_utils._graph_errors import (
    AuthenticationError, ConfigurationError, redact, register_secret)
from ansible_collections.graphops.msgraph.plugins.module_utils._permissions import token_claims

AZ_NOT_FOUND = ("auth_source=cli needs the Azure CLI: no 'az' executable on PATH of the host that runs the module "
                "(install it and run 'az login', or choose another auth_source)")


def az_command(resource, tenant_id=None):
    """The az command line asking for a token for resource (tenant_id: --tenant, when given)."""
    command = ["az", "account", "get-access-token", "--resource", resource, "--output", "json"]
    if tenant_id:
        command += ["--tenant", tenant_id]
    return command


def parse_az_output(text):
    """The access token of az's JSON answer; AuthenticationError when it holds none."""
    try:
        answer = json.loads(text)
    except ValueError:
        answer = None
    token = answer.get("accessToken") if isinstance(answer, dict) else None
    if not isinstance(token, str) or not token:
        raise AuthenticationError("azure_cli_error", "az account get-access-token printed no accessToken", method="azure_cli")
    register_secret(token)
    return token


class AzureCliCredentialMixin:
    """The credential methods of auth_source=cli (mixed into a _graph_auth credential class)."""

    method = "azure_cli"

    def validate(self):
        self._az = shutil.which("az")
        if self._az is None:
            raise ConfigurationError(AZ_NOT_FOUND, option="auth_source")

    def check_cache(self):
        return None  # the Azure CLI keeps its own token cache

    def is_delegated(self):
        # az login as a user gives a delegated token; a service principal login an app token.
        return "scp" in (token_claims(self.get_token()) or {})

    def _acquire(self):
        command = az_command(self.cloud.graph_endpoint, self.params.get("tenant_id"))
        command[0] = self._az
        self.token_requests += 1
        try:
            done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False,
                                  timeout=self.timeout or 60)
        except (OSError, subprocess.SubprocessError) as exc:
            raise AuthenticationError("azure_cli_error", "running {0} failed: {1}".format(self._az, type(exc).__name__),
                                      method=self.method)
        if done.returncode != 0:
            # az's own message ("Please run 'az login' to setup account.") is the fix; it holds no secret.
            detail = (done.stderr or done.stdout or "").strip().splitlines()
            raise AuthenticationError("azure_cli_error", redact("az account get-access-token exited with {0}: {1}".format(
                done.returncode, detail[-1] if detail else "no message")), method=self.method)
        return parse_az_output(done.stdout)

    def get_token(self):
        with self._lock:
            if getattr(self, "_token", None) is None:
                self._token = self._acquire()
            return self._token

    def invalidate(self, token):
        self._token = None  # ask az again: it refreshes from its own cache
