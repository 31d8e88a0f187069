# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Galaxy artifact: what the tarball holds, and that the installed copy works on its own.

The tarball is built from the working tree the way a release builds it. Its file list must carry
the collection and nothing a development checkout accumulates (virtualenvs, build output, caches,
token caches, keys). Installed into an empty collections path, with the source tree on neither
ANSIBLE_COLLECTIONS_PATH nor PYTHONPATH, an example playbook run by its FQCN must cancel through
the emulator, and Ansible must report that the module file it ran lies in that installed copy.
"""

import json
import os
import re
import subprocess
import sys
import tarfile

from dist_support import REPO, build_collection, galaxy_meta, isolated_env, run  # pylint: disable=import-error

# A path component that means "this came from a checkout, not from the collection".
JUNK_DIRS = {".git", ".build", ".cache", ".pytest_cache", "__pycache__", ".tox", ".mypy_cache", ".ruff_cache"}
JUNK_PREFIXES = ("tests/output/", "benchmarks/results/", "tests/integration/inventory")
JUNK_SUFFIXES = (".pyc", ".pyo", ".tar.gz", ".retry")
JUNK_NAMES = {"importer_result.json", ".plugin-cache.yaml", "connection.json"}
PRIVATE_KEY = re.compile(rb"-----BEGIN [A-Z ]*PRIVATE KEY-----")
# A signed JWT as Entra ID or the emulator issues it (the unit tests' short fake one does not match).
JWT = re.compile(rb"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{40,}")
MSAL_CACHE_KEYS = {"AccessToken", "RefreshToken", "IdToken", "Account"}


def junk_reason(name, data):
    """Why a tarball member must not ship, or None."""
    parts = name.rstrip("/").split("/")
    if any(part in JUNK_DIRS or part.startswith(".venv") for part in parts):
        return "checkout folder %s" % name
    if name.startswith(JUNK_PREFIXES) or name.endswith(JUNK_SUFFIXES) or parts[-1] in JUNK_NAMES:
        return "build or test output %s" % name
    if data is None:
        return None
    if PRIVATE_KEY.search(data):
        return "private key in %s" % name
    if JWT.search(data):
        return "token in %s" % name
    if name.endswith(".json"):
        try:
            content = json.loads(data)
        except ValueError:
            return None
        if isinstance(content, dict) and MSAL_CACHE_KEYS & set(content):
            return "MSAL token cache %s" % name
    return None


def tarball_members(path):
    """{name: bytes or None for folders} of a collection tarball."""
    members = {}
    with tarfile.open(str(path)) as tar:
        for member in tar.getmembers():
            members[member.name] = tar.extractfile(member).read() if member.isfile() else None
    return members


def problems(members):
    return [reason for reason in (junk_reason(name, data) for name, data in members.items()) if reason]


def test_tarball_holds_the_collection_and_nothing_else(collection_tarball):
    meta = galaxy_meta()
    assert collection_tarball.name == "%s-%s-%s.tar.gz" % (meta["namespace"], meta["name"], meta["version"])
    members = tarball_members(collection_tarball)
    assert problems(members) == []

    manifest = json.loads(members["MANIFEST.json"])["collection_info"]
    assert (manifest["namespace"], manifest["name"], manifest["version"]) == (meta["namespace"], meta["name"], meta["version"])
    listed = {entry["name"] for entry in json.loads(members["FILES.json"])["files"] if entry["name"] != "."}
    assert listed == {name for name in members if name not in ("MANIFEST.json", "FILES.json")}

    expected = {"README.md", "COPYING", "CHANGELOG.rst", "changelogs/changelog.yaml", "meta/runtime.yml",
                "meta/execution-environment.yml", "requirements.txt", "bindep.txt"}
    for folder in ("plugins/modules", "plugins/module_utils", "plugins/doc_fragments", "playbooks"):
        expected.update("%s/%s" % (folder, f) for f in os.listdir(os.path.join(REPO, folder)) if f.endswith((".py", ".yml")))
    assert expected - set(members) == set()
    for name in ("requirements.txt", "bindep.txt", "meta/execution-environment.yml", "meta/runtime.yml"):
        with open(os.path.join(REPO, name), "rb") as handle:
            assert members[name] == handle.read(), name


def test_build_ignore_keeps_checkout_leftovers_out(tmp_path):
    """Plant what a busy checkout holds in a copy of the tree; none of it may reach the tarball."""
    src = tmp_path / "src"
    subprocess.run([sys.executable, os.path.join(REPO, "hacking", "copy_tree.py"), str(src)], cwd=REPO, check=True)
    # Spelt in pieces so that this file itself does not look like a key to the scan.
    fake_key = b"-----BEGIN " + b"PRIVATE KEY-----\nnot a key\n-----END " + b"PRIVATE KEY-----\n"
    token_cache = json.dumps({"AccessToken": {"k": {"secret": "x"}}, "RefreshToken": {}, "Account": {}}).encode()
    planted = {
        ".venv/bin/activate": b"#",
        ".venv-importer/pyvenv.cfg": b"home = /usr",
        ".build/emulator/ca.key": fake_key,
        ".build/emulator/connection.json": b"{}",
        ".build/collections/ansible_collections/graphops/msgraph/README.md": b"#",
        ".git/config": b"[core]",
        ".cache/graphops.msgraph/tokens/%s.json" % ("a" * 64): token_cache,
        "tests/.pytest_cache/v/cache/nodeids": b"[]",
        ".pytest_cache/v/cache/lastfailed": b"{}",
        "plugins/modules/__pycache__/booking_appointment_cancel.cpython-311.pyc": b"\0",
        "plugins/module_utils/_stray.pyc": b"\0",
        "tests/output/junit/python3.11-modules.xml": b"<x/>",
        "tests/integration/inventory": b"localhost",
        "benchmarks/results/latest.json": b"{}",
        "changelogs/.plugin-cache.yaml": b"{}",
        "importer_result.json": b"{}",
        "graphops-msgraph-0.0.1.tar.gz": b"\0",
    }
    for rel, data in planted.items():
        target = src / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    out = tmp_path / "out"
    out.mkdir()
    members = tarball_members(build_collection(src, out, isolated_env(tmp_path)))
    leaked = sorted(set(planted) & set(members))
    assert leaked == [] and problems(members) == [], leaked or problems(members)
    assert "plugins/modules/booking_appointment_cancel.py" in members


def install(tarball, tmp_path):
    collections = tmp_path / "collections"
    env = isolated_env(tmp_path, ANSIBLE_COLLECTIONS_PATH=str(collections))
    result = run(["ansible-galaxy", "collection", "install", str(tarball), "-p", str(collections)], env, tmp_path)
    assert result.returncode == 0, result.stdout
    return collections, env


def test_installed_copy_verifies_against_its_manifest(collection_tarball, tmp_path):
    collections, env = install(collection_tarball, tmp_path)
    result = run(["ansible-galaxy", "collection", "verify", "--offline", "graphops.msgraph"], env, tmp_path)
    assert result.returncode == 0 and "Successfully verified" in result.stdout, result.stdout
    listing = run(["ansible-galaxy", "collection", "list", "graphops.msgraph", "--format", "json"], env, tmp_path)
    assert listing.returncode == 0, listing.stdout
    found = json.loads(listing.stdout[listing.stdout.index("{"):])
    assert list(found) == [str(collections / "ansible_collections")]
    assert found[str(collections / "ansible_collections")]["graphops.msgraph"]["version"] == galaxy_meta()["version"]


def recap_changed(output):
    match = re.search(r"^localhost\s*:\s*ok=\d+\s+changed=(\d+)\s+unreachable=0\s+failed=0", output, re.M)
    assert match, output[-4000:]
    return int(match.group(1))


def test_example_playbook_runs_from_the_installed_copy(collection_tarball, emu, tmp_path):
    collections, env = install(collection_tarball, tmp_path)
    installed = collections / "ansible_collections" / "graphops" / "msgraph"
    # Nothing in the playbook's environment leads back to the source tree.
    assert "PYTHONPATH" not in env and env["ANSIBLE_COLLECTIONS_PATH"] == str(collections)
    assert not str(collections).startswith(REPO) and os.path.realpath(str(installed)) == str(installed)

    conn = emu.conn
    business = conn["bookings"]["business_id"]
    # An appointment of the seed with customers and staff, so that the emulator's record shows who heard of it.
    target = next(a for a in emu.appointments_state(business) if a.get("customers") and a.get("staffMemberIds"))
    extra_vars = {
        "msgraph_tenant_id": conn["tenant_id"],
        "msgraph_client_id": conn["apps"]["secret"]["client_id"],
        "msgraph_client_secret": conn["apps"]["secret"]["client_secret"],
        "msgraph_graph_endpoint": conn["graph_endpoint"],
        "msgraph_authority_host": conn["authority_host"],
        "msgraph_ca_path": conn["ca_path"],
        "business_id": business,
        "appointment_id": target["id"],
        "cancellation_message": "Cancelled by the artifact test.",
    }
    vars_file = tmp_path / "vars.json"
    with os.fdopen(os.open(str(vars_file), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
        json.dump(extra_vars, handle)
    env["MSGRAPH_TOKEN_CACHE"] = str(tmp_path / "token-cache")
    # By FQCN: only a collection on ANSIBLE_COLLECTIONS_PATH can supply the playbook.
    command = ["ansible-playbook", "-vvv", "-i", "localhost,", "graphops.msgraph.cancel_booking_appointment", "-e", "@" + str(vars_file)]

    first = run(command, env, tmp_path)
    assert first.returncode == 0, first.stdout[-6000:]
    assert recap_changed(first.stdout) == 1
    used = re.findall(r"^Using module file (\S+)$", first.stdout, re.M)
    assert used and set(used) == {str(installed / "plugins" / "modules" / "booking_appointment_cancel.py")}, used
    # The virtualenv lives in the checkout, so the checkout's path may appear; its collection never.
    for source in (os.path.join(REPO, "plugins"), os.path.join(REPO, ".build", "collections")):
        assert source not in first.stdout, source
    assert conn["apps"]["secret"]["client_secret"] not in first.stdout

    assert target["id"] not in {a["id"] for a in emu.appointments_state(business)}
    sent = [n for n in emu.notifications() if n["item_id"] == target["id"]]
    customers = {c["emailAddress"] for c in target["customers"]}
    assert customers <= {n["recipient"] for n in sent if n["role"] == "customer"}, sent
    assert {n["message"] for n in sent} == {"Cancelled by the artifact test."}
    assert len(sent) == len({n["recipient"] for n in sent}), "someone was notified twice: %s" % sent

    again = run(command, env, tmp_path)
    assert again.returncode == 0, again.stdout[-6000:]
    assert recap_changed(again.stdout) == 0
    assert len([n for n in emu.notifications() if n["item_id"] == target["id"]]) == len(sent)
