# Copyright (c) graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""read_many / write_at_most_once through $batch: chunking, per-item retries, order, no duplicates."""

import threading
import time
from collections import Counter

import pytest

from ansible_collections.graphops.msgraph.plugins.module_utils._graph_client import ReadOp, WriteOp
from .conftest import transport_error  # pylint: disable=relative-beyond-top-level


def _read_ops(n, mailbox="b@x", outlook=False):
    return [ReadOp(key="k%d" % i, path="/users/u/events/E%d" % i, mailbox=mailbox, outlook=outlook) for i in range(n)]


def _ok(sub):
    return 200, {"id": sub["url"].rsplit("/", 1)[1]}


def _chains(batch):
    """The dependsOn chains of one $batch body, as lists of item ids in order."""
    after = dict((r["id"], r["dependsOn"][0]) for r in batch.body["requests"] if r.get("dependsOn"))
    heads = [r["id"] for r in batch.body["requests"] if not r.get("dependsOn")]
    chains = []
    for head in heads:
        chain = [head]
        while chain[-1] in after.values():
            chain.append([k for k, v in after.items() if v == chain[-1]][0])
        chains.append(chain)
    return chains


# (count, batch sizes, chains per batch). Up to 20 items of a mailbox: one unchained batch (Graph
# runs 4 at once). More: one dependsOn chain per batch, at most 20 long, as many chains as make
# whole waves of the 4 slots, of equal length.
@pytest.mark.parametrize("count,sizes,chains", [
    (1, [], 0), (2, [2], 2), (20, [20], 20), (21, [6, 5, 5, 5], 1), (45, [12, 11, 11, 11], 1),
    (100, [13] * 4 + [12] * 4, 1), (203, [17] * 11 + [16], 1), (1000, [20] * 12 + [19] * 40, 1),
])
def test_read_many_chunks(make_client, batch_server, count, sizes, chains):
    server = batch_server(_ok)
    client, _adapter = make_client(server)
    outcomes = client.read_many(_read_ops(count))
    assert [o.key for o in outcomes] == ["k%d" % i for i in range(count)]
    assert [o.body["id"] for o in outcomes] == ["E%d" % i for i in range(count)]
    assert all(o.status == 200 and o.error is None for o in outcomes)
    assert sorted((len(b.body["requests"]) for b in server.batches), reverse=True) == sizes
    assert all(len(_chains(b)) == min(chains, len(b.body["requests"])) for b in server.batches)
    # A lone item goes out as a plain request, never a $batch of one.
    assert len(server.direct) == (1 if count == 1 else 0)
    sent = Counter(r["url"] for b in server.batches for r in b.body["requests"])
    sent.update(d.url.split("/v1.0", 1)[1] for d in server.direct)
    assert all(v == 1 for v in sent.values()) and len(sent) == count


def test_broken_chain_falls_back_to_unchained_batches(make_client, batch_server):
    """Absent ids break dependsOn chains: the dependants (424, not run) are sent again, unchained,
    without using up an attempt; every item is run exactly once and absent ones are 404."""
    runs = Counter()

    def item(sub):
        runs[sub["url"]] += 1
        number = int(sub["url"].rsplit("E", 1)[1])
        if number % 3 == 0:
            return 404, {"error": {"code": "ErrorItemNotFound", "message": "gone"}}
        return _ok(sub)

    server = batch_server(item)
    client, _adapter = make_client(server, retries=0)
    outcomes = client.read_many(_read_ops(100))
    assert [o.status for o in outcomes] == [404 if i % 3 == 0 else 200 for i in range(100)]
    assert set(runs.values()) == {1} and len(runs) == 100
    first_round = [b for b in server.batches if any(r.get("dependsOn") for r in b.body["requests"])]
    later = [b for b in server.batches if b not in first_round]
    assert first_round and later and all(not any(r.get("dependsOn") for r in b.body["requests"]) for b in later)


