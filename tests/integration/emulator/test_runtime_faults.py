# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Realism knobs and fault rules: per-mailbox concurrency, service time, every fault kind."""

import datetime
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from emulator import api
from emulator.faults import FaultEngine
from emulator.record import Recorder
from emulator.runtime import Runtime

ORGANIZER_ID = "6e7b768e-07e2-4810-8459-485f84f8f204"
EVENTS = "/v1.0/users/%s/events" % ORGANIZER_ID
CANCEL = EVENTS + "/AAMkADtransport0001AAAAAAAAAAAAAAAAAAAAAAAAA=/cancel"


def organizer_event(emu):
    return [e for e in emu.events_state(ORGANIZER_ID) if e.get("subject") == "Quarterly review"][0]


def test_fifth_concurrent_request_on_one_mailbox_is_throttled(seeded, graph):
    seeded.config(service_ms=500)
    with ThreadPoolExecutor(5) as pool:
        responses = list(pool.map(lambda _: graph("GET", EVENTS), range(5)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(429) >= 1 and 200 in statuses, statuses
    throttled = [r for r in responses if r.status_code == 429][0]
    assert throttled.headers["Retry-After"] == "1"
    error = throttled.json()["error"]
    assert (error["code"], error["message"]) == ("ApplicationThrottled", "Application is over its MailboxConcurrency limit.")


def test_four_concurrent_requests_fit(seeded, graph):
    seeded.config(service_ms=300)
    with ThreadPoolExecutor(4) as pool:
        assert {r.status_code for r in pool.map(lambda _: graph("GET", EVENTS), range(4))} == {200}


def test_service_time(seeded, graph):
    seeded.config(service_ms=400)
    start = time.monotonic()
    graph("GET", EVENTS)
    assert time.monotonic() - start >= 0.4


@pytest.mark.parametrize("kind,status,code,message", [
    ("status_503", 503, "ServiceUnavailable", None),
    ("status_504", 504, "GatewayTimeout", None),
    ("status_500_unknown", 500, "UnknownError", ""),
    ("token_expired", 401, "InvalidAuthenticationToken", None),
    ("status_424", 424, "FailedDependency", None),
    ("status_404", 404, "ErrorItemNotFound", None),
])
def test_status_faults_are_not_applied(seeded, graph, kind, status, code, message):
    seeded.add_fault(kind, method="POST", path_regex="/events/[^/]+/cancel$")
    resp = graph("POST", CANCEL, json={"Comment": "x"})
    assert resp.status_code == status and resp.json()["error"]["code"] == code
    if message is not None:
        assert resp.json()["error"]["message"] == message
    assert not organizer_event(seeded).get("isCancelled")
    assert seeded.notifications() == []
    # times=1: the next one goes through
    assert graph("POST", CANCEL, json={"Comment": "x"}).status_code == 202
    assert seeded.faults()[0]["hits"] == 1


@pytest.mark.parametrize("retry_after", ["3", "HTTP-DATE"])
def test_429_with_retry_after(seeded, graph, retry_after):
    if retry_after == "HTTP-DATE":
        retry_after = api.http_date(datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=5))
    seeded.add_fault("status_429", path_regex="^/v1.0/users/[^/]+/events$", retry_after=retry_after, times=2)
    for _attempt in range(2):
        resp = graph("GET", EVENTS)
        assert resp.status_code == 429 and resp.headers["Retry-After"] == retry_after
    assert graph("GET", EVENTS).status_code == 200


def test_reset_closes_without_answer_and_is_not_applied(seeded, graph):
    seeded.add_fault("reset", method="POST")
    with pytest.raises(requests.ConnectionError):
        graph("POST", CANCEL, json={"Comment": "x"})
    assert not organizer_event(seeded).get("isCancelled")
    assert seeded.requests()[-1]["status"] == "reset"


def test_applied_then_504(seeded, graph):
    seeded.add_fault("applied_then_504", method="POST")
    resp = graph("POST", CANCEL, json={"Comment": "x"})
    assert resp.status_code == 504
    assert organizer_event(seeded)["isCancelled"] is True
    assert len(seeded.notifications()) == 1


def test_applied_then_reset(seeded, graph):
    seeded.add_fault("applied_then_reset", method="POST")
    with pytest.raises(requests.ConnectionError):
        graph("POST", CANCEL, json={"Comment": "x"})
    assert organizer_event(seeded)["isCancelled"] is True
    assert len(seeded.notifications()) == 1


def test_slow(seeded, graph):
    seeded.add_fault("slow", method="GET", delay_s=2)
    with pytest.raises(requests.Timeout):
        graph("GET", EVENTS, timeout=0.5)
    start = time.monotonic()
    assert graph("GET", EVENTS).status_code == 200
    assert time.monotonic() - start < 1.5


def test_slow_answer_still_arrives(seeded, graph):
    seeded.add_fault("slow", method="GET", delay_s=0.6)
    start = time.monotonic()
    assert graph("GET", EVENTS).status_code == 200
    assert time.monotonic() - start >= 0.6


def test_malformed_json(seeded, graph):
    seeded.add_fault("malformed_json", method="GET")
    resp = graph("GET", EVENTS)
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("application/json")
    with pytest.raises(ValueError):
        resp.json()


def test_fault_matches_in_batch_flag(seeded, graph):
    seeded.add_fault("status_503", in_batch=True, times=None)
    assert graph("GET", EVENTS).status_code == 200
    assert seeded.faults()[0]["hits"] == 0
    seeded.clear_faults()
    assert seeded.faults() == []


def test_reset_clears_faults_knobs_and_records(seeded, graph):
    seeded.add_fault("status_503", times=None)
    seeded.config(service_ms=50, rtt_ms=10, mailbox_concurrency=2)
    graph("GET", EVENTS)
    seeded.reset()
    assert seeded.faults() == [] and seeded.requests() == [] and seeded.notifications() == []


# --- the runtime in-process: the contract the Graph layer relies on --------------------------------

def make_request(**kw):
    defaults = {"method": "GET", "version": "v1.0", "path": "/x", "segments": ["x"], "query": {}, "headers": {}}
    defaults.update(kw)
    return api.Request(**defaults)


def test_runtime_slots_are_per_mailbox_and_released():
    runtime = Runtime(Recorder(), FaultEngine(), mailbox_concurrency=1)
    inside = threading.Event()
    release = threading.Event()

    def slow(_req):
        inside.set()
        release.wait(5)
        return api.Response(200, {})

    worker = threading.Thread(target=runtime.run_operation, args=(make_request(seq=1), "a@x", slow))
    worker.start()
    inside.wait(5)
    assert runtime.run_operation(make_request(seq=2), "A@X", lambda r: api.Response(200)).status == 429
    assert runtime.run_operation(make_request(seq=3), "b@x", lambda r: api.Response(200)).status == 200
    release.set()
    worker.join()
    assert runtime.run_operation(make_request(seq=4), "a@x", lambda r: api.Response(200)).status == 200


def test_runtime_records_batch_items_and_hands_fate_to_batch():
    recorder, faults = Recorder(), FaultEngine()
    runtime = Runtime(recorder, faults)
    faults.add({"kind": "applied_then_reset", "match": {"in_batch": True}})
    applied = []
    item = make_request(method="POST", in_batch=True, batch_request_seq=7, batch_item_id="1")
    resp = runtime.run_operation(item, "m", lambda r: applied.append(r) or api.Response(202))
    assert applied and resp.transport_fault == "reset"
    assert runtime.take_fate(7) == "reset" and runtime.take_fate(7) is None
    record = recorder.requests()[0]
    assert record["in_batch"] and record["batch_request_seq"] == 7 and record["mailbox"] == "m"


def test_runtime_handler_error_releases_slot():
    runtime = Runtime(Recorder(), FaultEngine(), mailbox_concurrency=1)

    def boom(_req):
        raise RuntimeError("bug")

    with pytest.raises(RuntimeError):
        runtime.run_operation(make_request(), "m", boom)
    assert runtime.run_operation(make_request(), "m", lambda r: api.Response(200)).status == 200


def test_batch_envelope_only_hit_by_a_rule_naming_it():
    faults = FaultEngine()
    faults.add({"kind": "status_503", "match": {"method": "POST"}})
    assert faults.take("POST", "v1.0", ["$batch"], False) is None
    assert faults.take("POST", "v1.0", ["users", "u", "events", "e", "cancel"], True)["kind"] == "status_503"
    faults.add({"kind": "reset", "match": {"path_regex": r"/\$batch$"}})
    assert faults.take("POST", "v1.0", ["$batch"], False)["kind"] == "reset"
