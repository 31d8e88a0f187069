# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The example execution environment (docs/execution-environment/) renders, and brings our dependencies.

`ansible-builder create` renders the build context without a container engine. The example takes
graphops.msgraph from Galaxy; here it takes this tree's tarball instead (copied into the context
with additional_build_files), so the check works offline and is about this collection. ansible-builder 3
works out a collection's Python and system requirements inside the image build, so the test then
replays the two stages that do it, on this machine and from the rendered context: the galaxy stage's
`ansible-galaxy collection install -r requirements.yml`, and the builder stage's introspect command
exactly as the Containerfile spells it. What that writes is what the image would install.
"""

import os
import re
import shlex
import shutil
import sys

import yaml
from bindep.depends import Depends

from dist_support import REPO, isolated_env, run  # pylint: disable=import-error

EXAMPLE = os.path.join(REPO, "docs", "execution-environment")
OURS = "graphops.msgraph"
# What bindep reports on the example's base image (CentOS Stream 9), and on Debian for contrast.
RPM_PLATFORM = ["platform:rpm", "platform:dnf", "platform:redhat", "platform:centos", "platform:centos-9"]
DPKG_PLATFORM = ["platform:dpkg", "platform:debian", "platform:debian-12"]


def requirement_lines(path):
    with open(path, encoding="utf-8") as handle:
        return [line.strip() for line in handle if line.strip() and not line.lstrip().startswith("#")]


def load_yaml(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def dump_yaml(path, data):
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump(data, handle, sort_keys=False)


def ee_from_example_with_local_tarball(tarball, ee_dir):
    """A copy of the example whose graphops.msgraph comes from tarball instead of Galaxy."""
    shutil.copytree(EXAMPLE, str(ee_dir))
    definition = load_yaml(str(ee_dir / "execution-environment.yml"))
    requirements = load_yaml(str(ee_dir / definition["dependencies"]["galaxy"]))
    ours = [c for c in requirements["collections"] if c["name"] == OURS]
    assert len(ours) == 1, "the example must install %s: %s" % (OURS, requirements)
    ours[0].clear()
    ours[0].update({"name": "collections/" + tarball.name, "type": "file"})
    dump_yaml(str(ee_dir / definition["dependencies"]["galaxy"]), requirements)
    definition.setdefault("additional_build_files", []).append({"src": str(tarball), "dest": "collections"})
    dump_yaml(str(ee_dir / "execution-environment.yml"), definition)
    return definition


def test_example_renders_and_brings_our_dependencies(collection_tarball, tmp_path):
    example = load_yaml(os.path.join(EXAMPLE, "execution-environment.yml"))
    assert example["version"] == 3
    ee_dir = tmp_path / "ee"
    ee_from_example_with_local_tarball(collection_tarball, ee_dir)
    context = tmp_path / "context"
    env = isolated_env(tmp_path, ANSIBLE_GALAXY_DISABLE_GPG_VERIFY="1")

    created = run(["ansible-builder", "create", "-f", str(ee_dir / "execution-environment.yml"), "-c", str(context),
                   "--output-filename", "Containerfile"], env, tmp_path)
    assert created.returncode == 0, created.stdout
    containerfile = (context / "Containerfile").read_text(encoding="utf-8")
    build = context / "_build"

    # The rendered context: the example's base image and interpreter, our tarball, the galaxy install.
    assert 'ARG EE_BASE_IMAGE="%s"' % example["images"]["base_image"]["name"] in containerfile
    assert 'ARG PYCMD="%s"' % example["dependencies"]["python_interpreter"]["python_path"] in containerfile
    assert (build / "collections" / collection_tarball.name).read_bytes() == collection_tarball.read_bytes()
    assert re.search(r"^RUN .*ansible-galaxy collection install .*-r requirements\.yml", containerfile, re.M)
    introspect = re.findall(r"^RUN \$PYCMD /output/scripts/introspect\.py introspect (.*)$", containerfile, re.M)
    assert len(introspect) == 1, containerfile

    # Galaxy stage (WORKDIR /build is the context's _build folder).
    collections = tmp_path / "usr-share-ansible-collections"
    installed = run(["ansible-galaxy", "collection", "install", "-r", "requirements.yml", "--collections-path", str(collections)],
                    env, build)
    assert installed.returncode == 0, installed.stdout
    assert (collections / "ansible_collections" / "graphops" / "msgraph" / "meta" / "execution-environment.yml").is_file()

    # Builder stage: the Containerfile's own introspect arguments, pointed at this machine's paths.
    out = tmp_path / "src"
    args = [a.replace("/tmp/src/", str(out) + os.sep) for a in shlex.split(introspect[0])]
    result = run([sys.executable, str(build / "scripts" / "introspect.py"), "introspect"] + args + [str(collections)], env, build)
    assert result.returncode == 0, result.stdout

    pip_lines = (out / "requirements.txt").read_text(encoding="utf-8").splitlines()
    for requirement in requirement_lines(os.path.join(REPO, "requirements.txt")):
        assert "%s  # from collection %s" % (requirement, OURS) in pip_lines, (requirement, pip_lines)
    assert {re.split(r"[<>=!~ ;\[]", line, maxsplit=1)[0].lower() for line in pip_lines} >= {"requests", "msal"}

    system_text = (out / "bindep.txt").read_text(encoding="utf-8")
    system_lines = system_text.splitlines()
    for entry in requirement_lines(os.path.join(REPO, "bindep.txt")):
        assert "%s  # from collection %s" % (entry, OURS) in system_lines, (entry, system_lines)
    for entry in example["dependencies"]["system"]:
        assert "%s  # from collection user" % entry in system_lines, (entry, system_lines)

    # What bindep makes of the combined list in the builder and the final stage of the image.
    depends = Depends(system_text)

    def packages(platform, profile):
        return {rule[0] for rule in depends.active_rules(platform + [profile])}

    assert packages(RPM_PLATFORM, "default") == set(), "the final image needs no system packages for us"
    assert packages(RPM_PLATFORM, "compile") >= {"gcc", "cargo", "openssl-devel", "libffi-devel", "python3.12-devel"}
    assert packages(DPKG_PLATFORM, "default") == set()
    assert packages(DPKG_PLATFORM, "compile") >= {"build-essential", "cargo", "libssl-dev", "libffi-dev", "python3-dev"}
