# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a module's main() in this process against the emulator: the one helper the module tests
(tests/integration/modules) share for credentials and for running a module."""

import json

import pytest

from ansible.module_utils.testing import patch_module_args

from playbook_runner import connection_defaults


def module_credentials(conn, kind="app", **overrides):
    """Connection options for conn (the emulator's connection file), without a token cache.

    kind: "app" (the client-secret app), "readonly" (an app that may read but not cancel) or
    "delegated" (the organizer's password, a user token).
    """
    params = connection_defaults(conn, token_cache_path="")
    if kind == "readonly":
        params.update(client_id=conn["apps"]["readonly"]["client_id"], client_secret=conn["apps"]["readonly"]["client_secret"])
    elif kind == "delegated":
        organizer = conn["users"]["organizer"]
        del params["client_secret"]
        params.update(auth_method="password", client_id=conn["apps"]["public"]["client_id"],
                      username=organizer["upn"], password=organizer["password"])
    params.update(overrides)
    return params


def run_main(module, params, capsys, check=False, diff=False):
    """module.main() with params, in check and diff mode as asked; returns (failed, result)."""
    params = dict(params, _ansible_check_mode=check, _ansible_diff=diff)
    with patch_module_args(params):
        with pytest.raises(SystemExit) as exit_info:
            module.main()
    out = capsys.readouterr().out
    result = json.loads(out[out.index("{"):])
    return exit_info.value.code != 0 or result.get("failed", False), result
