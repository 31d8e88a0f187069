# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every command and YAML snippet in docs/ that runs a playbook runs as written against the emulator.

The snippets are extracted from the .rst files (nothing is copied into this test), then run:

* console blocks with ``ansible-playbook``: every ``$`` command of the block, in bash, in an empty
  folder; a JSON block introduced by ``name.json`` in the same guide is written there first. The
  ``export AZURE_*`` / ``MSGRAPH_*`` lines are the reader's own credentials: the emulator's are set
  instead, through the same variables.
* YAML playbooks (plays with ``hosts``): check mode, then for real; the variables a guide leaves to
  the reader (``{{ tenant }}`` ...) get the emulator's values. A play on another host pattern runs
  with the inventory block of the same guide.
* the GitHub Actions and GitLab CI recipes: each job's shell steps in order, in one workspace (what
  the artifact steps carry), with the workflow's inputs as the pipeline would set them. Installing
  steps are left out (this tree is the collection) and so is the CI system's OIDC token request:
  the emulator's federated assertion stands in for the token it returns.
* the AWX project playbook: the check job, then the run job with the check job's ``set_stats``
  as extra variables, as an AWX workflow passes them on.

Where a recipe carries a message, a message with spaces, quotes and non-ASCII characters must
arrive intact in the emulator's record; where a recipe reviews before it runs, an appointment
booked between the two is not cancelled.
"""

import copy
import json
import os
import re
import subprocess

import pytest
import yaml

from emulator.graph.testing import load_fixture

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCS = os.path.join(REPO, "docs", "docsite", "rst")
BUSINESS = "contosoclinic@contoso.example"
DIEGO = "9e2f4a6c-8d0b-4c2e-a4f6-1b3d5f7a9c22"  # the staff member of the recipes
MESSAGE = "Dr. Siciliani's \"clinic\" is closed today: we'll call you back. Grüße, Zoë — 10% off ✓"
LATE = "AAMkADbookedAfterTheReview000000000000000000000A=="


# --------------------------------------------------------------------------- extraction


def code_blocks(name):
    """[(line, language, text, intro)] of a guide: intro is the paragraph line just before the block."""
    with open(os.path.join(DOCS, name), encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    blocks = []
    for index, line in enumerate(lines):
        found = re.match(r"^(\s*)\.\. code-block:: (\S+)", line)
        if not found:
            continue
        indent = len(found.group(1))
        body = []
        for following in lines[index + 1:]:
            if following.strip() and len(following) - len(following.lstrip()) <= indent:
                break
            body.append(following)
        text = "\n".join(body)
        width = min(len(b) - len(b.lstrip()) for b in body if b.strip())
        text = "\n".join(b[width:] for b in body).strip("\n") + "\n"
        intro = next((p.strip() for p in reversed(lines[:index]) if p.strip()), "")
        blocks.append((index + 1, found.group(2), text, intro))
    return blocks


def runnable(kind_filter=None):
    """Every snippet of docs/ that runs a playbook: (id, kind, text, guide)."""
    found = []
    for name in sorted(os.listdir(DOCS)):
        if not name.endswith(".rst"):
            continue
        for line, language, text, _intro in code_blocks(name):
            kind = None
            if language in ("console", "shell", "bash") and "ansible-playbook " in text:
                kind = "command"
            elif language.startswith("yaml") and "!unsafe" not in text:
                data = yaml.safe_load(text)
                if isinstance(data, dict) and "jobs" in data and "ansible-playbook" in text:
                    kind = "github"
                elif isinstance(data, dict) and "stages" in data and "ansible-playbook" in text:
                    kind = "gitlab"
                elif isinstance(data, list) and data and all(isinstance(p, dict) and "hosts" in p for p in data):
                    kind = "play"
                elif isinstance(data, list) and data and all(isinstance(p, dict) and "ansible.builtin.import_playbook" in p
                                                             for p in data):
                    kind = "awx_project"
            if kind and (kind_filter is None or kind == kind_filter):
                found.append(("%s:%d" % (name, line), kind, text, name))
    return found


def commands(text):
    """The $ commands of a console block, continuation lines joined; exports of credentials left out."""
    out, current = [], None
    for line in text.splitlines():
        if line.startswith("$ "):
            current = line[2:]
            out.append(current)
        elif current is not None and out[-1].endswith("\\"):
            out[-1] = out[-1] + "\n" + line
    return [c for c in out if not re.match(r"export (AZURE|MSGRAPH)_", c)]


def json_files(guide):
    """{file name: text} of the JSON blocks of a guide whose intro names the file (``day.json``:)."""
    files = {}
    for _line, language, text, intro in code_blocks(guide):
        named = re.search(r"``([\w.-]+\.json)``:?$", intro)
        if language == "json" and named:
            files[named.group(1)] = text
    return files


# --------------------------------------------------------------------------- running


def base_env(emu, tmp_path, federated=False):
    env = dict(os.environ)
    for name in list(env):
        if name.startswith(("AZURE_", "MSGRAPH_", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")):
            del env[name]
    conn = emu.conn
    env.update(HOME=str(tmp_path / "home"), ANSIBLE_NOCOLOR="1", ANSIBLE_SHOW_CUSTOM_STATS="1",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "local-tmp"), ANSIBLE_REMOTE_TMP=str(tmp_path / "remote-tmp"),
               AZURE_TENANT_ID=conn["tenant_id"], MSGRAPH_ENDPOINT=conn["graph_endpoint"],
               AZURE_AUTHORITY_HOST=conn["authority_host"], REQUESTS_CA_BUNDLE=conn["ca_path"],
               MSGRAPH_TOKEN_CACHE=str(tmp_path / "token-cache"))
    (tmp_path / "home").mkdir(exist_ok=True)
    if federated:
        env["AZURE_CLIENT_ID"] = conn["apps"]["federated"]["client_id"]
    else:
        env.update(AZURE_CLIENT_ID=conn["apps"]["secret"]["client_id"], AZURE_CLIENT_SECRET=conn["apps"]["secret"]["client_secret"])
    return env


def bash(script, env, cwd):
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], env=env, cwd=str(cwd), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, check=False, timeout=600)
    assert result.returncode == 0, script + "\n" + result.stdout[-6000:]
    assert "FAILED!" not in result.stdout, result.stdout[-6000:]
    return result.stdout


def book_late_appointment(emu):
    """A customer books into the reviewed day (2027-03-02, the staff member of the recipes) after the review."""
    seed = [b for b in load_fixture()["bookingBusinesses"] if b["id"] == BUSINESS][0]
    appt = copy.deepcopy(seed["appointments"][0])
    appt.update(id=LATE, staffMemberIds=[DIEGO], startDateTime={"dateTime": "2027-03-02T16:30:00.0000000+00:00", "timeZone": "UTC"},
                endDateTime={"dateTime": "2027-03-02T17:00:00.0000000+00:00", "timeZone": "UTC"})
    emu.seed({"bookingBusinesses": [{"id": BUSINESS, "appointments": [appt]}]})


def assert_reviewed_only(emu, message=MESSAGE):
    """Something was cancelled, the late booking was not, and every customer got the message as typed."""
    notes = emu.notifications()
    assert notes, "nothing was cancelled"
    assert LATE not in set(n["item_id"] for n in notes)
    assert LATE in set(a["id"] for a in emu.appointments_state(BUSINESS))
    assert set(n["message"] for n in notes if n["role"] == "customer") == {message}


def federated_assertion(emu):
    return emu.federated_token(emu.conn["apps"]["federated"]["client_id"], lifetime=3600)


# --------------------------------------------------------------------------- the tests


def test_the_docs_have_runnable_snippets():
    kinds = [kind for _id, kind, _text, _guide in runnable()]
    for kind in ("command", "play", "github", "gitlab", "awx_project"):
        assert kind in kinds, kind


@pytest.mark.parametrize("snippet", runnable("command"), ids=lambda s: s[0])
def test_console_commands_run_as_written(snippet, emu, tmp_path):
    _id, _kind, text, guide = snippet
    work = tmp_path / "work"
    (work / ".build" / "emulator").mkdir(parents=True)
    (work / ".build" / "emulator" / "connection.json").write_text(json.dumps(emu.conn), encoding="utf-8")
    for name, content in json_files(guide).items():
        (work / name).write_text(content, encoding="utf-8")
    bash("\n".join(commands(text)), base_env(emu, tmp_path), work)
    # A message a command passes as JSON (in a vars file or inline) arrives whole, as typed.
    given = text + "".join(json_files(guide).values())
    expected = set(re.findall(r'"(?:cancellation_message|comment)": "([^"]+)"', given))
    sent = set(n["message"] for n in emu.notifications())
    if expected and sent:
        assert sent <= expected, sent


# The variables a guide's play leaves to the reader, with the emulator's values.
def reader_vars(emu):
    conn = emu.conn
    return {
        "msgraph_tenant_id": conn["tenant_id"], "msgraph_client_id": conn["apps"]["secret"]["client_id"],
        "msgraph_client_secret": conn["apps"]["secret"]["client_secret"],
        "appointment_id": "AAMkAD5gD_eusNSOjbVuS1xDH0q0vkNJ9Cej-UrzqXIM_HueE==",
        "tenant": conn["tenant_id"], "app": conn["apps"]["certificate"]["client_id"],
        "certificate_path": conn["apps"]["certificate"]["pem_path"],
        "staff_member_id": DIEGO,
    }


def inventory_of(guide):
    for _line, language, text, _intro in code_blocks(guide):
        data = yaml.safe_load(text) if language.startswith("yaml") and "!unsafe" not in text else None
        if isinstance(data, dict) and all(isinstance(v, dict) and "hosts" in v for v in data.values()):
            return text
    return None


@pytest.mark.parametrize("snippet", runnable("play"), ids=lambda s: s[0])
def test_playbooks_run_as_written(snippet, emu, tmp_path):
    _id, _kind, text, guide = snippet
    (tmp_path / "play.yml").write_text(text, encoding="utf-8")
    (tmp_path / "vars.json").write_text(json.dumps(reader_vars(emu)), encoding="utf-8")
    inventory = "localhost,"
    if any(p["hosts"] != "localhost" for p in yaml.safe_load(text)):
        (tmp_path / "inventory.yml").write_text(inventory_of(guide), encoding="utf-8")
        inventory = "inventory.yml"
    env = base_env(emu, tmp_path)
    if "module_defaults" in text:  # the play names its own credentials: none from the environment
        del env["AZURE_CLIENT_ID"], env["AZURE_CLIENT_SECRET"]
    bash("ansible-playbook -i %s play.yml -e @vars.json --check --diff" % inventory, env, tmp_path)
    assert emu.notifications() == []
    bash("ansible-playbook -i %s play.yml -e @vars.json" % inventory, env, tmp_path)
    assert emu.notifications(), "the play cancelled nothing"


def _expand(value, names):
    return re.sub(r"\$\{\{\s*([\w.]+)\s*\}\}", lambda m: names[m.group(1)], value)


@pytest.mark.parametrize("snippet", runnable("github"), ids=lambda s: s[0])
def test_github_actions_recipe(snippet, emu, tmp_path):
    workflow = yaml.safe_load(snippet[2])
    conn = emu.conn
    names = {"inputs.business_id": BUSINESS, "inputs.day": "2027-03-02", "inputs.staff_member_id": DIEGO,
             "inputs.cancellation_message": MESSAGE, "vars.AZURE_TENANT_ID": conn["tenant_id"],
             "vars.AZURE_CLIENT_ID": conn["apps"]["federated"]["client_id"]}
    workspace = tmp_path / "workspace"
    runner_temp = tmp_path / "runner-temp"
    workspace.mkdir()
    runner_temp.mkdir()
    token_file = runner_temp / "azure-federated-token"
    token_file.write_text(federated_assertion(emu), encoding="utf-8")
    env = base_env(emu, tmp_path, federated=True)
    env.update((k, _expand(str(v), names)) for k, v in workflow["env"].items())
    env.update(RUNNER_TEMP=str(runner_temp), AZURE_FEDERATED_TOKEN_FILE=str(token_file))
    for job_name in ("review", "cancel"):
        job = workflow["jobs"][job_name]
        job_env = dict(env)
        job_env.update((k, _expand(str(v), names)) for k, v in job.get("env", {}).items())
        for step in job["steps"]:
            script = step.get("run")
            if not script or "pip install" in script or "ACTIONS_ID_TOKEN_REQUEST" in script:
                continue  # installing (this tree is the collection) or GitHub's own token service
            bash(script, job_env, workspace)
        if job_name == "review":
            assert emu.notifications() == []
            assert json.loads((workspace / "reviewed.json").read_text(encoding="utf-8"))["approved_ids"]
            book_late_appointment(emu)
    assert_reviewed_only(emu)


@pytest.mark.parametrize("snippet", runnable("gitlab"), ids=lambda s: s[0])
def test_gitlab_ci_recipe(snippet, emu, tmp_path):
    pipeline = yaml.safe_load(snippet[2])
    conn = emu.conn
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    env = base_env(emu, tmp_path, federated=True)
    env.update((k, str(v)) for k, v in pipeline.get("variables", {}).items())
    # The reader's tenant and apps are the emulator's here; the pipeline's inputs as "Run pipeline" sets them.
    env.update(AZURE_TENANT_ID=conn["tenant_id"], REVIEW_APP_CLIENT_ID=conn["apps"]["federated"]["client_id"],
               CANCEL_APP_CLIENT_ID=conn["apps"]["federated"]["client_id"], GRAPH_ID_TOKEN=federated_assertion(emu),
               BUSINESS_ID=BUSINESS, DAY="2027-03-02", STAFF_MEMBER_ID=DIEGO, CANCELLATION_MESSAGE=MESSAGE)
    for job_name in ("review", "cancel"):
        job = dict(pipeline[pipeline[job_name]["extends"]])
        job.update(pipeline[job_name])
        job_env = dict(env)
        for key, value in job.get("variables", {}).items():
            job_env[key] = re.sub(r"\$(\w+)", lambda m: env[m.group(1)], str(value))
        lines = [line for line in job["before_script"] + job["script"]
                 if "pip install" not in line and "ansible-galaxy collection install" not in line]
        bash("\n".join(lines), job_env, workspace)
        if job_name == "review":
            assert emu.notifications() == []
            assert [p for p in job["artifacts"]["paths"] if (workspace / p).exists()] == ["reviewed.json"]
            book_late_appointment(emu)
    assert_reviewed_only(emu)


@pytest.mark.parametrize("snippet", runnable("awx_project"), ids=lambda s: s[0])
def test_awx_check_approve_run_workflow(snippet, emu, tmp_path):
    """The AWX workflow without AWX: the check job, then the run job with the check job's set_stats
    data as extra variables (what AWX passes to the nodes after an approval)."""
    (tmp_path / "cancel_bookings_for_day.yml").write_text(snippet[2], encoding="utf-8")
    launch = {"business_id": BUSINESS, "day": "2027-03-02", "staff_member_id": DIEGO, "cancellation_message": MESSAGE,
              "max_items": 50}
    (tmp_path / "launch.json").write_text(json.dumps(launch), encoding="utf-8")
    env = base_env(emu, tmp_path)
    out = bash("ansible-playbook -i localhost, cancel_bookings_for_day.yml -e @launch.json --check --diff", env, tmp_path)
    stats = json.loads(re.search(r"RUN: (\{.*?\})\s*$", out, re.S | re.M).group(1))
    assert stats["approved_ids"] and emu.notifications() == []
    book_late_appointment(emu)  # booked while the approval waits
    (tmp_path / "artifacts.json").write_text(json.dumps(stats), encoding="utf-8")
    out = bash("ansible-playbook -i localhost, cancel_bookings_for_day.yml -e @launch.json -e @artifacts.json --diff",
               env, tmp_path)
    assert LATE in out  # reported as not approved
    assert_reviewed_only(emu)
    assert sorted(set(n["item_id"] for n in emu.notifications())) == sorted(stats["approved_ids"])