def test_chained_writes_are_sent_once_each(make_client, batch_server):
    """A chain broken by a throttled write: the 429 waits Retry-After, its dependants go again at once."""
    runs = Counter()

    def item(sub):
        runs[sub["url"]] += 1
        if sub["url"].endswith("/E5/cancel") and runs[sub["url"]] == 1:
            return 429, {"error": {"code": "ApplicationThrottled", "message": "slow down"}}, {"Retry-After": "1"}
        return 202, None

    server = batch_server(item)
    client, _adapter = make_client(server)
    ops = [WriteOp(key=i, path="/users/u/events/E%d/cancel" % i, body={"comment": "x"}, mailbox="u", outlook=True,
                   probe_path="/users/u/events/E%d" % i, probe_done=lambda s, b: True) for i in range(40)]
    outcomes = client.write_at_most_once(ops)
    assert [o.result for o in outcomes] == ["done"] * 40
    assert runs["/users/u/events/E5/cancel"] == 2  # throttled (not run), then run
    assert all(v == 1 for k, v in runs.items() if k != "/users/u/events/E5/cancel") and len(runs) == 40


def test_batch_request_shape(make_client, batch_server):
    server = batch_server(lambda sub: (204, None))
    client, _adapter = make_client(server)
    ops = [WriteOp(key=i, path="/users/u/events/E%d/cancel" % i, body={"Comment": "bye"}, mailbox="u", outlook=True,
                   probe_path="/users/u/events/E%d" % i, probe_done=lambda s, b: True) for i in range(3)]
    outcomes = client.write_at_most_once(ops)
    assert [o.result for o in outcomes] == ["done"] * 3
    [batch] = server.batches
    assert batch.method == "POST" and batch.url == "https://graph.test/v1.0/$batch"
    assert "Prefer" not in batch.headers
    assert batch.body["requests"][0] == {
        "id": "0", "method": "POST", "url": "/users/u/events/E0/cancel", "body": {"Comment": "bye"},
        "headers": {"Prefer": 'IdType="ImmutableId"', "Content-Type": "application/json"}}
    assert len({r["id"] for r in batch.body["requests"]}) == 3


def test_read_items_have_no_content_type(make_client, batch_server):
    server = batch_server(_ok)
    client, _adapter = make_client(server)
    client.read_many(_read_ops(2))
    assert all("headers" not in r and "body" not in r for r in server.batches[0].body["requests"])


def test_per_item_429_retried_after_its_own_retry_after(make_client, batch_server, sleeper):
    seen = Counter()

    def item(sub):
        seen[sub["url"]] += 1
        if sub["url"].endswith("E3") and seen[sub["url"]] == 1:
            return 429, {"error": {"code": "ApplicationThrottled", "message": "x"}}, {"Retry-After": "3"}
        return _ok(sub)

    server = batch_server(item)
    client, _adapter = make_client(server)
    outcomes = client.read_many(_read_ops(5))
    assert [o.body["id"] for o in outcomes] == ["E0", "E1", "E2", "E3", "E4"]
    assert seen["/users/u/events/E3"] == 2 and all(seen["/users/u/events/E%d" % i] == 1 for i in (0, 1, 2, 4))
    assert sleeper.calls == [3]
    assert len(server.batches) == 1 and len(server.direct) == 1  # the lone retry is sent directly


def test_424_items_retried(make_client, batch_server):
    seen = Counter()

    def item(sub):
        seen[sub["url"]] += 1
        if sub["url"].endswith("E1") and seen[sub["url"]] == 1:
            return 424, {"error": {"code": "FailedDependency", "message": "x"}}
        return _ok(sub)

    client, _adapter = make_client(batch_server(item))
    outcomes = client.read_many(_read_ops(3))
    assert [o.status for o in outcomes] == [200, 200, 200]
    assert seen["/users/u/events/E1"] == 2


def test_item_errors_come_back_per_item(make_client, batch_server):
    def item(sub):
        if sub["url"].endswith("E1"):
            return 404, {"error": {"code": "ErrorItemNotFound", "message": "gone"}}, {"request-id": "r-404"}
        return _ok(sub)

    client, _adapter = make_client(batch_server(item))
    outcomes = client.read_many(_read_ops(3))
    assert outcomes[1].status == 404 and outcomes[1].error.code == "ErrorItemNotFound"
    assert outcomes[1].error.request_id == "r-404" and outcomes[1].error.client_request_id
    assert outcomes[0].error is None and outcomes[2].error is None


