# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nobody notified twice (issue 16), tried as an adversary would, judged by the emulator's record.

Forks of one playbook, two playbooks at once, a killed ansible-playbook and a rerun started at
once, two ids of one event, $batch answers that repeat, leave out or misname an item, a secret
revoked mid-run, the diff after mixed outcomes, and input that must never reach Graph. Each case
counts cancels per item and notifications per recipient, and a rerun after it changes nothing and
notifies no one.
"""

import json
import os
import signal
import subprocess
import threading
import time

import pytest
import yaml

import reliability_support as rs
from playbook_runner import connection_defaults
from test_faults import _judge, _run_three_times, check_struck

GROUP = "never twice"


def _one_cancel_each(case, record, items, since=0.0):
    for item in items:
        sent = record.sent(item, since)
        case.check(set(sent) == item.recipients and all(n == 1 for n in sent.values()),
                   "%s: notified %s, expected once each of %s" % (item.id, dict(sent), sorted(item.recipients)))
        ok = [c for c in record.cancels(item, since) if isinstance(c["status"], int) and 200 <= c["status"] < 300]
        case.check(len(ok) == 1, "%s: %d cancels took effect" % (item.id, len(ok)))


def _quiet_rerun(case, emu, runner, tasks, defaults, items):
    """A rerun: ok, unchanged, no cancel sent, nobody notified."""
    before = time.time()
    play = runner.play(tasks, module_defaults=defaults)
    record = rs.Record(emu)
    for task in tasks:
        rs.check_no_change(case, record, play[task["name"]], items, before)
    return record


def _ids_of(result, key):
    return set(result.get(key) or [])


# ------------------------------------------------------------------------------ forks and concurrent runs


def _fork_play(runner, conn, items, hosts):
    inventory = runner.tmp_path / "hosts.ini"
    inventory.write_text("[all]\n" + "".join("h%d ansible_connection=local\n" % n for n in range(hosts)), encoding="utf-8")
    task = rs.cancel_task("forks", "event", items)
    task["delegate_to"] = "localhost"
    play = [{"name": "forks", "hosts": "all", "gather_facts": False,
             "module_defaults": {"group/graphops.msgraph.msgraph": connection_defaults(conn)}, "tasks": [task]}]
    path = runner.tmp_path / "forks.yml"
    path.write_text(yaml.safe_dump(play, sort_keys=False), encoding="utf-8")
    return inventory, path


def test_forks_of_one_playbook_cancel_each_event_once(emu, runner, ledger):
    """hosts: all + delegate_to: localhost, -f 5: five forks cancel the same 20 events."""
    items = rs.seed_items(emu, "event", "Fork", 20)
    inventory, playbook = _fork_play(runner, emu.conn, items, 5)
    record_path, env = runner._record_env(None)  # pylint: disable=protected-access
    full = dict(runner.env, **env)
    proc = subprocess.run(["ansible-playbook", "-i", str(inventory), "-f", "5", str(playbook)], env=full, check=False,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=str(runner.tmp_path), timeout=600)
    records = runner._records(record_path)  # pylint: disable=protected-access
    record = rs.Record(emu)
    case = ledger.case(GROUP, "5 forks (hosts: all, delegate_to: localhost) over the same 20 events")
    case.check(proc.returncode == 0 and len(records) == 5, "the run failed or lost hosts: %s" % proc.stdout[-1500:])
    _one_cancel_each(case, record, items)
    reported = [_ids_of(r["result"], "cancelled") for r in records]
    for item in items:
        owners = [n for n, ids in enumerate(reported) if item.id in ids]
        case.check(len(owners) == 1, "%s reported cancelled by %d forks" % (item.id, len(owners)))
        others = [r for r in records if item.id not in _ids_of(r["result"], "cancelled")]
        case.check(all(item.id in _ids_of(r["result"], "already_cancelled") | _ids_of(r["result"], "already_absent")
                       for r in others), "%s: a later fork does not report it already cancelled" % item.id)
    rs.count_notifications(case, record, items)
    before = time.time()
    again = subprocess.run(["ansible-playbook", "-i", str(inventory), "-f", "5", str(playbook)], env=full, check=False,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=str(runner.tmp_path), timeout=600)
    last = rs.Record(emu)
    case.check(again.returncode == 0 and "changed=1" not in again.stdout, "the rerun changed something: %s" % again.stdout[-800:])
    for item in items:
        case.check(not last.cancels(item, before) and not last.sent(item, before), "%s: touched by the rerun" % item.id)
    ledger.verify()


def test_two_playbooks_at_once_cancel_each_event_once(emu, runner, ledger):
    """A scheduled job and a manual one over 15 + 15 of 20 events: the 10 shared ones once."""
    items = rs.seed_items(emu, "event", "Conc", 20)
    first, second = items[:15], items[5:]
    # Each run's first read is answered 3 s late (the reads ran): whichever starts second reads
    # before the first one's cancels land, unless something keeps the two apart.
    emu.add_fault("slow", method="GET", path_regex=rs.read_regex(items[7]), delay_s=3, times=2)
    defaults = connection_defaults(emu.conn)
    started = [runner.start_play([rs.cancel_task("run %d" % n, "event", part)], module_defaults=defaults, name="run%d.yml" % n)
               for n, part in ((1, first), (2, second))]
    plays = [runner.finish_play(s) for s in started]
    record = rs.Record(emu)
    results = [(p["run %d" % n] or {}).get("result", {}) for n, p in ((1, plays[0]), (2, plays[1]))]
    case = ledger.case(GROUP, "two playbooks at once over 15 + 15 of 20 events")
    case.check(all(p.rc == 0 for p in plays), "a run failed: %s" % [p.stdout[-600:] for p in plays if p.rc])
    _one_cancel_each(case, record, items)
    for item in items[5:15]:
        claims = [r for r in results if item.id in _ids_of(r, "cancelled")]
        case.check(len(claims) == 1, "%s (shared) reported cancelled by %d runs" % (item.id, len(claims)))
        case.check(any(item.id in _ids_of(r, "already_cancelled") | _ids_of(r, "already_absent") for r in results),
                   "%s (shared): the later run does not report it already cancelled" % item.id)
    rs.count_notifications(case, record, items)
    _quiet_rerun(case, emu, runner, [rs.cancel_task("run 1", "event", first), rs.cancel_task("run 2", "event", second)],
                 defaults, items)
    ledger.verify()


# ------------------------------------------------------------------------------ a killed ansible-playbook


def _children(pid):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry, encoding="ascii", errors="replace") as handle:
                    text = handle.read()
            except OSError:
                continue
            if int(text[text.rfind(")") + 2:].split()[1]) == pid:
                found.append(int(entry))
    return found


def _descendants(pid):
    out, todo = [], [pid]
    while todo:
        kids = _children(todo.pop())
        out.extend(kids)
        todo.extend(kids)
    return out


def test_killed_playbook_and_an_immediate_rerun_notify_once(emu, runner, ledger):
    """SIGKILL of ansible-playbook while it cancels 100 events, a rerun started at once."""
    items = rs.seed_items(emu, "event", "Kill", 100)
    emu.config(service_ms=60)  # the cancels take a few seconds: the kill lands in the middle
    defaults = connection_defaults(emu.conn, max_wait=120)
    tasks = [rs.cancel_task("cancel 100", "event", items)]
    started = runner.start_play(tasks, module_defaults=defaults)
    proc = started[1]
    rs.wait_for(lambda: [r for r in emu.requests() if r["segments"][-1:] == ["cancel"]], timeout=120)
    orphans = _descendants(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    killed_at = time.time()
    rerun = runner.play(tasks, module_defaults=defaults)
    emu.config(service_ms=0)
    record = rs.Record(emu)
    case = ledger.case(GROUP, "ansible-playbook killed (SIGKILL) over 100 events, rerun at once")
    _one_cancel_each(case, record, items)
    task = rerun["cancel 100"]
    result = (task or {}).get("result", {})
    case.check(task is not None and task["status"] == "ok", "the rerun failed: %s" % rs.message_of(task)[:600] if task else "no result")
    previous = result.get("previous_run") or {}
    case.check(previous.get("state") == "stopped" and "gone" in (previous.get("stopped_because") or ""),
               "the rerun does not report that the orphaned run stopped because its controller was gone: %s" % previous)
    case.check(previous.get("cancel_sent"), "the orphaned run's trace lists no cancel it sent")
    case.check("did not finish" in " ".join(result.get("warnings") or []), "the rerun does not warn about the killed run")
    left = set(result.get("cancelled") or [])
    case.check(left, "the orphan went on to the end after its controller was killed (nothing left for the rerun)")
    late = [c for c in record.requests if c["segments"][-1:] == ["cancel"] and c["ts"] > killed_at + 5
            and c["ts"] < (task or {}).get("start", 0)]
    case.check(not late, "the orphan sent %d cancels more than 5 s after the kill" % len(late))
    rs.count_notifications(case, record, items)
    _quiet_rerun(case, emu, runner, tasks, defaults, items)
    for pid in orphans:  # a worker left behind by the kill: ours, ended by its id
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    ledger.verify()


# ------------------------------------------------------------------------------ one event, two ids


def test_default_and_immutable_id_of_one_event_cancel_once(emu, runner, ledger):
    items = rs.seed_items(emu, "event", "Both", 3)
    task = rs.cancel_task("two ids", "event", items)
    task[rs.MODULES["event"]]["event_ids"] = [i.id for i in items] + [i.target_id for i in items]
    defaults = connection_defaults(emu.conn)
    play = runner.play([task], "--diff", module_defaults=defaults)
    record = rs.Record(emu)
    case = ledger.case(GROUP, "default + immutable id of the same events in event_ids")
    result = (play["two ids"] or {}).get("result", {})
    case.check(play["two ids"] and play["two ids"]["status"] == "ok", "the task failed: %s" % rs.message_of(play["two ids"])[:600]
               if play["two ids"] else "no result")
    _one_cancel_each(case, record, items)
    case.check(_ids_of(result, "cancelled") == set(task[rs.MODULES["event"]]["event_ids"]),
               "both ids of each event should be reported cancelled: %s" % result.get("cancelled"))
    rs.count_notifications(case, record, items)
    _quiet_rerun(case, emu, runner, [task], defaults, items)
    ledger.verify()


# ------------------------------------------------------------------------------ $batch answers not to be trusted

BATCH_FAULTS = [("an item answered twice (its answer, then a copy saying 429)", "batch_repeat_429"),
                ("an item left out of the answer", "batch_missing"),
                ("an item answered under an id never sent", "batch_unknown_id")]


@pytest.mark.parametrize("module", ["booking", "event"])
def test_batch_answers_repeated_missing_or_misnamed(module, emu, runner, ledger):
    plan, tasks = [], []
    for index, (name, kind) in enumerate(BATCH_FAULTS):
        items = rs.seed_items(emu, module, "B%s%d" % (module[0], index), 3)
        emu.add_fault(kind, method="POST", path_regex=rs.cancel_regex(items[1]), in_batch=True)
        plan.append((name, items))
        tasks.append(rs.cancel_task(name, module, items))
    runs = _run_three_times(emu, runner, connection_defaults(emu.conn, retries=3, max_wait=30), tasks)
    for name, items in plan:
        case = ledger.case(GROUP, "%s bulk: %s" % (module, name))
        record_1 = _judge(emu, case, runs, name, items, "ok")
        check_struck(case, record_1, items[1])
        result = (runs[0][0][name] or {}).get("result", {})
        case.check(_ids_of(result, "cancelled") == set(i.id for i in items),
                   "all three should be reported cancelled (none already absent): %s / absent %s"
                   % (result.get("cancelled"), result.get("already_absent")))
        case.check(len(record_1.cancels(items[1])) == 1, "%s: cancel sent %d times" % (items[1].id, len(record_1.cancels(items[1]))))
    ledger.verify()


# ------------------------------------------------------------------------------ a secret revoked mid-run


def _revoke_once_throttled(emu, items, throttled):
    """Revoke the secret once the throttled cancels got their 429 (the client waits 2 s before retrying)."""
    regexes = [rs.cancel_regex(i) for i in throttled]
    revoked = []

    def watch():
        import re  # pylint: disable=import-outside-toplevel
        rs.wait_for(lambda: len([r for r in emu.requests() if r["status"] == 429
                                 and any(re.search(x, "/" + "/".join(r["segments"])) for x in regexes)]) >= len(throttled),
                    timeout=120)
        emu.revoke_app()
        revoked.append(time.time())

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread, revoked


@pytest.mark.parametrize("module,shape", [("booking", "bulk"), ("event", "bulk"), ("booking", "single"), ("event", "single")])
def test_secret_revoked_mid_run_keeps_the_report(module, shape, emu, runner, ledger):
    """The secret is revoked while throttled cancels wait (429, Retry-After 2): what was cancelled
    before is reported and changed says so; the rest fails naming the refused credential."""
    items = rs.seed_items(emu, module, "Rv%s%s" % (module[0], shape[0]), 4 if shape == "bulk" else 1)
    throttled = items[1:3] if shape == "bulk" else items
    for item in throttled:
        emu.add_fault("status_429", method="POST", path_regex=rs.cancel_regex(item), retry_after="2")
    name = "%s %s" % (module, shape)
    tasks = [rs.cancel_task(name, module, items)]
    thread, revoked = _revoke_once_throttled(emu, items, throttled)
    first = runner.play(tasks, module_defaults=connection_defaults(emu.conn, timeout=10))
    thread.join(10)
    record_1 = rs.Record(emu)
    cert = emu.conn["apps"]["certificate"]
    other = connection_defaults(emu.conn, client_id=cert["client_id"], client_certificate_path=cert["pem_path"])
    del other["client_secret"]
    second = runner.play(tasks, module_defaults=other)
    third = runner.play(tasks, module_defaults=other)
    record_3 = rs.Record(emu)
    case = ledger.case(GROUP, "secret revoked mid-run: %s" % name)
    task = first[name]
    result = (task or {}).get("result", {})
    case.check(revoked, "the secret was never revoked")
    cancelled = rs.check_first_run(case, record_1, task, items, "failed")
    notified = set(i.id for i in items if record_1.sent(i))
    case.check(cancelled == notified, "reported cancelled %s, notified %s" % (sorted(cancelled), sorted(notified)))
    case.check(bool(result.get("changed")) == bool(notified), "changed=%s with %d notified" % (result.get("changed"), len(notified)))
    case.check(len(notified) == len(items) - len(throttled), "expected the unthrottled items cancelled: %s" % sorted(notified))
    case.check("invalid_client" in rs.message_of(task), "the failure does not name the refused credential: %s" % rs.message_of(task)[:400])
    remaining = [i.id for i in items if i.id not in cancelled]
    rs.check_rerun(case, record_3, second[name], items, remaining, second.start)
    rs.check_no_change(case, record_3, third[name], items, third.start)
    rs.check_gone(case, emu, items)
    rs.count_notifications(case, record_3, items)
    ledger.verify()


# ------------------------------------------------------------------------------ the diff after mixed outcomes


@pytest.mark.parametrize("module", ["booking", "event"])
def test_diff_after_mixed_outcomes(module, emu, runner, ledger):
    """Three items: one cancelled, one gone when its cancel arrives (404), one whose cancel fails (500)."""
    items = rs.seed_items(emu, module, "Df" + module[0], 3)
    done, gone, broken = items
    emu.add_fault("status_404", method="POST", path_regex=rs.cancel_regex(gone))
    emu.add_fault("status_500_unknown", method="POST", path_regex=rs.cancel_regex(broken), times=None)
    tasks = [rs.cancel_task("mixed", module, items, retries=0)]
    defaults = connection_defaults(emu.conn)
    play = runner.play(tasks, "--diff", module_defaults=defaults)
    record = rs.Record(emu)
    case = ledger.case(GROUP, "%s --diff after a cancel, a 404 and a 500" % module)
    result = (play["mixed"] or {}).get("result", {})
    diff = result.get("diff") or {}
    if isinstance(diff, list):
        diff = diff[0] if diff else {}
    after = diff.get("after") or {}
    said = "cancelled" if module == "event" else "absent"
    case.check(after.get(done.id) == said, "the cancelled item's after is %r" % after.get(done.id))
    for item in (gone, broken):
        case.check(after.get(item.id) != said, "%s: after says %r though this run did not cancel it" % (item.id, after.get(item.id)))
    for item in items:
        case.check(bool(record.sent(item)) == (after.get(item.id) == said),
                   "%s: the diff and the notifications disagree (%r, %s)" % (item.id, after.get(item.id), dict(record.sent(item))))
    emu.clear_faults()
    before = time.time()
    second = runner.play(tasks, "--diff", module_defaults=defaults)
    last = rs.Record(emu)
    result = (second["mixed"] or {}).get("result", {})
    # The 404 left its item in place (someone else's delete that did not happen): the rerun cancels it.
    case.check(_ids_of(result, "cancelled") == {gone.id, broken.id}, "the rerun cancelled %s" % result.get("cancelled"))
    case.check(not last.cancels(done, before), "the rerun cancelled the cancelled item again")
    after = ((result.get("diff") or {}).get("after") or {})
    case.check(after.get(broken.id) == said, "the rerun's diff does not show the failed item cancelled now: %s" % after)
    _one_cancel_each(case, last, items)
    rs.count_notifications(case, last, items)
    _quiet_rerun(case, emu, runner, tasks, defaults, items)
    ledger.verify()


# ------------------------------------------------------------------------------ input that never reaches Graph

CHARACTERS = [("U+0085 (C1 next line)", "\u0085"), ("U+009B (C1 CSI)", "\u009b"), ("U+202E (bidi override)", "\u202e"),
              ("U+200B (zero width space)", "\u200b"), ("U+2028 (line separator)", "\u2028"),
              ("U+2029 (paragraph separator)", "\u2029")]
EVENT_ID = "AAMkADrelUnicodeAAAAAAAAAAAAAAAAAAAAAAAAA00001="


def _unicode_cases():
    cases = []
    for label, char in CHARACTERS:
        cases += [
            ("event", "event_id with %s" % label, {"user": rs.ORGANIZER, "event_id": EVENT_ID[:10] + char + EVENT_ID[10:]}, "event_id"),
            ("event", "user with %s" % label, {"user": "adele.vance" + char + "@contoso.example", "event_id": EVENT_ID}, "user"),
            ("event", "group_id with %s" % label, {"group_id": "3d9f6a1b-2c4e" + char + "-4f8a-b7d6-5e4c3b2a1f10",
                                                   "event_id": EVENT_ID}, "group_id"),
            ("event", "calendar_id with %s" % label, {"user": rs.ORGANIZER, "calendar_id": "AAMkAGI" + char + "x",
                                                      "event_id": EVENT_ID}, "calendar_id"),
            ("booking", "appointment_ids with %s" % label, {"business_id": rs.BUSINESS,
                                                            "appointment_ids": [EVENT_ID, EVENT_ID + char]}, "appointment_ids"),
            ("booking", "business_id with %s" % label, {"business_id": char + rs.BUSINESS, "appointment_id": EVENT_ID}, "business_id"),
        ]
    return cases


DATE_CASES = [
    ("event", "match.start in year 1 at +01:00", {"user": rs.ORGANIZER, "match": {"start": "0001-01-01T00:30:00+01:00",
                                                                                  "end": "2027-01-01T00:00:00Z"}}, "match.start"),
    ("event", "match.end after 9999 at -01:00", {"user": rs.ORGANIZER, "match": {"start": "2027-01-01T00:00:00Z",
                                                                                 "end": "9999-12-31T23:30:00-01:00"}}, "match.end"),
    ("event", "occurrence.date on the first day", {"user": rs.ORGANIZER, "occurrence": {"series_id": EVENT_ID, "date": "0001-01-01"}},
     "occurrence.date"),
    ("booking", "match.start in year 1 at +01:00", {"business_id": rs.BUSINESS, "match": {"start": "0001-01-01T00:30:00+01:00",
                                                                                          "end": "2027-01-01T00:00:00Z"}}, "match.start"),
    ("booking", "match.end after 9999 at -01:00", {"business_id": rs.BUSINESS, "match": {"start": "2027-01-01T00:00:00Z",
                                                                                         "end": "9999-12-31T23:30:00-01:00"}}, "match.end"),
]


def test_unicode_and_dates_never_reach_graph(emu, runner, ledger):
    cases = _unicode_cases() + DATE_CASES
    tasks = [{"name": "%s: %s" % (module, name), rs.MODULES[module]: args, "ignore_errors": True} for module, name, args, _o in cases]
    play = runner.play(tasks, module_defaults=connection_defaults(emu.conn))
    record = rs.Record(emu)
    for module, name, _args, option in cases:
        case = ledger.case(GROUP, "bad input (%s): %s" % (module, name))
        task = play["%s: %s" % (module, name)]
        message = (task or {}).get("result", {}).get("msg", "")
        case.check(task is not None and task["status"] == "failed", "not refused: %s" % message[:300])
        case.check(option in message, "the message does not name %s: %s" % (option, message[:300]))
        case.check(task is not None and not record.http_between(task["start"], task["end"]),
                   "requests reached the emulator during the task")
    whole = ledger.case(GROUP, "bad input: the whole run sent nothing")
    whole.check(not record.http, "the emulator received %d requests: %s" % (len(record.http), json.dumps(record.http[:3])))
    whole.check(not record.notifications, "notifications were sent")
    ledger.verify()
