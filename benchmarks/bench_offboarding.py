# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make bench-offboarding` (issue 18): offboarding one organizer in one task, against the latency-model bound.

The organizer has 200 single meetings and 20 weekly series over a year (1,240 meetings in the
calendar view). One calendar_event_cancel task with match.series=whole cancels them all: each
single once, each series once. The emulator runs bench.py's latency model (--rtt-ms 50
--service-ms 10, 4 concurrent requests per mailbox). The bound is what the requests the task
needs cost under that model when nothing is wasted:

  * the calendar view, paged at 500: ceil(1240 / 500) pages, one after the other;
  * one read of each series master (the series' recurrence and organizer): one round trip plus
    ceil(20 / 4) service times;
  * one cancel per single and per series: one round trip plus ceil(220 / 4) service times.

The run fails when the task (less one module start, measured as bench.py does) is above 1.5 x
that bound, when it used more requests than these, or when the emulator's notification record
shows an attendee notified twice for one item or a series cancelled per occurrence.
"""

import copy
import math
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench  # noqa: E402  pylint: disable=wrong-import-position

SINGLES = 200
SERIES = 20
WEEKS = 52
PAGE = 500
WINDOW = {"window_start": "2030-01-01T00:00:00Z", "window_end": "2031-01-01T00:00:00Z"}
REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))


def seed():
    """200 singles spread over 2030, and 20 weekly series from the first Monday of 2030 for 52 weeks."""
    _business, single = bench._templates()  # pylint: disable=protected-access
    events = []
    for i in range(SINGLES):
        day, hour = divmod(i, 4)
        start = "2030-%02d-%02dT%02d:00:00" % (1 + (day % 48) // 4, 1 + (day % 4) * 7, 8 + hour * 2)
        event = copy.deepcopy(single)
        event.update(id="AAMkADOffboardSingle-000000000000000000000%07d=" % i, subject="Offboarding single %d" % i,
                     iCalUId="offboard-single-%07d" % i, start={"dateTime": start + ".0000000", "timeZone": "UTC"},
                     end={"dateTime": start[:-5] + "30:00.0000000", "timeZone": "UTC"})
        events.append(event)
    for i in range(SERIES):
        start = "2030-01-07T%02d:%02d:00" % (8 + i // 4, (i % 4) * 15)
        master = copy.deepcopy(single)
        master.update(id="AAMkADOffboardSeries-000000000000000000000%07d=" % i, subject="Offboarding weekly %d" % i,
                      iCalUId="offboard-series-%07d" % i, type="seriesMaster",
                      start={"dateTime": start + ".0000000", "timeZone": "UTC"},
                      end={"dateTime": start[:-5] + "%02d:00.0000000" % ((i % 4) * 15 + 10), "timeZone": "UTC"},
                      recurrence={"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"], "firstDayOfWeek": "sunday",
                                              "month": 0, "dayOfMonth": 0, "index": "first"},
                                  "range": {"type": "numbered", "startDate": "2030-01-07", "numberOfOccurrences": WEEKS,
                                            "recurrenceTimeZone": "UTC"}})
        events.append(master)
    # The bench business too: bench.warm_token() fills the token cache by reading one of its appointments.
    businesses = bench.seed_fixture(1)[0]["bookingBusinesses"]
    return {"bookingBusinesses": businesses, "mailboxes": [{"owner": bench.ORGANIZER_ID, "events": events}]}, events


def bound():
    rtt, service, lanes = bench.RTT_MS / 1000.0, bench.SERVICE_MS / 1000.0, bench.MAILBOX_CONCURRENCY
    pages = math.ceil((SINGLES + SERIES * WEEKS) / float(PAGE))
    return (pages * (rtt + service) + rtt + math.ceil(SERIES / float(lanes)) * service
            + rtt + math.ceil((SINGLES + SERIES) / float(lanes)) * service), pages


def run_once(runner, fixture, events):
    emu = runner.emu
    emu.call("POST", "reset")
    emu.call("POST", "seed", fixture)
    bench.warm_token(runner, fixture)
    ids = dict((e["id"], e["immutableId"]) for e in emu.call("GET", "state/events?owner=" + bench.ORGANIZER_ID))
    tasks, _peak, _process = runner.playbook("events_offboard.yml", dict(WINDOW, organizer=bench.ORGANIZER))
    record = bench.graph_record(emu)
    sent = emu.call("GET", "notifications")
    per_item = {}
    for note in sent:
        per_item.setdefault(note["item_id"], []).append(note["recipient"])
    wanted = set(ids[e["id"]] for e in events)
    problems = []
    if set(per_item) != wanted:
        problems.append("notified %d items, expected the %d singles and series masters" % (len(per_item), len(wanted)))
    if any(len(who) != len(set(who)) for who in per_item.values()):
        problems.append("an attendee was notified twice for one item")
    http = emu.call("GET", "http_requests")
    if http and os.environ.get("BENCH_TRACE"):
        first = http[0]["ts"]
        for entry in http:
            print("  +%.3f s %s %s" % (entry["ts"] - first, entry["method"], entry["path"][:90]))
        # Where the task's time went: before its first request (module start, credential, lock), from
        # that request's arrival to the last Graph operation done, and after (answer, result, Ansible).
        task, done = tasks[-1], max(r["ts"] for r in emu.call("GET", "requests"))
        print("  task: %.3f s to the first request, %.3f s of requests, %.3f s after the last operation" % (
            first - task["wall_start"], done - first, task["wall_end"] - done))
    return tasks[-1]["seconds"], record, len(sent), problems


def main():
    emulator = bench.Emulator()
    failures = []
    try:
        runner = bench.Runner(emulator)
        fixture, events = seed()
        starts, times = [], []
        for _round in range(REPEAT):
            starts.append(bench.single_task(runner, "module_start.yml", {}, True)[0])
            seconds, record, notified, problems = run_once(runner, fixture, events)
            times.append(seconds)
            failures.extend(problems)
        module_start, task = statistics.median(starts), statistics.median(times)
        limit, pages = bound()
        reads_needed, writes_needed = pages + SERIES, SINGLES + SERIES
        print("Offboarding one organizer: %d singles + %d weekly series over a year, one task (series: whole), median of %d"
              % (SINGLES, SERIES, REPEAT))
        header = "%-10s %10s %10s %10s %8s %8s %8s %8s %9s" % (
            "task s", "start s", "bound s", "ratio", "HTTP", "reads", "writes", "429s", "notified")
        print(header)
        print("-" * len(header))
        ratio = (task - module_start) / limit
        print("%-10.2f %10.2f %10.2f %10.2f %8d %8d %8d %8d %9d" % (
            task, module_start, limit, ratio, record["http"], record["reads"], record["writes"], record["throttled"], notified))
        print("bound = %d calendarView pages in sequence + a round trip and ceil(%d/%d) service times for the series reads"
              " + a round trip and ceil(%d/%d) for the cancels (rtt %g ms, service %g ms); target: task - module start"
              " <= 1.5 x bound" % (pages, SERIES, bench.MAILBOX_CONCURRENCY, SINGLES + SERIES, bench.MAILBOX_CONCURRENCY,
                                   bench.RTT_MS, bench.SERVICE_MS))
        if ratio > 1.5:
            failures.append("offboarding: %.2f s (less module start %.2f s) above 1.5 x bound %.2f s" % (task, module_start, limit))
        if record["writes"] > writes_needed or record["reads"] > reads_needed:
            failures.append("offboarding used %d reads and %d writes, needs %d and %d" % (
                record["reads"], record["writes"], reads_needed, writes_needed))
    finally:
        emulator.stop()
    bench.conclude(failures, "Each single and each series was cancelled once; no attendee was notified twice (emulator record).")


if __name__ == "__main__":
    main()