def test_batched_writes_at_most_once(make_client, batch_server):
    """E0 applied then 504, E1 not applied then 503, E2 throttled, E3 fine: each cancelled exactly once."""
    applied = Counter()
    sends = Counter()

    def item(sub):
        event = sub["url"].split("/")[4]
        if sub["method"] == "GET":
            return (404, {"error": {"code": "ErrorItemNotFound", "message": "x"}}) if applied[event] else (200, {"id": event})
        sends[event] += 1
        if event == "E0" and sends[event] == 1:
            applied[event] += 1
            return 504, None
        if event == "E1" and sends[event] == 1:
            return 503, None
        if event == "E2" and sends[event] == 1:
            return 429, None, {"Retry-After": "1"}
        applied[event] += 1
        return 202, None

    ops = [WriteOp(key=e, path="/users/u/events/%s/cancel" % e, body={"Comment": ""}, mailbox="u", outlook=True,
                   probe_path="/users/u/events/%s" % e, probe_done=lambda s, b: s == 404) for e in ("E0", "E1", "E2", "E3")]
    client, _adapter = make_client(batch_server(item))
    outcomes = client.write_at_most_once(ops)
    assert [o.key for o in outcomes] == ["E0", "E1", "E2", "E3"]
    assert [o.result for o in outcomes] == ["done"] * 4
    assert [o.probed for o in outcomes] == [True, True, False, False]
    assert applied == Counter({"E0": 1, "E1": 1, "E2": 1, "E3": 1})
    assert sends == Counter({"E0": 1, "E1": 2, "E2": 2, "E3": 1})


def test_whole_batch_lost_is_probed_not_resent(make_client):
    """The $batch POST times out after Graph applied every item: probes only, no second cancel."""
    calls = []

    def handler(rec):
        calls.append((rec.method, rec.url))
        if rec.url.endswith("/$batch") and rec.body["requests"][0]["method"] == "POST":
            raise transport_error("timeout", "no answer within 5 s: timed out", True)
        responses = [{"id": r["id"], "status": 404, "body": {"error": {"code": "ErrorItemNotFound", "message": "x"}}}
                     for r in rec.body["requests"]]
        return 200, {"responses": responses}

    ops = [WriteOp(key=i, path="/users/u/events/E%d/cancel" % i, body={}, mailbox="u", outlook=True,
                   probe_path="/users/u/events/E%d" % i, probe_done=lambda s, b: s == 404) for i in range(3)]
    client, _adapter = make_client(handler)
    outcomes = client.write_at_most_once(ops)
    assert [o.result for o in outcomes] == ["done"] * 3 and all(o.probed for o in outcomes)
    assert len(calls) == 2  # one $batch of cancels, one $batch of probes


def test_mailbox_concurrency_bound(make_client):
    """Graph never runs more than 4 items of one mailbox at once, counted across every batch in
    flight (a chain runs one item at a time, an unchained batch up to 4); bulk work keeps several
    batches of a mailbox in flight, and mailboxes run in parallel."""
    running = Counter()      # per mailbox: items Graph could be running at once, over in-flight requests
    peak = Counter()
    batches_in_flight = Counter()
    peak_batches = Counter()
    lock = threading.Lock()
    overlap = []

    def width(requests_):
        per_mailbox = Counter(r["url"].split("/")[2] for r in requests_ if not r.get("dependsOn"))
        return dict((m, min(n, 4)) for m, n in per_mailbox.items())

    def handler(rec):
        widths = width(rec.body["requests"]) if rec.url.endswith("$batch") else {rec.url.split("/")[5]: 1}
        with lock:
            for m, n in widths.items():
                running[m] += n
                batches_in_flight[m] += 1
                peak[m] = max(peak[m], running[m])
                peak_batches[m] = max(peak_batches[m], batches_in_flight[m])
            overlap.append(sum(1 for v in running.values() if v))
        time.sleep(0.05)
        with lock:
            for m, n in widths.items():
                running[m] -= n
                batches_in_flight[m] -= 1
        if rec.url.endswith("$batch"):
            return 200, {"responses": [{"id": r["id"], "status": 200, "body": {}} for r in rec.body["requests"]]}
        return 200, {}

    ops = []
    for m in ("m1", "m2", "m3"):
        ops += [ReadOp(key=(m, i), path="/users/%s/events/E%d" % (m, i), mailbox=m) for i in range(45)]
    client, _adapter = make_client(handler)
    outcomes = client.read_many(ops)
    assert [o.key for o in outcomes] == [op.key for op in ops]
    assert max(peak.values()) <= 4
    assert min(peak_batches.values()) > 1  # pipelined: more than one batch of a mailbox on the wire
    assert max(overlap) > 1  # different mailboxes did run at the same time


