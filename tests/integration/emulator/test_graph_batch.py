# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""$batch in the Graph layer, in-process (no server)."""

import pytest

from emulator import api
from emulator.graph import GraphService
from emulator.graph.testing import (ADELE, BUSINESS, FakeRuntime, app_principal, fixture_event, load_fixture, make_request, seg,
                                    user_principal)

JSON = {"Content-Type": "application/json"}


def service(**runtime_args):
    svc = GraphService(FakeRuntime(**runtime_args))
    svc.load(load_fixture())
    return svc


@pytest.fixture
def svc():
    return service()


def batch(svc, items, principal=None, version="v1.0"):
    return svc.handle(make_request("POST", "/$batch", principal or app_principal(), {"requests": items}, version=version))


def reads(n, url=None):
    url = url or "/solutions/bookingBusinesses/%s/appointments?$top=1" % BUSINESS
    return [{"id": str(i), "method": "GET", "url": url} for i in range(1, n + 1)]


def test_twenty_items_pass_twenty_one_fail(svc):
    ok = batch(svc, reads(20))
    assert ok.status == 200 and len(ok.body["responses"]) == 20
    assert {r["id"] for r in ok.body["responses"]} == {str(i) for i in range(1, 21)}
    assert all(r["status"] == 200 and r["body"]["value"] for r in ok.body["responses"])
    before = len(svc.runtime.operations)
    too_many = batch(svc, reads(21))
    assert too_many.status == 400 and too_many.body["error"]["code"] == "BadRequest"
    assert len(svc.runtime.operations) == before  # nothing ran


@pytest.mark.parametrize("items", [
    [{"id": "a", "method": "GET", "url": "/me/events"}, {"id": "A", "method": "GET", "url": "/me/events"}],  # duplicate, any case
    [{"id": "a", "method": "POST", "url": "/me/events/x/cancel", "body": {"Comment": ""}}],  # body without Content-Type
    [{"id": "a", "method": "GET", "url": "/me/events", "dependsOn": ["zz"]}],
    [{"id": "a", "method": "GET", "url": "/me/events", "dependsOn": ["b"]}, {"id": "b", "method": "GET", "url": "/me/events", "dependsOn": ["a"]}],
    [{"id": "a", "method": "GET", "url": "https://graph.microsoft.com/v1.0/me/events"}],  # another host
    [{"id": "a", "method": "GET", "url": "https://graph.test:8443/beta/me/events"}],  # another version
    [{"id": "a", "url": "/me/events"}],
    [],
])
def test_invalid_batches_fail_whole(svc, items):
    resp = batch(svc, items, user_principal())
    assert resp.status == 400 and resp.body["error"]["innerError"]["request-id"]
    assert not svc.runtime.operations and not svc.runtime.notifications


def test_absolute_url_of_the_same_host_and_version(svc):
    """What msgraph-sdk-python's BatchRequestItem sends (make conformance): taken as the relative URL."""
    resp = batch(svc, [{"id": "a", "method": "GET", "url": "https://graph.test:8443/v1.0/me/events?$top=2"}], user_principal())
    item = resp.body["responses"][0]
    assert item["status"] == 200 and len(item["body"]["value"]) == 2
    assert svc.runtime.operations[-1][1] == "/me/events"


def test_items_run_four_at_a_time_each_through_run_operation():
    svc = service(service_s=0.1)
    resp = batch(svc, reads(12))
    assert all(r["status"] == 200 for r in resp.body["responses"])
    assert svc.runtime.peak[BUSINESS] == 4
    assert [op for op in svc.runtime.operations if op[3]] and len(svc.runtime.operations) == 12


def test_each_item_is_throttled_on_its_own():
    svc = service(service_s=0.2, mailbox_limit=2)
    resp = batch(svc, reads(4))
    statuses = sorted(r["status"] for r in resp.body["responses"])
    assert statuses == [200, 200, 429, 429] and resp.status == 200
    throttled = [r for r in resp.body["responses"] if r["status"] == 429]
    assert all(r["headers"]["Retry-After"] == "1" and r["body"]["error"]["code"] == "ApplicationThrottled" for r in throttled)


