# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers shared by the distribution suites (artifact, galaxy-importer, execution environment)."""

import os
import subprocess

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def galaxy_meta():
    with open(os.path.join(REPO, "galaxy.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def isolated_env(tmp_path, **extra):
    """The environment for a packaging subprocess: nothing points back at the source tree.

    The Makefile exports PYTHONPATH and ANSIBLE_COLLECTIONS_PATH at .build/collections (a link to
    this tree): both go, and Ansible may not find collections on sys.path either. HOME and Ansible's
    temp folders are private to the test, and the developer's Graph credentials never leak in.
    """
    env = dict(os.environ)
    for name in list(env):
        if name in ("PYTHONPATH", "ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS", "ANSIBLE_CONFIG") or \
                name.startswith(("AZURE_", "MSGRAPH_", "IDENTITY_", "GALAXY_IMPORTER_")) or \
                name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "XDG_CACHE_HOME"):
            del env[name]
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env.update({
        "HOME": str(home),
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "False",
        "ANSIBLE_REMOTE_TMP": str(tmp_path / "remote-tmp"),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "local-tmp"),
        "ANSIBLE_NOCOLOR": "1",
    })
    env.update(extra)
    return env


def run(cmd, env, cwd, timeout=300):
    return subprocess.run(cmd, env=env, cwd=str(cwd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, check=False, timeout=timeout)


def build_collection(src, output_dir, env):
    """`ansible-galaxy collection build` of src into output_dir; returns the tarball's path."""
    result = run(["ansible-galaxy", "collection", "build", "--output-path", str(output_dir), str(src)], env, output_dir)
    assert result.returncode == 0, result.stdout
    tarballs = sorted(output_dir.glob("*.tar.gz"))
    assert len(tarballs) == 1, result.stdout
    return tarballs[0]