def test_mailbox_concurrency_below_four_limits_items_per_batch(make_client, batch_server):
    """With 2 slots a batch of one mailbox runs as 2 dependsOn chains: never more than 2 at once."""
    server = batch_server(_ok)
    client, _adapter = make_client(server, mailbox_concurrency=2)
    client.read_many(_read_ops(6))
    [batch] = server.batches
    assert sorted(len(c) for c in _chains(batch)) == [3, 3]


def test_throttled_mailbox_gets_fewer_slots(make_client):
    """A 429 for a mailbox lowers its concurrency: later batches of it overlap less."""
    seen = []
    lock = threading.Lock()
    inflight = [0]

    def handler(rec):
        with lock:
            inflight[0] += 1
            seen.append(inflight[0])
        time.sleep(0.02)
        with lock:
            inflight[0] -= 1
            throttle = len(seen) <= 4
        responses = []
        for r in rec.body["requests"]:
            if throttle and not r.get("dependsOn"):
                responses.append({"id": r["id"], "status": 429, "headers": {"Retry-After": "0"},
                                  "body": {"error": {"code": "ApplicationThrottled", "message": "x"}}})
            elif throttle:
                responses.append({"id": r["id"], "status": 424, "body": {"error": {"code": "FailedDependency", "message": "x"}}})
            else:
                responses.append({"id": r["id"], "status": 200, "body": {}})
        return 200, {"responses": responses}

    client, _adapter = make_client(handler)
    outcomes = client.read_many(_read_ops(200))
    assert all(o.status == 200 for o in outcomes)
    limit = client._slots.limit_of("b@x")  # pylint: disable=protected-access
    assert 1 <= limit < 4  # at least one below the 4 the first throttled batch was sent under
    # Every batch after the throttled first wave started under a lowered limit (it is lowered before a
    # throttled batch gives its slot back), however the machine's load spread them.
    assert max(seen) <= 4 and max(seen[4:]) <= 3


def test_whole_batch_throttled_charges_max_wait_once(make_client, sleeper):
    """20 items waiting on one Retry-After share one sleep: max_wait is not charged 20 times."""
    calls = []

    def handler(rec):
        calls.append(rec)
        if len(calls) == 1:
            return 429, {"error": {"code": "TooManyRequests", "message": "x"}}, {"Retry-After": "2"}
        return 200, {"responses": [{"id": r["id"], "status": 200, "body": {}} for r in rec.body["requests"]]}

    client, _adapter = make_client(handler, max_wait=3)
    outcomes = client.read_many(_read_ops(20))
    assert all(o.status == 200 for o in outcomes)
    assert sleeper.calls == [2] and client.waited == 2


def test_batch_item_401_refreshes_its_token_once(make_client, tokens):
    seen = Counter()

    def item(sub):
        seen[sub["url"]] += 1
        if sub["url"].endswith("E1") and seen[sub["url"]] == 1:
            return 401, {"error": {"code": "InvalidAuthenticationToken", "message": "expired"}}
        return _ok(sub)

    from .conftest import BatchServer  # pylint: disable=relative-beyond-top-level
    client, _adapter = make_client(BatchServer(item))
    outcomes = client.read_many(_read_ops(3))
    assert [o.status for o in outcomes] == [200, 200, 200]
    assert tokens.invalidated == ["tok-1"]
