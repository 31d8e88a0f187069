# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Building blocks of the reliability suite: items seeded for one case, the tasks that cancel them,
fault rules aimed at them, and checks that read the emulator's record (who was notified, how often,
which requests were sent) rather than what the module says about itself.

Every case owns its items (ids carry the case's tag), so many cases can share one playbook run and
still be judged one by one.
"""

import collections
import copy
import json
import re
import time

from emulator.graph.store import derive_immutable_id
from emulator.graph.testing import load_fixture

BUSINESS = "contosoclinic@contoso.example"
ORGANIZER = "adele.vance@contoso.example"
STAFF_ID = "9e2f4a6c-8d0b-4c2e-a4f6-1b3d5f7a9c22"
STAFF_EMAIL = "diego.siciliani@contoso.example"
ATTENDEE = "alex.wilber@contoso.example"
MODULES = {"booking": "graphops.msgraph.booking_appointment_cancel", "event": "graphops.msgraph.calendar_event_cancel"}
# Graph answers that say "not run, send it again": nothing was applied, so no read is needed first.
NOT_APPLIED = (401, 424, 429)

_FIXTURE = load_fixture()
_APPOINTMENT = _FIXTURE["bookingBusinesses"][0]["appointments"][0]
_EVENT = [e for m in _FIXTURE["mailboxes"] for e in m["events"] if e.get("subject") == "Quarterly budget review"][0]


class Item:
    """One appointment or event a case cancels: the id given to the task, the id Graph's cancel path
    and notifications carry (an event's immutable id), and who Graph notifies."""

    def __init__(self, module, item_id, target_id, recipients):
        self.module = module
        self.id = item_id
        self.target_id = target_id
        self.recipients = frozenset(recipients)

    def __repr__(self):
        return self.id


def _item_id(tag, n):
    """A well-formed Exchange-style id (URL-safe base64, 40+ characters: the emulator answers 400
    ErrorInvalidIdMalformed to anything shorter), ending in the item number."""
    return "AAMkADrel%s%s%05d=" % (tag, "A" * max(0, 29 - len(tag)), n)


def make_items(module, tag, count):
    """(seed fixture, [Item]) for count fresh items of module ("booking" or "event") tagged tag."""
    if not re.match(r"^[A-Za-z0-9]+$", tag):
        raise ValueError("tag must be alphanumeric: %r" % tag)
    items, records = [], []
    for n in range(count):
        guest = "%s.%d@example.net" % (tag.lower(), n)
        if module == "booking":
            item_id = _item_id(tag, n)
            appt = copy.deepcopy(_APPOINTMENT)
            appt.update(id=item_id, selfServiceAppointmentId="rel-%s-%d" % (tag, n), staffMemberIds=[STAFF_ID])
            appt["customers"] = [dict(appt["customers"][0], customerId="rel-%s-%d" % (tag, n), name="Guest %d" % n,
                                      emailAddress=guest)]
            records.append(appt)
            items.append(Item(module, item_id, item_id, [guest, STAFF_EMAIL]))
        else:
            item_id = _item_id(tag, n)
            event = copy.deepcopy(_EVENT)
            event.update(id=item_id, iCalUId="rel-%s-%d" % (tag, n), subject="Reliability %s %d" % (tag, n))
            event["attendees"] = [_attendee(ATTENDEE, "Alex Wilber"), _attendee(guest, "Guest %d" % n)]
            records.append(event)
            items.append(Item(module, item_id, derive_immutable_id(item_id), [ATTENDEE, guest]))
    if module == "booking":
        seed = {"bookingBusinesses": [{"id": BUSINESS, "appointments": records}]}
    else:
        seed = {"mailboxes": [{"owner": ORGANIZER, "events": records}]}
    return seed, items


def _attendee(address, name):
    return {"type": "required", "status": {"response": "accepted", "time": "2027-02-20T08:00:00Z"},
            "emailAddress": {"name": name, "address": address}}


def seed_items(emu, module, tag, count):
    seed, items = make_items(module, tag, count)
    emu.seed(seed)
    return items


def cancel_task(name, module, items, **options):
    """A task cancelling items: one id for a single item, a list otherwise (bulk even for one, if bulk=True)."""
    bulk = options.pop("bulk", len(items) > 1)
    if module == "booking":
        args = {"business_id": BUSINESS, "cancellation_message": "Reliability suite: %s" % name}
        key = "appointment_ids" if bulk else "appointment_id"
    else:
        args = {"user": ORGANIZER, "comment": "Reliability suite: %s" % name}
        key = "event_ids" if bulk else "event_id"
    args[key] = [i.id for i in items] if bulk else items[0].id
    args.update(options)
    return {"name": name, MODULES[module]: args, "ignore_errors": True}


def cancel_regex(item):
    return re.escape("/" + item.target_id) + "/cancel$"


def read_regex(item):
    """The first read of an item (for an event, by the id the task was given; the probe uses the immutable id)."""
    return re.escape("/" + item.id) + "$"


class Case:
    """One case: a name, the checks made (each a pass or a problem) and the notifications it saw."""

    def __init__(self, group, name):
        self.group = group
        self.name = name
        self.checks = 0
        self.problems = []
        self.sent = 0
        self.expected = 0

    def check(self, ok, message):
        self.checks += 1
        if not ok:
            self.problems.append(message)
        return bool(ok)

    @property
    def passed(self):
        return self.checks > 0 and not self.problems

    def as_dict(self):
        return {"group": self.group, "name": self.name, "passed": self.passed, "checks": self.checks,
                "problems": self.problems[:5], "sent": self.sent, "expected": self.expected}


class Ledger:
    def __init__(self):
        self.cases = []

    def case(self, group, name):
        case = Case(group, name)
        self.cases.append(case)
        return case

    def verify(self):
        """Fail the test with every problem of every case; a case without a single check is a problem too."""
        assert self.cases, "the test tried no case"
        problems = []
        for case in self.cases:
            if not case.checks:
                problems.append("%s / %s: no check was made" % (case.group, case.name))
            problems.extend("%s / %s: %s" % (case.group, case.name, p) for p in case.problems)
        assert not problems, "\n".join(problems)


# ------------------------------------------------------------------------------ the record


class Record:
    """A snapshot of the emulator's record, indexed by item."""

    def __init__(self, emu):
        self.requests = emu.requests()
        self.notifications = emu.notifications()
        self.token_requests = emu.token_requests()
        self.http = emu.http_requests()

    @staticmethod
    def _names(item):
        return {item.id, item.target_id}

    def cancels(self, item, since=0.0):
        """Cancel operations Graph received for item (top level or $batch items), oldest first."""
        names = self._names(item)
        return [r for r in self.requests if r["method"] == "POST" and r["segments"][-1:] == ["cancel"]
                and names & set(r["segments"]) and r["ts"] >= since]

    def reads(self, item, since=0.0):
        names = self._names(item)
        return [r for r in self.requests if r["method"] == "GET" and r["segments"][-1:] and r["segments"][-1] in names
                and r["ts"] >= since]

    def sent(self, item, since=0.0):
        """recipient -> how many notifications Graph sent about item."""
        return collections.Counter(n["recipient"] for n in self.notifications
                                   if n["item_id"] == item.target_id and n["ts"] >= since)

    def tokens_between(self, start, end):
        return [t for t in self.token_requests if start <= t["ts"] <= end]

    def http_between(self, start, end):
        return [h for h in self.http if start <= h["ts"] <= end]


def wait_for(predicate, timeout=30.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("gave up waiting after %.0f s" % timeout)


# ------------------------------------------------------------------------------ checks


def message_of(task):
    result = task["result"]
    return "%s %s" % (result.get("msg", ""), json.dumps(result.get("failures") or []))


def check_no_blind_resend(case, record, item):
    """A cancel is sent again only after Graph said it was not run (401, 424, 429) or after a read
    showed it had not taken effect: anything else could notify twice."""
    cancels = record.cancels(item)
    for previous, current in zip(cancels, cancels[1:]):
        if previous["status"] in NOT_APPLIED:
            continue
        probes = [r for r in record.reads(item) if previous["seq"] < r["seq"] < current["seq"]]
        case.check(probes, "%s: cancel re-sent after a %s answer without reading the item first" % (item.id, previous["status"]))


def check_first_run(case, record, task, items, expect, fragments=(), since=0.0):
    """Run 1 (with faults): the expected outcome; a failure names each failed id and the Graph error;
    each item notified exactly once if reported cancelled, else not at all; no blind re-send."""
    result = task["result"] if task else {}
    case.check(task is not None, "the task left no result")
    if task is None:
        return set()
    message = message_of(task)
    case.check(task["status"] == expect, "expected the task to end %s, it ended %s: %s" % (expect, task["status"], message[:600]))
    cancelled = set(result.get("cancelled") or [])
    if task["status"] == "failed":
        failed = [f.get("id") for f in result.get("failures") or []]
        case.check(failed, "the failure names no item: %s" % message[:600])
        for item_id in failed:
            case.check(item_id in result.get("msg", ""), "the message does not name %s" % item_id)
        for fragment in fragments:
            case.check(fragment in result.get("msg", ""), "the message lacks %r: %s" % (fragment, result.get("msg", "")[:600]))
    for item in items:
        sent = record.sent(item, since)
        case.check(all(n == 1 for n in sent.values()), "%s notified more than once: %s" % (item.id, dict(sent)))
        if item.id in cancelled:
            case.check(set(sent) == item.recipients, "%s reported cancelled but notified %s" % (item.id, dict(sent)))
        else:
            case.check(not sent, "%s not reported cancelled but notified %s" % (item.id, dict(sent)))
        check_no_blind_resend(case, record, item)
    return cancelled


def check_rerun(case, record, task, items, remaining, since):
    """Run 2 (no faults): cancels exactly what run 1 left, and every item has now been notified once."""
    case.check(task is not None and task["status"] == "ok",
               "the rerun failed: %s" % (message_of(task)[:600] if task else "no result"))
    if task is None:
        return
    result = task["result"]
    case.check(bool(result.get("changed")) == bool(remaining), "the rerun reported changed=%s with %s left"
               % (result.get("changed"), sorted(remaining)))
    case.check(set(result.get("cancelled") or []) == set(remaining),
               "the rerun cancelled %s, expected %s" % (sorted(result.get("cancelled") or []), sorted(remaining)))
    for item in items:
        sent = record.sent(item)
        case.check(set(sent) == item.recipients and all(n == 1 for n in sent.values()),
                   "%s: after the rerun notified %s, expected once each of %s" % (item.id, dict(sent), sorted(item.recipients)))


def check_no_change(case, record, task, items, since):
    """Run 3: nothing left, nothing sent."""
    case.check(task is not None and task["status"] == "ok" and not task["result"].get("changed"),
               "the last run should be ok and unchanged: %s" % (message_of(task)[:600] if task else "no result"))
    for item in items:
        case.check(not record.cancels(item, since), "%s: a cancel was sent on the last run" % item.id)
        case.check(not record.sent(item, since), "%s: notified again on the last run" % item.id)


def check_gone(case, emu, items):
    """The emulator's state agrees: appointments gone, events cancelled."""
    bookings = [i for i in items if i.module == "booking"]
    events = [i for i in items if i.module == "event"]
    if bookings:
        left = {a["id"] for a in emu.appointments_state()}
        case.check(not left & {i.id for i in bookings}, "appointments still there: %s" % sorted(left & {i.id for i in bookings}))
    if events:
        # By immutable id: the default id changes when the cancel moves an event to Deleted Items.
        state = {e["immutableId"]: e for e in emu.events_state()}
        live = [i.id for i in events if not state.get(i.target_id, {}).get("isCancelled")]
        case.check(not live, "events not cancelled: %s" % live)


def count_notifications(case, record, items):
    case.sent += sum(sum(record.sent(item).values()) for item in items)
    case.expected += sum(len(item.recipients) for item in items)
