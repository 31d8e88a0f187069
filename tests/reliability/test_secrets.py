# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secrets kept, for every auth method, by the cancel modules (tests/integration/test_auth_playbooks.py
does the same for a read; its credentials and file walkers are reused here).

Per method: a check-mode run, and a real run (an appointment, a meeting, then a task that fails
with Graph's error), both at -vvvv with --diff and ANSIBLE_LOG_PATH set. Neither the output, nor the log, nor any file written under HOME or the temp
folders (except the token cache) holds the client secret, the certificate password, the password,
the managed identity header, the federated assertion, or any token: every JWT the emulator issues
starts "eyJ", and the refresh tokens (opaque) are read from the cache itself. The cache is a 0600
file in a 0700 folder.
"""

import json
import os
import stat

import pytest

import reliability_support as rs
from integration.test_auth_playbooks import auth_cases, cache_files, endpoint_args, files_written

METHODS = ["client_secret", "certificate_pem", "certificate_pfx", "federated", "managed_identity", "password", "access_token"]


def _cached_tokens(runner):
    """Every token (access, refresh, id) in the run's token cache files: what must never leave them."""
    tokens = set()
    for path in cache_files(runner):
        with open(path, encoding="utf-8") as handle:
            cache = json.load(handle)
        for section in ("AccessToken", "RefreshToken", "IdToken"):
            tokens.update(entry.get("secret") for entry in (cache.get(section) or {}).values() if entry.get("secret"))
    return tokens


def _leaks(runner, outputs, secrets):
    """[(where, what)] for every secret or token found outside the cache."""
    texts = dict(("output of run %d" % n, out) for n, out in enumerate(outputs, 1))
    texts["log"] = runner.log_path.read_text(encoding="utf-8") if runner.log_path.exists() else ""
    caches = set(cache_files(runner))
    for path in files_written(runner):
        if path not in caches:
            with open(path, "rb") as handle:
                texts[path] = handle.read().decode("utf-8", "replace")
    found = []
    for where, text in texts.items():
        found.extend((where, "a secret") for secret in secrets if secret and secret in text)
        if "eyJ" in text:
            found.append((where, "a JWT"))
    return found


@pytest.mark.parametrize("method", METHODS)
def test_cancel_modules_keep_every_secret(method, emu, runner, ledger):
    conn = emu.conn
    _name, auth, env, secrets = next(c for c in auth_cases(conn) if c[0] == method)
    args = dict(auth, **endpoint_args(conn))
    booking = rs.seed_items(emu, "booking", "S" + method.replace("_", "")[:10], 2)
    event = rs.seed_items(emu, "event", "S" + method.replace("_", "")[:10], 1)
    # The second appointment's cancel fails whatever is tried: the failing task of the real run.
    emu.add_fault("status_500_unknown", method="POST", path_regex=rs.cancel_regex(booking[1]), times=None)
    tasks = [rs.cancel_task("cancel an appointment", "booking", booking[:1]),
             rs.cancel_task("cancel a meeting", "event", event),
             dict(rs.cancel_task("cancel an appointment Graph refuses", "booking", booking[1:], retries=0), ignore_errors=False)]
    check = runner.play(tasks[:1], "-vvvv", "--check", "--diff", env=env, module_defaults=args)
    real = runner.play(tasks, "-vvvv", "--diff", env=env, module_defaults=args)
    record = rs.Record(emu)

    case = ledger.case("secrets", method)
    case.check(check.rc == 0, "the check-mode run failed: %s" % check.stdout[-2000:])
    case.check(real.rc != 0, "the real run should fail on its last task")
    case.check(check["cancel an appointment"] and check["cancel an appointment"]["status"] == "ok"
               and check["cancel an appointment"]["result"].get("changed"), "check mode did not predict the change")
    for name in ("cancel an appointment", "cancel a meeting"):
        case.check(real[name] and real[name]["status"] == "ok" and real[name]["result"].get("changed"),
                   "the real run did not cancel %r: %s" % (name, real[name]))
    refused = real["cancel an appointment Graph refuses"]
    case.check(refused and refused["status"] == "failed" and "HTTP 500 UnknownError" in refused["result"].get("msg", ""),
               "the failing task did not fail with Graph's error")
    rs.check_gone(case, emu, booking[:1] + event)
    for item in booking[:1] + event:
        case.check(set(record.sent(item)) == item.recipients and all(n == 1 for n in record.sent(item).values()),
                   "%s: notified %s" % (item.id, dict(record.sent(item))))
    case.check(not record.sent(booking[1]), "the refused appointment was notified")
    case.check(len(record.cancels(booking[0])) == 1, "check mode sent a cancel, or the real run sent it twice")

    tokens = _cached_tokens(runner)
    leaks = _leaks(runner, [check.stdout, real.stdout], list(secrets) + sorted(tokens))
    case.check(not leaks, "leaked: %s" % leaks[:5])
    caches = cache_files(runner)
    if method == "access_token":
        case.check(not caches, "a given access token must not be cached: %s" % caches)
    else:
        case.check(caches, "no token cache was written")
        case.check(tokens, "the token cache holds no token")
        credentials = [s for s in secrets if s != auth.get("access_token")]
        for path in caches:
            case.check(stat.S_IMODE(os.stat(path).st_mode) == 0o600, "%s is not 0600" % path)
            case.check(stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700, "%s is not 0700" % os.path.dirname(path))
            with open(path, encoding="utf-8") as handle:
                cached = handle.read()
            case.check(not [s for s in credentials if s in cached], "a credential was written to the cache %s" % path)
        if method == "password":
            refresh = [t for t in tokens if not t.startswith("eyJ")]
            case.check(refresh, "the password grant left no refresh token in the cache to look for")
    case.expected += sum(len(item.recipients) for item in booking[:1] + event)
    case.sent += sum(sum(record.sent(item).values()) for item in booking + event)
    ledger.verify()
