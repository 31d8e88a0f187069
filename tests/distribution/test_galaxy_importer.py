# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""galaxy-importer, the check Galaxy runs on every upload, accepts the tarball without a complaint.

It runs as Galaxy runs it, minus the ansible-test step that needs a container engine (off by
default): manifest and file checksums, ansible-doc on every plugin, the changelog, the
meta/execution-environment.yml files, and ansible-lint with the production profile. Its warnings
are shown on the collection's import log, so the test allows none.
"""

import json
import os
import sys

import yaml

from dist_support import REPO, galaxy_meta, isolated_env, run  # pylint: disable=import-error


def test_galaxy_importer_accepts_the_tarball(collection_tarball, tmp_path):
    config = tmp_path / "galaxy-importer.cfg"
    config.write_text("[galaxy-importer]\nrun_ansible_test = False\nansible_local_tmp = {0}\ntmp_root_dir = {0}\n".format(tmp_path),
                      encoding="utf-8")
    env = isolated_env(tmp_path, GALAXY_IMPORTER_CONFIG=str(config))
    result = run([sys.executable, "-m", "galaxy_importer.main", str(collection_tarball)], env, tmp_path, timeout=600)
    log = result.stdout
    assert result.returncode == 0, log
    assert "Importer processing completed successfully" in log, log
    complaints = [line for line in log.splitlines() if line.startswith(("ERROR:", "WARNING:", "CRITICAL:"))]
    assert complaints == [], "\n".join(complaints)

    with open(str(tmp_path / "importer_result.json"), encoding="utf-8") as handle:
        imported = json.load(handle)
    meta = galaxy_meta()
    assert {k: imported["metadata"][k] for k in ("namespace", "name", "version")} == \
        {k: meta[k] for k in ("namespace", "name", "version")}
    with open(os.path.join(REPO, "meta", "runtime.yml"), encoding="utf-8") as handle:
        assert imported["requires_ansible"] == yaml.safe_load(handle)["requires_ansible"]

    modules = sorted(f[:-3] for f in os.listdir(os.path.join(REPO, "plugins", "modules")) if f.endswith(".py"))
    assert sorted(c["name"] for c in imported["contents"] if c["content_type"] == "module") == modules
    # Galaxy renders each module's page from the docs ansible-doc gave the importer.
    documented = {c["content_name"]: c for c in imported["docs_blob"]["contents"] if c["content_type"] == "module"}
    assert sorted(documented) == modules
    for name, entry in documented.items():
        doc = entry["doc_strings"]
        assert doc and doc["doc"]["short_description"] and doc["examples"] and doc["return"], name
    assert imported["docs_blob"]["collection_readme"]["html"], "the README did not render"
