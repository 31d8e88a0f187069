# graphops.msgraph: every target works from a fresh clone with only python3, make and git.
# `make test` is what CI runs (.ci/run). See README.md.

PYTHON ?= python3
VENV := $(CURDIR)/.venv
PY := $(VENV)/bin/python
BUILD := $(CURDIR)/.build
COLLECTIONS := $(BUILD)/collections
COLLECTION := $(COLLECTIONS)/ansible_collections/graphops/msgraph
STAMP := $(VENV)/.installed

# The tree is exposed to Ansible as ansible_collections/graphops/msgraph (a link), so
# ansible-playbook, ansible-doc, molecule and pytest all see the working tree as it is.
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_REMOTE_TMP := $(BUILD)/ansible-tmp/remote
export ANSIBLE_LOCAL_TEMP := $(BUILD)/ansible-tmp/local
# Interpreter discovery may pick a broken pyenv shim for localhost (TOOLING.md): pin it.
export ANSIBLE_PYTHON_INTERPRETER := $(PY)
export ANSIBLE_NOCOLOR := 1
export PYTHONPATH := $(COLLECTIONS)
export PATH := $(VENV)/bin:$(PATH)
# The emulator writes its throwaway CA and connection file below this folder.
EMULATOR_DIR := $(BUILD)/emulator

# tests/ on the path for the skip_is_failure plugin; the collection link for the plugins/ code.
PYTEST := PYTHONPATH=$(COLLECTIONS):$(CURDIR)/tests $(PY) -m pytest -c tests/pytest.ini -p skip_is_failure

.PHONY: help venv collection test sanity lint units integration molecule changelog-lint docs-lint artifact ee reliability reliability-scale emulator conformance demo bench clean

help:
	@echo "make demo      cancel bookings and a meeting against the bundled Graph emulator (run twice: changed, then ok)"
	@echo "make test      everything CI checks: sanity, lint, changelog lint, unit + emulator tests, integration, molecule"
	@echo "make units | integration | sanity | lint | molecule | changelog-lint | docs-lint | artifact | ee | emulator [PORT=0] | conformance | bench | clean"

$(STAMP): requirements-test.txt requirements.txt tests/emulator/requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
	touch $@

venv: $(STAMP)

$(COLLECTION):
	mkdir -p $(dir $@) $(ANSIBLE_REMOTE_TMP) $(ANSIBLE_LOCAL_TEMP)
	ln -sfn $(CURDIR) $@

collection: venv $(COLLECTION)

test: sanity lint changelog-lint units integration molecule docs-lint artifact ee reliability
	@echo "make test: all checks passed"

# ansible-test needs the collection at a real ansible_collections/<ns>/<name> path (it resolves
# links), so sanity runs on a fresh copy of the files git tracks or would track. The copy gets a
# git repository of its own: inside ours, .build/ is ignored and ansible-test would skip it all.
sanity: collection
	$(PY) hacking/prepare_ansible_test.py
	rm -rf $(BUILD)/sanity
	$(PY) hacking/copy_tree.py $(BUILD)/sanity/ansible_collections/graphops/msgraph
	cd $(BUILD)/sanity/ansible_collections/graphops/msgraph && git init -q && \
		$(VENV)/bin/ansible-test sanity --python 3.11 --color no

lint: collection
	$(VENV)/bin/ansible-lint --profile production --offline

# Also: CHANGELOG.rst is what antsibull-changelog generates from changelogs/changelog.yaml. It holds
# released versions only, so fragments waiting for the next release do not make it stale.
changelog-lint: venv
	$(VENV)/bin/antsibull-changelog lint
	rm -rf $(BUILD)/changelog && mkdir -p $(BUILD)/changelog
	cp -R galaxy.yml changelogs CHANGELOG.rst $(BUILD)/changelog/
	cd $(BUILD)/changelog && $(VENV)/bin/antsibull-changelog generate
	@diff -u CHANGELOG.rst $(BUILD)/changelog/CHANGELOG.rst || \
		{ echo "CHANGELOG.rst is stale: run antsibull-changelog generate and commit it"; exit 1; }

# The Galaxy artifact: build the tarball (no checkout leftovers in it), install it into an empty
# collections path and run an example playbook from there against the emulator, galaxy-importer.
artifact: collection
	$(PYTEST) -n 2 tests/distribution/test_artifact.py tests/distribution/test_galaxy_importer.py

# The example execution environment (docs/execution-environment/): ansible-builder create renders
# it with this tree's tarball, and its introspection lists our Python and system requirements.
ee: collection
	$(PYTEST) tests/distribution/test_execution_environment.py

# The guides in docs/docsite/ (extra-docs.yml, rstcheck, and every :ansplugin:/:ansopt: reference in
# them resolved against the real modules) and the plugin docs (schema, markup, references).
docs-lint: collection
	$(VENV)/bin/antsibull-docs lint-collection-docs --plugin-docs --check-extra-docs-refs \
		--validate-collection-refs dependent --disallow-unknown-collection-refs $(COLLECTION)