def test_responses_not_in_input_order(svc):
    resp = batch(svc, reads(5))
    assert [r["id"] for r in resp.body["responses"]] != ["1", "2", "3", "4", "5"]


def test_depends_on_and_424_chain(svc):
    vendor = seg(fixture_event("Vendor demo: scheduling suite")["id"])
    items = [
        {"id": "get", "method": "GET", "url": "me/events/" + vendor, "headers": {"Prefer": 'IdType="ImmutableId"'}},
        {"id": "cancel", "method": "POST", "url": "/me/events/%s/cancel" % vendor, "body": {"Comment": "x"},
         "headers": {"Content-Type": "application/json"}, "dependsOn": ["get"]},
        {"id": "missing", "method": "GET", "url": "/me/events/AAMkADnope0000000000000000000000000000000000="},
        {"id": "after-missing", "method": "GET", "url": "/me/events/" + vendor, "dependsOn": ["MISSING"]},
        {"id": "chain", "method": "GET", "url": "/me/events/" + vendor, "dependsOn": ["after-missing"]},
    ]
    resp = batch(svc, items, user_principal())
    by_id = {r["id"]: r for r in resp.body["responses"]}
    assert by_id["get"]["status"] == 200 and by_id["get"]["body"]["id"].startswith("AAkALg")  # per-item Prefer honoured
    assert by_id["cancel"]["status"] == 202 and "body" not in by_id["cancel"]
    assert by_id["missing"]["status"] == 404
    assert by_id["after-missing"]["status"] == 424 and by_id["chain"]["status"] == 424
    order = [r["id"] for r in resp.body["responses"]]
    assert order.index("get") < order.index("cancel")
    assert len(svc.runtime.notifications) == 1


def test_item_errors_do_not_fail_the_batch(svc):
    items = [{"id": "1", "method": "GET", "url": "/me/nothing"}, {"id": "2", "method": "DELETE", "url": "/me/calendarView"},
             {"id": "3", "method": "POST", "url": "/$batch", "body": {}, "headers": JSON},
             {"id": "4", "method": "POST", "url": "/users/%s/events/x/cancel" % ADELE, "body": {"Comment": ""}, "headers": JSON}]
    resp = batch(svc, items, user_principal())
    by_id = {r["id"]: r["status"] for r in resp.body["responses"]}
    # Item 4's id "x" is malformed: 400 inside a batch too, never a 404 "absent".
    assert resp.status == 200 and by_id == {"1": 400, "2": 405, "3": 400, "4": 400}
    item4 = next(r for r in resp.body["responses"] if r["id"] == "4")
    assert item4["body"]["error"]["code"] == "ErrorInvalidIdMalformed"


def test_item_transport_fault_becomes_the_batch_fate(svc):
    svc.runtime.scripted["/me/events"] = api.Response(status=200, body={"value": []}, transport_fault="reset")
    resp = batch(svc, [{"id": "1", "method": "GET", "url": "/me/events"}, {"id": "2", "method": "GET", "url": "/me/calendarView"}],
                 user_principal())
    assert resp.transport_fault == "reset"


def test_batch_needs_post(svc):
    resp = svc.handle(make_request("GET", "/$batch", app_principal()))
    assert resp.status in (400, 405)


def test_reordering_never_breaks_depends_on(svc):
    chain = [{"id": "a", "method": "GET", "url": "/me/events"}, {"id": "b", "method": "GET", "url": "/me/events", "dependsOn": ["a"]},
             {"id": "c", "method": "GET", "url": "/me/events", "dependsOn": ["b"]}]
    for _attempt in range(5):
        resp = batch(svc, chain, user_principal())
        assert [r["id"] for r in resp.body["responses"]] == ["a", "b", "c"]
    resp = batch(svc, chain + [{"id": "d", "method": "GET", "url": "/me/events", "dependsOn": ["c"]},
                               {"id": "e", "method": "GET", "url": "/me/events"}], user_principal())
    order = [r["id"] for r in resp.body["responses"]]
    assert order != ["a", "b", "c", "d", "e"] and order.index("a") < order.index("b") < order.index("c") < order.index("d")
