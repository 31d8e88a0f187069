# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The README's install and "use this tree" instructions, run as written (issue 19).

Each console block after a "<!-- tests/integration/test_readme.py runs this block as written -->"
comment is run by bash, line by line as a user types it, in a private HOME; then an example playbook
runs by its FQCN against the emulator, with the variables AWX's Azure Resource Manager credential
injects, and must use the module file of the copy the instructions made visible.
"""

import os
import re
import subprocess
import sys

DIST = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "distribution")
if DIST not in sys.path:
    sys.path.insert(0, DIST)

from dist_support import REPO, isolated_env  # noqa: E402  pylint: disable=wrong-import-position,import-error

MARKER = "<!-- tests/integration/test_readme.py runs this block as written -->"
BUSINESS_ID = "contosoclinic@contoso.example"


def readme_blocks():
    """The commands of each marked console block, continuation lines joined, without the '$ ' prompt."""
    with open(os.path.join(REPO, "README.md"), encoding="utf-8") as handle:
        text = handle.read()
    blocks = []
    for match in re.finditer(re.escape(MARKER) + r"\n```console\n(.*?)\n```", text, re.S):
        commands = []
        for line in match.group(1).replace("\\\n", " ").splitlines():
            assert line.startswith("$ "), "a marked block holds commands only: %r" % line
            commands.append(line[2:])
        blocks.append(commands)
    assert len(blocks) == 2, "the README's install and use-this-tree blocks must carry the marker"
    return blocks


def run_script(lines, cwd, env):
    script = "set -eu\n" + "\n".join(lines) + "\n"
    return subprocess.run(["bash", "-c", script], cwd=str(cwd), env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, check=False, timeout=600)


def cancel_by_fqcn(conn, appointment_id):
    """What a user runs next (README, "The same playbooks against a real tenant"), pointed at the emulator."""
    credential = "export AZURE_CLIENT_ID=%s AZURE_SECRET=%s AZURE_TENANT=%s" % (
        conn["apps"]["secret"]["client_id"], conn["apps"]["secret"]["client_secret"], conn["tenant_id"])
    endpoints = "export MSGRAPH_ENDPOINT=%s AZURE_AUTHORITY_HOST=%s REQUESTS_CA_BUNDLE=%s" % (
        conn["graph_endpoint"], conn["authority_host"], conn["ca_path"])
    playbook = "ansible-playbook -vvv graphops.msgraph.cancel_booking_appointment -e business_id=%s -e appointment_id=%s" % (
        BUSINESS_ID, appointment_id)
    return [credential, endpoints, playbook]


def module_files(output):
    return set(re.findall(r"^Using module file (\S+)$", output, re.M))


def an_appointment(emu):
    return next(a["id"] for a in emu.appointments_state(BUSINESS_ID) if a.get("customers"))


def test_install_from_a_tarball_built_from_the_checkout(emu, tmp_path):
    checkout = tmp_path / "graphops.msgraph"
    subprocess.run([sys.executable, os.path.join(REPO, "hacking", "copy_tree.py"), str(checkout)], cwd=REPO, check=True)
    env = isolated_env(tmp_path)
    target = an_appointment(emu)
    result = run_script(readme_blocks()[0] + cancel_by_fqcn(emu.conn, target), checkout, env)
    assert result.returncode == 0, result.stdout[-6000:]
    installed = tmp_path / "home" / ".ansible" / "collections" / "ansible_collections" / "graphops" / "msgraph"
    assert module_files(result.stdout) == {str(installed / "plugins" / "modules" / "booking_appointment_cancel.py")}
    assert target not in {a["id"] for a in emu.appointments_state(BUSINESS_ID)}


def test_use_this_tree(emu, tmp_path):
    env = isolated_env(tmp_path)
    target = an_appointment(emu)
    # The hint the README used to give: the checkout itself on ANSIBLE_COLLECTIONS_PATH. It can not work.
    wrong = run_script(["export ANSIBLE_COLLECTIONS_PATH=\"$PWD\""] + cancel_by_fqcn(emu.conn, target), REPO, env)
    assert wrong.returncode != 0
    assert "could not be found" in wrong.stdout or "could not resolve" in wrong.stdout, wrong.stdout[-3000:]

    result = run_script(readme_blocks()[1] + cancel_by_fqcn(emu.conn, target), REPO, env)
    assert result.returncode == 0, result.stdout[-6000:]
    assert "booking_appointment_cancel" in result.stdout  # ansible-doc found the module
    linked = tmp_path / "home" / "ansible-dev" / "ansible_collections" / "graphops" / "msgraph"
    assert os.path.realpath(str(linked)) == os.path.realpath(REPO)
    assert module_files(result.stdout) == {str(linked / "plugins" / "modules" / "booking_appointment_cancel.py")}
    assert target not in {a["id"] for a in emu.appointments_state(BUSINESS_ID)}
