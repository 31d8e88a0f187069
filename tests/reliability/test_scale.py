# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Load: a throttle storm (the mailbox allows 2 concurrent requests, the client assumes Microsoft's 4)
on 1,000 items per module, and 5,000 appointments in one task with throttling on (marker `scale`,
run by `make reliability-scale`, which `make bench` calls). Every item is cancelled, each recipient
notified exactly once, and the rerun, under the same limits, changes nothing."""

import pytest

import reliability_support as rs
from playbook_runner import connection_defaults

STORM_ITEMS = 1000
SCALE_ITEMS = 5000


def _load_case(emu, runner, case, module, items, options):
    task = rs.cancel_task("cancel all", module, items, **options)
    defaults = connection_defaults(emu.conn)
    first = runner.play([task], module_defaults=defaults)
    record_1 = rs.Record(emu)
    second = runner.play([task], module_defaults=defaults)
    record_2 = rs.Record(emu)
    result = (first["cancel all"] or {}).get("result", {})
    case.check(first["cancel all"] and first["cancel all"]["status"] == "ok",
               "the task failed: %s" % str(result.get("msg", first.stdout[-1500:]))[:1500])
    case.check(len(result.get("cancelled") or []) == len(items), "cancelled %d of %d" % (len(result.get("cancelled") or []), len(items)))
    sent = {}
    for note in record_2.notifications:
        key = (note["item_id"], note["recipient"])
        sent[key] = sent.get(key, 0) + 1
    doubles = [k for k, n in sent.items() if n > 1]
    missing = [(i.id, r) for i in items for r in i.recipients if (i.target_id, r) not in sent]
    case.check(not doubles, "%d recipients notified more than once, e.g. %s" % (len(doubles), doubles[:3]))
    case.check(not missing, "%d recipients never notified, e.g. %s" % (len(missing), missing[:3]))
    posts = [r for r in record_1.requests if r["method"] == "POST" and r["segments"][-1:] == ["cancel"]]
    case.check(len([p for p in posts if p["status"] in (200, 202, 204)]) == len(items),
               "%d cancels answered 2xx for %d items" % (len([p for p in posts if p["status"] in (200, 202, 204)]), len(items)))
    rerun = second["cancel all"]
    case.check(rerun and rerun["status"] == "ok" and not rerun["result"].get("changed"), "the rerun was not ok and unchanged")
    case.check(not [r for r in record_2.requests if r["method"] == "POST" and r["segments"][-1:] == ["cancel"]
                    and r["ts"] >= second.start], "the rerun sent cancels")
    case.check(len(record_2.notifications) == len(record_1.notifications), "the rerun notified someone")
    rs.check_gone(case, emu, items)
    case.sent += sum(sent.values())
    case.expected += sum(len(i.recipients) for i in items)
    return record_1


@pytest.mark.parametrize("module", ["booking", "event"])
def test_throttle_storm(module, emu, runner, ledger):
    items = rs.seed_items(emu, module, "Storm" + module[0], STORM_ITEMS)
    # Service time makes requests overlap, so a client holding 4 requests at a time meets the limit of 2.
    emu.config(mailbox_concurrency=2, service_ms=10)
    case = ledger.case("throttle storm", "%s: %d items, mailbox limit 2" % (module, STORM_ITEMS))
    record = _load_case(emu, runner, case, module, items, {"max_wait": 300})
    throttled = [r for r in record.requests if r["status"] == 429]
    case.check(throttled, "the storm never happened: no request was throttled")
    ledger.verify()


@pytest.mark.scale
def test_5000_appointments_in_one_task(emu, runner, ledger):
    items = rs.seed_items(emu, "booking", "Scale", SCALE_ITEMS)
    emu.config(service_ms=5)  # Microsoft's per-mailbox limit of 4 stays on
    # And 100 more 429s with Retry-After, on the cancels of 1 appointment in 50 (ids ending 00= or 50=).
    emu.add_fault("status_429", method="POST", path_regex=r"AAMkADrelScaleA*\d{3}[05]0=/cancel$", retry_after="1",
                  times=SCALE_ITEMS // 50)
    case = ledger.case("scale", "5,000 appointments in one task, throttled")
    record = _load_case(emu, runner, case, "booking", items, {"max_wait": 600})
    throttled = [r for r in record.requests if r["status"] == 429]
    case.check(len(throttled) >= SCALE_ITEMS // 50, "only %d throttled answers" % len(throttled))
    ledger.verify()
