# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 16 at unit depth: the mailbox lock and its trace, the controller watch, the client's
before_write hook and a credential failing mid-run, $batch answers under unknown ids, two ids of
one event, the refused Unicode categories."""

import json
import os

import pytest

from ansible_collections.graphops.msgraph.plugins.module_utils import _mailbox_lock as ml
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_batch import batch_responses
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_client import ReadOp, WriteOp
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_errors import AuthenticationError, InvalidInputError
from ansible_collections.graphops.msgraph.plugins.module_utils._ids import validate_id
from ansible_collections.graphops.msgraph.plugins.module_utils import _events as events


# ------------------------------------------------------------------------------ the lock


def test_lock_records_its_holder_and_a_second_taker_times_out_naming_it(tmp_path):
    first = ml.MailboxLock("https://graph.test", "users/Adele@contoso.example", "calendar_event_cancel", directory=str(tmp_path))
    first.acquire(1, "cancelling events")
    first.record(cancel_sent=["A1", "A2"])
    with open(first.path, encoding="utf-8") as handle:
        info = json.load(handle)
    assert info["pid"] == os.getpid() and info["state"] == "running" and info["cancel_sent"] == ["A1", "A2"]
    assert oct(os.stat(first.path).st_mode & 0o777) == "0o600"
    # The same mailbox, spelled in another case: the same lock.
    second = ml.MailboxLock("https://graph.test/", "users/adele@contoso.example", "calendar_event_cancel",
                            directory=str(tmp_path), sleep=lambda s: None)
    assert second.path == first.path
    with pytest.raises(ml.LockTimeout) as caught:
        second.acquire(0, "cancelling events")
    message = str(caught.value)
    assert "users/adele@contoso.example" in message and "process %d" % os.getpid() in message and "max_wait" in message
    first.release()
    second.acquire(0, "cancelling events")
    assert second.previous["state"] == "finished" and second.previous_unfinished() is None
    second.release()


def test_a_run_that_did_not_finish_is_reported_by_the_next(tmp_path):
    lock = ml.MailboxLock("https://graph.test", "bookingBusinesses/b", "booking_appointment_cancel", directory=str(tmp_path))
    lock.acquire(1, "cancelling")
    lock.record(cancel_sent=["X%d" % n for n in range(3)])
    lock.record(state="stopped", stopped_because="process 1234 is gone")
    os.close(lock._fd)  # pylint: disable=protected-access  # the process dies: the kernel drops the flock
    lock._fd = None  # pylint: disable=protected-access
    nxt = ml.MailboxLock("https://graph.test", "bookingBusinesses/b", "booking_appointment_cancel", directory=str(tmp_path))
    nxt.acquire(1, "cancelling")
    previous = nxt.previous_unfinished()
    assert previous["state"] == "stopped" and previous["cancel_sent"] == ["X0", "X1", "X2"]
    text = ml.describe_unfinished(previous)
    assert "did not finish" in text and "process 1234 is gone" in text and "X2" in text
    nxt.release()


def test_controller_watch_notices_a_new_parent():
    parents = [4242]
    watch = ml.ControllerWatch(getppid=lambda: parents[0])
    assert watch.gone() is None or watch.chain  # the real ancestors are alive
    parents[0] = 1  # re-parented to init: our parent died
    assert watch.gone() == 4242


def test_controller_watch_records_the_ancestors_up_to_the_topmost_ansible_command(monkeypatch):
    # 50 (module) -> 40 (sh) -> 30 (the worker ansible-playbook forked) -> 20 (ansible-playbook) -> 10 (a shell)
    parents = {50: 40, 40: 30, 30: 20, 20: 10, 10: 1}
    clis = {30, 20}
    alive = set(parents)
    monkeypatch.setattr(ml, "_proc_stat", lambda pid: (parents[pid], pid * 7, 0) if pid in alive else None)
    monkeypatch.setattr(ml, "_is_ansible_cli", lambda pid: pid in clis)
    watch = ml.ControllerWatch(pid=50, getppid=lambda: 40)
    assert [pid for pid, _start in watch.chain] == [40, 30, 20] and watch.gone() is None
    alive.discard(20)  # ansible-playbook killed: its worker and the shell live on
    assert watch.gone() == 20
    # No Ansible command above (an async task's daemon): only the parent is watched.
    clis.clear()
    alive.add(20)
    assert ml.ControllerWatch(pid=50, getppid=lambda: 40).chain == []


def test_controller_watch_of_this_process():
    watch = ml.ControllerWatch()
    assert watch.gone() is None


# ------------------------------------------------------------------------------ the client


def _cancel_ops(n):
    return [WriteOp(key="k%d" % i, path="/users/u/events/E%d/cancel" % i, body={}, mailbox="m",
                    probe_path="/users/u/events/E%d" % i, probe_done=lambda s, b: s == 404) for i in range(n)]


def test_before_write_stops_every_later_write_and_keeps_what_was_done(make_client):
    client, adapter = make_client(lambda rec: (202, None))
    calls = []

    def before_write(keys):
        calls.append(list(keys))
        if len(calls) > 1:
            raise ml.ControllerGone("process 1 is gone")

    client.before_write = before_write
    assert [o.result for o in client.write_at_most_once(_cancel_ops(1))] == ["done"]
    outcomes = client.write_at_most_once(_cancel_ops(3))
    assert [o.result for o in outcomes] == ["failed"] * 3
    assert all(isinstance(o.error, ml.ControllerGone) for o in outcomes)
    assert len(adapter.requests) == 1 and calls == [["k0"], ["k0", "k1", "k2"]]
    # Reads still go out (a probe is a read).
    assert client.read_many([ReadOp("r", "/users/u/events/E9")])[0].status == 202


def test_a_credential_failing_mid_run_keeps_the_outcomes_settled_before(make_client, batch_server):
    state = {"n": 0}

    def item(sub):
        state["n"] += 1
        if sub["url"].endswith("E1/cancel"):
            return 429, {"error": {"code": "TooManyRequests", "message": "x"}}, {"Retry-After": "1"}
        return 202, None

    client, adapter = make_client(batch_server(item))
    tokens = client.token_provider
    calls = {"n": 0}

    def get_token():
        calls["n"] += 1
        if calls["n"] > 1:
            raise AuthenticationError("invalid_client", "AADSTS7000215: Invalid client secret provided.")
        return "tok"

    tokens.get_token = get_token
    outcomes = client.write_at_most_once(_cancel_ops(3))
    assert [o.result for o in outcomes] == ["done", "failed", "done"]
    assert isinstance(outcomes[1].error, AuthenticationError) and len(adapter.requests) == 1
    assert isinstance(client.stopped, AuthenticationError)


def test_batch_answer_under_an_id_never_sent_is_not_trusted():
    body = {"responses": [{"id": "0", "status": 204}, {"id": "1", "status": 204}, {"id": "7", "status": 204}]}
    assert batch_responses(body, 2) == (None, None)
    repeated = {"responses": [{"id": "0", "status": 204}, {"id": "0", "status": 429}, {"id": "1", "status": 204}]}
    answers, problems = batch_responses(repeated, 2)
    assert answers[0] is None and "more than once" in problems[0] and answers[1]["status"] == 204
    missing = {"responses": [{"id": "1", "status": 204}]}
    answers, problems = batch_responses(missing, 2)
    assert answers[0] is None and "no answer" in problems[0]


def test_repeated_batch_answer_reads_back_before_any_resend(make_client):
    """The cancel ran; its answer comes twice (204, then 429): a read shows it took effect, nothing is re-sent."""
    seen = []

    def handler(rec):
        seen.append((rec.method, rec.url))
        if rec.url.endswith("/$batch"):
            return 200, {"responses": [{"id": "0", "status": 204}, {"id": "0", "status": 429, "headers": {"Retry-After": "0"}},
                                       {"id": "1", "status": 204}]}
        return 404, {"error": {"code": "ErrorItemNotFound", "message": "gone"}}

    client, _adapter = make_client(handler)
    outcomes = client.write_at_most_once(_cancel_ops(2))
    assert [(o.result, o.probed) for o in outcomes] == [("done", True), ("done", False)]
    assert [m for m, _u in seen] == ["POST", "GET"]


# ------------------------------------------------------------------------------ events and ids


class _Reads:
    def __init__(self, bodies):
        self.bodies = bodies

    def read_many(self, ops):
        from ansible_collections.graphops.msgraph.plugins.module_utils._graph_client import ReadOutcome  # pylint: disable=import-outside-toplevel
        return [ReadOutcome(op.key, 200, self.bodies[op.key], None) for op in ops]


def test_two_ids_of_one_event_plan_one_cancel_and_report_both():
    body = {"id": "IMM-1", "isOrganizer": True, "isCancelled": False, "subject": "s", "attendees": []}
    client = _Reads({"DEFAULT-1": body, "IMM-1": body})
    plan = events.plan_cancel(client, events.Selection(events.EventAddress(user="u@x"), ids=["DEFAULT-1", "IMM-1"]))
    assert [rid for rid, _e in plan.to_cancel] == ["DEFAULT-1"] and plan.wanted == ["DEFAULT-1", "IMM-1"]
    assert len(plan.events) == 1


@pytest.mark.parametrize("char", ["\u0085", "\u009b", "\u202e", "\u200b", "\u2028", "\u2029", "\x00", "\x7f", "\ufeff"])
def test_invisible_characters_are_refused_naming_the_option(char):
    with pytest.raises(InvalidInputError) as caught:
        validate_id("AAMkAD" + char + "x", "business_id")
    assert caught.value.option == "business_id" and "U+%04X" % ord(char) in str(caught.value)


def test_ordinary_ids_and_names_still_pass():
    for value in ("AAMkADc7zF4J0AAA8v-XYZ001=", "adele.vance@contoso.example", "Zoë Müller", "3d9f6a1b-2c4e"):
        assert validate_id(value, "user") == value
