# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PlaybookRunner: real ansible-playbook runs in an isolated HOME, shared by the end-to-end suites
(tests/integration, tests/reliability); RecordingRunner also records each task's result."""

import json
import os
import subprocess

import requests
import yaml


# The task_record callback (tests only): one JSON line per task result, for RecordingRunner.
TASK_RECORD_CALLBACKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reliability", "callback_plugins")


def app_token(conn):
    """An app-only token of the emulator's secret app, fetched by hand: for a third party acting while a task
    runs, or what a stand-in `az` hands out."""
    answer = requests.post(
        "%s/%s/oauth2/v2.0/token" % (conn["authority_host"], conn["tenant_id"]),
        data={"grant_type": "client_credentials", "client_id": conn["apps"]["secret"]["client_id"],
              "client_secret": conn["apps"]["secret"]["client_secret"], "scope": conn["graph_endpoint"] + "/.default"},
        verify=conn["ca_path"], timeout=30)
    answer.raise_for_status()
    return answer.json()["access_token"]


def connection_defaults(conn, **extra):
    """module_defaults for the emulator's client-secret app (conn: the emulator's connection file)."""
    defaults = {"tenant_id": conn["tenant_id"], "client_id": conn["apps"]["secret"]["client_id"],
                "client_secret": conn["apps"]["secret"]["client_secret"], "graph_endpoint": conn["graph_endpoint"],
                "authority_host": conn["authority_host"], "ca_path": conn["ca_path"]}
    defaults.update(extra)
    return defaults


class PlaybookRunner:
    """Runs a play of given tasks with ansible-playbook in an isolated HOME and temp dirs."""

    def __init__(self, conn, tmp_path):
        self.conn = conn
        self.tmp_path = tmp_path
        self.home = tmp_path / "home"
        self.home.mkdir()
        self.log_path = tmp_path / "ansible.log"
        self.env = dict(os.environ)
        self.env.update({
            "HOME": str(self.home),
            "ANSIBLE_REMOTE_TMP": str(tmp_path / "remote-tmp"),
            "ANSIBLE_LOCAL_TEMP": str(tmp_path / "local-tmp"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_LOG_PATH": str(self.log_path),
        })
        # Nothing from the developer's own environment may leak into what is under test.
        for name in list(self.env):
            if name.startswith(("AZURE_", "MSGRAPH_", "IDENTITY_", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "XDG_CACHE_HOME")):
                del self.env[name]

    def write_play(self, tasks, module_defaults=None, name="play.yml"):
        play = {"name": "under test", "hosts": "localhost", "connection": "local", "gather_facts": False, "tasks": tasks}
        if module_defaults:
            play["module_defaults"] = {"group/graphops.msgraph.msgraph": module_defaults}
        playbook = self.tmp_path / name
        playbook.write_text(yaml.safe_dump([play], sort_keys=False), encoding="utf-8")
        return playbook

    def start(self, tasks, *args, env=None, module_defaults=None, name="play.yml"):
        """Start ansible-playbook without waiting: a Popen whose stdout holds the merged output.

        Runs started side by side need playbooks of their own: give each its own name."""
        playbook = self.write_play(tasks, module_defaults, name=name)
        full_env = dict(self.env)
        full_env.update(env or {})
        return subprocess.Popen(  # pylint: disable=consider-using-with
            ["ansible-playbook", "-i", "localhost,", str(playbook)] + list(args),
            env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=str(self.tmp_path),
        )

    def run(self, tasks, *args, env=None, module_defaults=None):
        proc = self.start(tasks, *args, env=env, module_defaults=module_defaults)
        stdout, _stderr = proc.communicate()
        return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, None)


class Play:
    """One ansible-playbook run: exit code, output, and each task's record by task name."""

    def __init__(self, proc, records):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.tasks = {}
        for record in records:
            self.tasks[record["task"]] = record
        self.start = min((r["start"] for r in records if r.get("start")), default=0.0)

    def __getitem__(self, name):
        return self.tasks.get(name)


class RecordingRunner(PlaybookRunner):
    """A PlaybookRunner whose runs also record each task (name, ok/failed, start/end, result)."""

    def __init__(self, conn, tmp_path):
        super().__init__(conn, tmp_path)
        self.runs = 0

    def _record_env(self, env):
        self.runs += 1
        path = self.tmp_path / ("tasks-%d.jsonl" % self.runs)
        full = dict(env or {})
        full.update({"ANSIBLE_CALLBACK_PLUGINS": TASK_RECORD_CALLBACKS,
                     "ANSIBLE_CALLBACKS_ENABLED": "task_record", "TASK_RECORD_PATH": str(path)})
        return path, full

    @staticmethod
    def _records(path):
        if not path.exists():
            return []
        with open(str(path), encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]

    def play(self, tasks, *args, env=None, module_defaults=None):
        path, full = self._record_env(env)
        proc = self.run(tasks, *args, env=full, module_defaults=module_defaults)
        return Play(proc, self._records(path))

    def start_play(self, tasks, *args, env=None, module_defaults=None, name="play.yml"):
        """Start a run without waiting; finish_play() collects it. Runs side by side need their own name."""
        path, full = self._record_env(env)
        return path, self.start(tasks, *args, env=full, module_defaults=module_defaults, name=name)

    def finish_play(self, started, timeout=600):
        path, proc = started
        stdout, _stderr = proc.communicate(timeout=timeout)
        proc.stdout = stdout
        return Play(proc, self._records(path))
