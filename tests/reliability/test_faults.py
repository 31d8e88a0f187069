# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Faults Graph and networks inflict, for both cancel modules, one item and several.

Every case gets its own items and fault rules aimed at them, and all cases of one module and shape
run as tasks of one playbook (three times: with the faults, again without them to finish the rest,
and once more when that second run had anything to do, to see that nothing is left). Each case
then is judged through the emulator's record: the expected outcome, a failure naming each failed
id and the Graph error, each recipient notified exactly once in the end and never twice, no cancel
re-sent without reading the item first after an answer that may have been applied.
"""

import datetime
import math
import threading
import time

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from emulator.api import http_date
import reliability_support as rs
from playbook_runner import app_token, connection_defaults

SHAPES = [("booking", "single"), ("booking", "bulk"), ("event", "single"), ("event", "bulk")]
BULK = 3  # items of a bulk case; the fault strikes the middle one (or the $batch carrying it)


def _rules(kind, where, **rule):
    return [(kind, where, rule)]


def _both(kind, **rule):
    return [(kind, "read", dict(rule)), (kind, "cancel", dict(rule))]


# name -> (rules [(fault kind, "read" | "cancel", rule options)], task options, extra check)
TRANSIENT = [
    ("429 with Retry-After as an HTTP-date", _rules("status_429", "cancel", retry_after="DATE"), {}, "date"),
    ("429 with Retry-After in seconds", _rules("status_429", "cancel", retry_after="1"), {}, "seconds"),
    ("429 without Retry-After", _both("status_429"), {}, None),
    ("503 Service Unavailable", _both("status_503"), {}, None),
    ("504 Gateway Timeout", _rules("status_504", "cancel"), {}, None),
    ("connection reset before any answer", _both("reset"), {}, None),
    ("cancel applied, then 504", _rules("applied_then_504", "cancel"), {}, "applied"),
    ("cancel applied, then connection reset", _rules("applied_then_reset", "cancel"), {}, "applied"),
    ("answer slower than timeout", _rules("slow", "cancel", delay_s=2.5), {"timeout": 1}, "applied"),
    ("200 with malformed JSON", _both("malformed_json"), {}, None),
    ("500 UnknownError with an empty message on the cancel", _rules("status_500_unknown", "cancel"), {}, None),
    ("token expired (401) on the cancel", _rules("token_expired", "cancel"), {}, "token"),
]

# One appointment is read and cancelled in one $batch, the cancel dependsOn the read: Graph runs
# the cancel after any 2xx read, one whose body is cut short too. There a read that never parses
# does not stop the cancel, and Graph's 204 for it makes the task end ok.
ONE_BATCH = (("booking", "single"),)

# Faults that outlast the retries: the task must fail naming the item and Graph's error (except
# for the shapes in the fourth field, where the task must end ok, as said above).
PERSISTENT = [
    ("429 on every cancel attempt", _rules("status_429", "cancel", retry_after="1", times=None), ["HTTP 429 TooManyRequests"], ()),
    ("connection reset on every cancel attempt", _rules("reset", "cancel", times=None), ["connection_error"], ()),
    ("500 UnknownError on every cancel attempt", _rules("status_500_unknown", "cancel", times=None), ["HTTP 500 UnknownError"], ()),
    ("500 UnknownError with an empty message on the read", _rules("status_500_unknown", "read"), ["HTTP 500 UnknownError"], ()),
    ("malformed JSON on every read", _rules("malformed_json", "read", times=None), ["MalformedResponse"], ONE_BATCH),
]


def _tag(prefix, index):
    return "%s%02d" % (prefix, index)


def _add_rules(emu, rules, item, date_at=None):
    for kind, where, options in rules:
        options = dict(options)
        if options.get("retry_after") == "DATE":
            options["retry_after"] = http_date(datetime.datetime.fromtimestamp(date_at, datetime.timezone.utc))
        regex = rs.cancel_regex(item) if where == "cancel" else rs.read_regex(item)
        emu.add_fault(kind, method="POST" if where == "cancel" else "GET", path_regex=regex,
                      times=options.pop("times", 1), **options)


def _run_three_times(emu, runner, defaults, tasks):
    """Run 1 with the faults; clear them; run 2; run 3 only when run 2 still had something to do."""
    first = runner.play(tasks, module_defaults=defaults)
    record_1 = rs.Record(emu)
    record_1.faults = emu.faults()
    emu.clear_faults()
    second = runner.play(tasks, module_defaults=defaults)
    record_2 = rs.Record(emu)
    third = None
    if any((second[t["name"]] or {}).get("result", {}).get("changed") for t in tasks):
        third = runner.play(tasks, module_defaults=defaults)
    return (first, record_1), (second, record_2), (third, rs.Record(emu) if third else None)


def _judge(emu, case, runs, name, items, expect, fragments=()):
    (first, record_1), (second, record_2), (third, record_3) = runs
    cancelled = rs.check_first_run(case, record_1, first[name], items, expect, fragments)
    remaining = [i.id for i in items if i.id not in cancelled]
    rs.check_rerun(case, record_2, second[name], items, remaining, second.start)
    last, last_record = (third, record_3) if third is not None else (second, record_2)
    if third is not None or not remaining:
        rs.check_no_change(case, last_record, last[name], items, last.start)
    else:
        case.check(False, "the rerun changed something but no third run was made")
    rs.check_gone(case, emu, items)
    rs.count_notifications(case, last_record, items)
    return record_1


def _check_extra(case, extra, record, task, item, date_at):
    cancels = record.cancels(item)
    if extra == "seconds":
        case.check(len(cancels) >= 2 and cancels[1]["ts"] - cancels[0]["ts"] >= 0.95,
                   "the cancel was not re-sent at least 1 s (Retry-After) after the 429: %s" % [c["ts"] for c in cancels])
    elif extra == "date":
        case.check(len(cancels) >= 2 and cancels[1]["ts"] >= date_at - 0.05,
                   "the cancel was re-sent before the Retry-After date (%.2f s early)"
                   % (date_at - cancels[1]["ts"] if len(cancels) >= 2 else float("nan")))
    elif extra == "applied":
        case.check(len(cancels) == 1, "%s: the applied cancel was sent %d times" % (item.id, len(cancels)))
        case.check(record.reads(item, since=cancels[0]["ts"]) if cancels else False,
                   "%s: the unanswered cancel was not read back" % item.id)
    elif extra == "token" and task is not None:
        case.check(record.tokens_between(task["start"], task["end"]),
                   "no new token was requested after the 401")
        case.check([c for c in cancels if c["status"] == 401], "no cancel was refused with 401")


def check_struck(case, record, item):
    """Every fault rule aimed at the item was hit at least once (else the case proved nothing)."""
    mine = [f for f in record.faults if f["match"]["path_regex"] in (rs.cancel_regex(item), rs.read_regex(item))]
    case.check(mine and all(f["hits"] >= 1 for f in mine),
               "%s: a fault never struck: %s" % (item.id, [(f["kind"], f["hits"]) for f in mine]))


@pytest.mark.parametrize("module,shape", SHAPES)
def test_transient_faults_are_survived(module, shape, emu, runner, ledger):
    count = BULK if shape == "bulk" else 1
    defaults = connection_defaults(emu.conn, retries=3, max_wait=30)
    plan, tasks = [], []
    for index, (name, rules, options, extra) in enumerate(TRANSIENT):
        items = rs.seed_items(emu, module, _tag("T" + module[0] + shape[0], index), count)
        plan.append((name, rules, items, extra))
        tasks.append(rs.cancel_task(name, module, items, **options))
    # The HTTP-date case comes first, so its date is still ahead when the 429 is answered.
    date_at = math.ceil(time.time()) + 3
    for name, rules, items, _extra in plan:
        _add_rules(emu, rules, items[len(items) // 2], date_at=date_at)
    runs = _run_three_times(emu, runner, defaults, tasks)
    for name, _rules_, items, extra in plan:
        case = ledger.case("faults: %s %s" % (module, shape), name)
        record_1 = _judge(emu, case, runs, name, items, "ok")
        check_struck(case, record_1, items[len(items) // 2])
        _check_extra(case, extra, record_1, runs[0][0][name], items[len(items) // 2], date_at)
    ledger.verify()


@pytest.mark.parametrize("module,shape", SHAPES)
def test_lasting_faults_fail_naming_ids_and_error_and_a_rerun_finishes(module, shape, emu, runner, ledger):
    count = BULK if shape == "bulk" else 1
    defaults = connection_defaults(emu.conn, retries=1, max_wait=10)
    plan, tasks = [], []
    for index, (name, rules, fragments, ok_for) in enumerate(PERSISTENT):
        items = rs.seed_items(emu, module, _tag("P" + module[0] + shape[0], index), count)
        _add_rules(emu, rules, items[len(items) // 2])
        plan.append((name, items, fragments, (module, shape) in ok_for))
        tasks.append(rs.cancel_task(name, module, items))
    runs = _run_three_times(emu, runner, defaults, tasks)
    for name, items, fragments, ends_ok in plan:
        case = ledger.case("faults: %s %s" % (module, shape), name)
        faulted = items[len(items) // 2]
        record_1 = _judge(emu, case, runs, name, items, "ok" if ends_ok else "failed", () if ends_ok else fragments)
        task = runs[0][0][name]
        failed = [f.get("id") for f in (task or {}).get("result", {}).get("failures") or []]
        if ends_ok:
            case.check(failed == [] and len(record_1.cancels(faulted)) == 1,
                       "the cancel behind the 2xx read should have been sent once and reported: failures %s, %d cancels"
                       % (failed, len(record_1.cancels(faulted))))
        else:
            case.check(failed == [faulted.id], "failures should name exactly the faulted item, not %s" % failed)
        check_struck(case, record_1, faulted)
    ledger.verify()


@pytest.mark.parametrize("module", ["booking", "event"])
def test_batch_mixing_204_404_429_424_500(module, emu, runner, ledger):
    """One $batch of cancels answered 204/202, 404, 429, 424 and 500 item by item."""
    items = rs.seed_items(emu, module, "M" + module[0], 5)
    ok_item, gone, throttled, dependent, broken = items
    emu.add_fault("status_404", method="POST", path_regex=rs.cancel_regex(gone))
    emu.add_fault("status_429", method="POST", path_regex=rs.cancel_regex(throttled), retry_after="1")
    emu.add_fault("status_424", method="POST", path_regex=rs.cancel_regex(dependent))
    emu.add_fault("status_500_unknown", method="POST", path_regex=rs.cancel_regex(broken))
    name = "mixed batch"
    tasks = [rs.cancel_task(name, module, items)]
    runs = _run_three_times(emu, runner, connection_defaults(emu.conn, retries=3, max_wait=30), tasks)
    case = ledger.case("faults: %s bulk" % module, "one $batch answering 2xx, 404, 429, 424 and 500")
    record_1 = runs[0][1]
    result = (runs[0][0][name] or {}).get("result", {})
    case.check(gone.id in (result.get("already_absent") or []), "the 404 item is not reported already absent: %s" % result)
    first_batch = {}
    for item in items:
        cancels = record_1.cancels(item)
        if cancels:
            first_batch.setdefault(cancels[0]["batch_request_seq"], set()).add(cancels[0]["status"])
    case.check(any({404, 429, 424, 500} <= statuses and statuses & {202, 204} for statuses in first_batch.values()),
               "no single $batch carried all five answers: %s" % first_batch)
    _judge(emu, case, runs, name, items, "ok")
    for item in (gone, throttled, dependent, broken):
        check_struck(case, record_1, item)
    ledger.verify()


def _stranger_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def test_token_endpoint_refusing_the_client_sends_nothing_and_a_rerun_finishes(emu, runner, ledger, tmp_path):
    """The token endpoint answers 400 invalid_client (a federated assertion with a bad signature)."""
    conn = emu.conn
    with open(conn["apps"]["federated"]["token_file"], encoding="utf-8") as handle:
        genuine = handle.read().strip()
    # The same claims signed with a key the identity provider never published.
    forged = tmp_path / "forged.jwt"
    forged.write_text(jwt.encode(jwt.decode(genuine, options={"verify_signature": False}), _stranger_key(),
                                 algorithm="RS256", headers={"kid": jwt.get_unverified_header(genuine).get("kid")}),
                      encoding="utf-8")
    bad = {"tenant_id": conn["tenant_id"], "client_id": conn["apps"]["federated"]["client_id"],
           "federated_token_file": str(forged), "graph_endpoint": conn["graph_endpoint"],
           "authority_host": conn["authority_host"], "ca_path": conn["ca_path"], "token_cache_path": ""}
    plan, tasks = [], []
    for module, shape in SHAPES:
        items = rs.seed_items(emu, module, "I" + module[0] + shape[0], BULK if shape == "bulk" else 1)
        name = "%s %s" % (module, shape)
        plan.append((name, items))
        tasks.append(rs.cancel_task(name, module, items))
    first = runner.play(tasks, module_defaults=bad)
    record_1 = rs.Record(emu)
    refusals = [t for t in record_1.token_requests if t["error"] == "invalid_client" and t["status"] == 400]
    second = runner.play(tasks, module_defaults=connection_defaults(conn))
    third = runner.play(tasks, module_defaults=connection_defaults(conn))
    record_3 = rs.Record(emu)
    for name, items in plan:
        case = ledger.case("faults: %s" % name, "token endpoint answers 400 invalid_client")
        task = first[name]
        message = (task or {}).get("result", {}).get("msg", "")
        case.check(task is not None and task["status"] == "failed", "the task did not fail: %s" % message[:300])
        case.check("invalid_client" in message and "AADSTS700213" in message, "the message lacks Entra's error: %s" % message[:300])
        case.check(not [h for h in record_1.http_between(task["start"], task["end"]) if h["path"].startswith("/v1.0")]
                   if task else False, "a Graph request was sent without a token")
        case.check(not [i for i in items if record_1.sent(i)], "someone was notified")
        rs.check_rerun(case, record_3, second[name], items, [i.id for i in items], second.start)
        rs.check_no_change(case, record_3, third[name], items, third.start)
        rs.check_gone(case, emu, items)
        rs.count_notifications(case, record_3, items)
    case.check(len(refusals) >= len(plan), "the token endpoint refused %d requests, expected %d" % (len(refusals), len(plan)))
    ledger.verify()


# Shapes whose task makes more than one round trip, so a token can expire between two of them.
# One appointment is read and cancelled in one $batch: nothing comes after its only request (its
# 401 on the cancel is the transient case "token expired (401) on the cancel").
SEVERAL_ROUND_TRIPS = [s for s in SHAPES if s not in ONE_BATCH]


def test_token_expiring_mid_task(emu, runner, ledger):
    """Every token is declared expired while each task is between its read and its cancel."""
    plan, tasks = [], []
    for module, shape in SEVERAL_ROUND_TRIPS:
        items = rs.seed_items(emu, module, "X" + module[0] + shape[0], BULK if shape == "bulk" else 1)
        name = "%s %s" % (module, shape)
        # Hold the read's answer, so the tokens expire while the task waits for it.
        emu.add_fault("slow", method="GET", path_regex=rs.read_regex(items[0]), delay_s=1.5)
        plan.append((name, items))
        tasks.append(rs.cancel_task(name, module, items))
    expired_at = []

    def expire_during_each_read():
        for _name, items in plan:
            rs.wait_for(lambda it=items[0]: [r for r in emu.requests() if r["method"] == "GET" and it.id in r["segments"]],
                        timeout=120)
            emu.expire_tokens()
            expired_at.append(time.time())

    watcher = threading.Thread(target=expire_during_each_read, daemon=True)
    watcher.start()
    defaults = connection_defaults(emu.conn, timeout=10)
    first = runner.play(tasks, module_defaults=defaults)
    watcher.join(10)
    record_1 = rs.Record(emu)
    second = runner.play(tasks, module_defaults=defaults)
    record_2 = rs.Record(emu)
    for (name, items), when in zip(plan, expired_at + [None] * len(plan)):
        case = ledger.case("faults: %s" % name, "token expires mid-task (401)")
        task = first[name]
        rs.check_first_run(case, record_1, task, items, "ok")
        refused = [r for r in record_1.requests if r["status"] == 401 and when and r["ts"] >= when
                   and task and r["ts"] <= task["end"]]
        case.check(refused, "no request was refused with 401 after the tokens expired")
        case.check(task and record_1.tokens_between(when or 0, task["end"]), "no new token was requested after expiry")
        rs.check_no_change(case, record_2, second[name], items, second.start)
        rs.check_gone(case, emu, items)
        rs.count_notifications(case, record_2, items)
    ledger.verify()


def test_the_checks_see_a_notification_sent_twice(emu):
    """The suite's own yardstick: a cancel re-sent by hand to an event in Deleted Items notifies again
    (the emulator's pessimistic reading), and check_first_run reports it, so a double can not pass unseen."""
    items = rs.seed_items(emu, "event", "Dup", 1)
    token = app_token(emu.conn)
    url = "%s/v1.0/users/%s/events/%s/cancel" % (emu.conn["graph_endpoint"], rs.ORGANIZER, items[0].target_id)
    for _attempt in range(2):
        answer = requests.post(url, json={"Comment": "twice"}, headers={"Authorization": "Bearer " + token},
                               verify=emu.conn["ca_path"], timeout=30)
        assert answer.status_code == 202, answer.text
    case = rs.Case("yardstick", "double notification")
    rs.check_first_run(case, rs.Record(emu), {"status": "ok", "result": {"cancelled": [items[0].id]}}, items, "ok")
    assert any("notified more than once" in p for p in case.problems), case.problems
    assert any("re-sent after a 202 answer without reading" in p for p in case.problems), case.problems