# Tests that need no emulator (scripted HTTP, real sockets on 127.0.0.1): run by pytest here (a skip fails
# the run), then as `ansible-test units` runs them, on a copy at a real ansible_collections path.
units: collection
	$(PYTEST) -n 2 tests/unit
	$(PY) hacking/prepare_ansible_test.py
	rm -rf $(BUILD)/units
	$(PY) hacking/copy_tree.py $(BUILD)/units/ansible_collections/graphops/msgraph
	cd $(BUILD)/units/ansible_collections/graphops/msgraph && git init -q && \
		$(VENV)/bin/ansible-test units --python 3.11 --venv --color no

# Against the emulator: each module through main() (tests/integration/modules) and end-to-end
# suites, real ansible-playbook runs (module EXAMPLES, ...).
integration: collection
	$(PYTEST) -n 2 tests/integration

# Molecule keeps its state under ~/.cache keyed by the project folder's name: two clones with the same
# name (CI's and a developer's) would share it, so each tree gets its own.
molecule: collection
	MOLECULE_EPHEMERAL_DIRECTORY=$(BUILD)/molecule-state $(VENV)/bin/molecule test --all

# Reliability suite (issue 7): faults, bad input, secrets and a throttle storm through real playbooks,
# judged through the emulator's record; it ends by printing the table shown in README.md.
reliability: collection
	$(PYTEST) -n 2 -m "not scale" tests/reliability

# Its 5,000-appointment case takes over a minute: kept out of make test, for make bench.
reliability-scale: collection
	$(PYTEST) -m scale tests/reliability

# The emulator in the foreground (docs/docsite/rst/guide_emulator.rst). PORT=0 (the default) picks a
# free port; a port that is taken, or another emulator running in EMULATOR_DIR, is refused (exit 2).
PORT ?= 0
emulator: collection
	mkdir -p $(EMULATOR_DIR)
	cd tests && $(PY) -m emulator --port $(PORT) --state-dir $(EMULATOR_DIR) --connection-file $(EMULATOR_DIR)/connection.json

# Microsoft's own clients (msgraph-sdk, msgraph-beta-sdk, azure-identity) against the emulator: every
# route the modules use, error shapes, $batch, a 429, each auth method; prints a table (README.md,
# Conformance) and fails on a mismatch. Not part of make test: the SDKs get a virtualenv of their own.
CONFORMANCE_VENV := $(BUILD)/conformance-venv
$(CONFORMANCE_VENV)/.installed: tests/conformance/requirements.txt
	test -x $(CONFORMANCE_VENV)/bin/python || $(PYTHON) -m venv $(CONFORMANCE_VENV)
	$(CONFORMANCE_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r tests/conformance/requirements.txt
	touch $@

conformance: collection $(CONFORMANCE_VENV)/.installed
	PYTHONPATH=$(CURDIR)/tests EMULATOR_PYTHON=$(PY) $(CONFORMANCE_VENV)/bin/python tests/conformance/conformance.py

# make demo: a virtualenv of its own with only ansible-core, the runtime requirements and the emulator's
# (pip's own progress is shown: the first run downloads them), then hacking/demo.py.
DEMO_VENV := $(BUILD)/demo-venv
$(DEMO_VENV)/.installed: requirements-demo.txt requirements.txt tests/emulator/requirements.txt
	@echo "make demo: installing ansible-core, requests, msal and the emulator's requirements into $(DEMO_VENV)"
	test -x $(DEMO_VENV)/bin/python || $(PYTHON) -m venv $(DEMO_VENV)
	$(DEMO_VENV)/bin/python -m pip install --disable-pip-version-check --progress-bar on -r requirements-demo.txt
	touch $@

demo: $(DEMO_VENV)/.installed $(COLLECTION)
	PATH=$(DEMO_VENV)/bin:$$PATH ANSIBLE_PYTHON_INTERPRETER=$(DEMO_VENV)/bin/python $(DEMO_VENV)/bin/python hacking/demo.py

# Bulk and single-task timings against the emulator's latency model (benchmarks/README.md), then
# the reliability suite's 5,000-item case. Not part of make test: figures are reported, never
# asserted in a timed unit test. Every part runs; the target fails at the end when one of them did.
bench: collection
	@status=0; \
	$(PY) benchmarks/bench.py || status=1; \
	$(PY) benchmarks/bench_offboarding.py || status=1; \
	$(MAKE) reliability-scale || status=1; \
	if [ $$status -ne 0 ]; then echo "make bench: a benchmark part failed (see BENCHMARK CHECKS FAILED above)"; fi; \
	exit $$status

clean:
	rm -rf $(BUILD) tests/output .pytest_cache tests/.pytest_cache
