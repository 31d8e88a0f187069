# Copyright (c) graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""GraphClient against scripted HTTP: headers, retries, max_wait, at-most-once writes."""

import email.utils
import time
import uuid

import pytest

from ansible_collections.graphops.msgraph.plugins.module_utils._graph_client import GraphClient, WriteOp, new_request_id
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_outcomes import BACKOFF_CAP, parse_retry_after
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_session import GraphSession
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_errors import (
    GraphForbidden, GraphNotFound, GraphServerError, GraphThrottled, GraphTransportError, GraphUnauthorized, InvalidInputError)
from ansible_collections.graphops.msgraph.plugins.module_utils._ids import build_path
from .conftest import transport_error  # pylint: disable=relative-beyond-top-level
from ansible_collections.graphops.msgraph.plugins.module_utils._version import COLLECTION_VERSION, USER_AGENT

OK = (200, {"id": "x"})
THROTTLED = (429, {"error": {"code": "ApplicationThrottled", "message": "slow down"}}, {"Retry-After": "2"})


def test_get_sends_exact_request(make_client):
    client, adapter = make_client([OK, OK])
    path = build_path("/users/{user}/events/{event_id}", user="adele@contoso.example", event_id="AA/B==")
    assert client.get(path, params={"$select": "id,subject"}, outlook=True) == {"id": "x"}
    client.get("/solutions/bookingBusinesses")
    first, second = adapter.requests
    assert first.method == "GET"
    assert first.url == "https://graph.test/v1.0/users/adele%40contoso.example/events/AA%2FB%3D%3D?$select=id,subject"
    assert first.headers["Authorization"] == "Bearer tok-1"
    assert first.headers["User-Agent"] == USER_AGENT == "graphops.msgraph/" + COLLECTION_VERSION
    assert first.headers["return-client-request-id"] == "true"
    assert first.headers["Prefer"] == 'IdType="ImmutableId"'
    assert "Prefer" not in second.headers
    ids = [r.headers["client-request-id"] for r in adapter.requests]
    assert len(set(ids)) == 2
    for crid in ids:
        parsed = uuid.UUID(crid)
        assert str(parsed) == crid and parsed.version == 4 and parsed.variant == uuid.RFC_4122
    assert first.body is None and first.raw_body is None


def test_request_ids_are_random_version_4_uuids():
    ids = [new_request_id() for dummy in range(2000)]
    assert len(set(ids)) == len(ids)
    for crid in ids:
        parsed = uuid.UUID(crid)
        assert str(parsed) == crid and parsed.version == 4 and parsed.variant == uuid.RFC_4122
    # Every one of the 122 random bits varies: no digit position outside the fixed ones is constant.
    for position in (i for i in range(36) if i not in (8, 13, 14, 18, 23)):
        assert len(set(crid[position] for crid in ids)) > 1, position


def test_dot_segments_never_reach_the_wire(make_client):
    # requests would unquote %2E%2E and urllib3 collapse the segment: build_path refuses it instead.
    client, adapter = make_client([OK])
    for dots in (".", ".."):
        with pytest.raises(InvalidInputError, match="event_id must not be '.' or '..'"):
            client.get(build_path("/users/{user}/events/{event_id}", user="u", event_id=dots))
    assert adapter.requests == []


def test_404_raises_not_found(make_client):
    gone = (404, {"error": {"code": "ErrorItemNotFound", "message": "gone"}}, {"request-id": "r1"})
    client, _adapter = make_client([gone])
    with pytest.raises(GraphNotFound) as err:
        client.get("/me/events/x")
    assert err.value.request_id == "r1" and err.value.code == "ErrorItemNotFound"
    assert err.value.client_request_id


def test_403_is_not_retried(make_client):
    client, adapter = make_client([(403, {"error": {"code": "ErrorAccessDenied", "message": "Access is denied."}})])
    with pytest.raises(GraphForbidden):
        client.get("/x")
    assert len(adapter.requests) == 1


def test_retry_after_one_second_really_waits(make_client):
    client, adapter = make_client([(429, {"error": {"code": "TooManyRequests", "message": "x"}}, {"Retry-After": "1"}), OK],
                                  real_sleep=True)
    start = time.monotonic()
    assert client.get("/x") == {"id": "x"}
    elapsed = time.monotonic() - start
    assert 0.9 <= elapsed < 3
    assert len(adapter.requests) == 2
    assert adapter.requests[0].headers["client-request-id"] != adapter.requests[1].headers["client-request-id"]


def test_retry_after_http_date(make_client, sleeper):
    when = email.utils.formatdate(time.time() + 5, usegmt=True)
    client, _adapter = make_client([(503, None, {"Retry-After": when}), OK])
    assert client.get("/x") == {"id": "x"}
    assert 3.5 <= sleeper.calls[0] <= 5.5


def test_parse_retry_after():
    assert parse_retry_after("7") == 7
    assert parse_retry_after(None) is None
    assert parse_retry_after("garbage") is None
    assert parse_retry_after(email.utils.formatdate(1000, usegmt=True), now=990) == 10
    assert parse_retry_after(email.utils.formatdate(1000, usegmt=True), now=2000) == 0


@pytest.mark.parametrize("status", [503, 504])
def test_5xx_retried_for_reads(make_client, sleeper, status):
    client, adapter = make_client([(status, None), (status, None), OK])
    assert client.get("/x") == {"id": "x"}
    assert len(adapter.requests) == 3
    assert len(sleeper.calls) == 2


def test_backoff_full_jitter_bounds(make_client, sleeper):
    client, _adapter = make_client([(503, None)] * 6, retries=5, max_wait=1000, rand=lambda: 0.999999)
    with pytest.raises(GraphServerError):
        client.get("/x")
    caps = [min(BACKOFF_CAP, 2 ** n) for n in range(5)]
    assert [round(s, 3) for s in sleeper.calls] == [round(c * 0.999999, 3) for c in caps]
    client, _adapter = make_client([(503, None)] * 3, retries=2, rand=lambda: 0.0)
    sleeper.calls.clear()
    with pytest.raises(GraphServerError):
        client.get("/x")
    assert sleeper.calls == []  # a zero delay never sleeps


def test_exhaustion_names_attempts(make_client):
    client, adapter = make_client([THROTTLED] * 4, retries=3)
    with pytest.raises(GraphThrottled) as err:
        client.get("/x")
    assert len(adapter.requests) == 4
    assert err.value.attempts == 4
    assert "gave up after 4 attempts" in str(err.value)
    assert str(err.value).startswith("HTTP 429 ApplicationThrottled: slow down")


def test_max_wait_is_honoured(make_client, sleeper):
    client, adapter = make_client([THROTTLED] * 10, retries=9, max_wait=5)
    with pytest.raises(GraphThrottled) as err:
        client.get("/x")
    assert sum(sleeper.calls) <= 5
    assert sleeper.calls == [2, 2]
    assert len(adapter.requests) == 3
    assert "max_wait" in str(err.value)


def test_connection_error_retried_then_reported(make_client):
    client, adapter = make_client([transport_error("connection_error", "reset by peer", True)] * 2, retries=1)
    with pytest.raises(GraphTransportError) as err:
        client.get("/x")
    assert len(adapter.requests) == 2
    assert err.value.status is None and "attempts" in str(err.value)


def test_tls_error_not_retried(make_client):
    client, adapter = make_client([transport_error("tls_error", "TLS verification failed for graph.test:443: certificate verify failed", False)])
    with pytest.raises(GraphTransportError) as err:
        client.get("/x")
    assert len(adapter.requests) == 1
    assert "TLS" in str(err.value) and err.value.code == "tls_error"


def test_401_invalid_token_reacquires_once(make_client, tokens):
    expired = (401, {"error": {"code": "InvalidAuthenticationToken", "message": "Access token has expired."}})
    client, adapter = make_client([expired, OK])
    assert client.get("/x") == {"id": "x"}
    assert tokens.invalidated == ["tok-1"]
    assert [r.headers["Authorization"] for r in adapter.requests] == ["Bearer tok-1", "Bearer tok-2"]
    client, adapter = make_client([expired, expired])
    with pytest.raises(GraphUnauthorized):
        client.get("/x")
    assert len(adapter.requests) == 2


def test_get_all_follows_next_link(make_client):
    pages = [(200, {"value": [1, 2], "@odata.nextLink": "https://graph.test/v1.0/users/u/calendarView?$skip=2"}),
             (200, {"value": [3]})]
    client, adapter = make_client(pages)
    assert client.get_all("/users/u/calendarView", params={"startDateTime": "a", "endDateTime": "b"}) == [1, 2, 3]
    assert adapter.requests[1].url == "https://graph.test/v1.0/users/u/calendarView?$skip=2"


def test_get_all_refuses_foreign_next_link(make_client):
    client, adapter = make_client([(200, {"value": [1], "@odata.nextLink": "https://evil.test/v1.0/x"})])
    with pytest.raises(Exception) as err:
        client.get_all("/x")
    assert "evil.test" in str(err.value)
    assert len(adapter.requests) == 1


# ------------------------------------------------------------------ at-most-once writes

CANCEL = "/solutions/bookingBusinesses/b%40x/appointments/A1/cancel"
PROBE = "/solutions/bookingBusinesses/b%40x/appointments/A1"


def _gone(status, _body):
    return status == 404


def _write(path=CANCEL, probe=PROBE):
    return WriteOp(key="A1", path=path, body={"cancellationMessage": "sorry"}, mailbox="b@x", outlook=False,
                   probe_path=probe, probe_done=_gone)


def test_write_success_sends_once(make_client):
    client, adapter = make_client([(204, None)])
    [outcome] = client.write_at_most_once([_write()])
    assert outcome.result == "done" and outcome.status == 204 and outcome.error is None and outcome.probed is False
    [rec] = adapter.requests
    assert rec.method == "POST" and rec.url == "https://graph.test/v1.0" + CANCEL
    assert rec.body == {"cancellationMessage": "sorry"}
    assert rec.headers["Content-Type"] == "application/json"


def test_write_404_first_is_absent(make_client):
    client, _adapter = make_client([(404, {"error": {"code": "ErrorItemNotFound", "message": "x"}})])
    [outcome] = client.write_at_most_once([_write()])
    assert outcome.result == "absent" and outcome.status == 404


def test_applied_then_504_probes_and_does_not_resend(make_client):
    client, adapter = make_client([(504, None), (404, {"error": {"code": "ErrorItemNotFound", "message": "x"}})])
    [outcome] = client.write_at_most_once([_write()])
    assert outcome.result == "done" and outcome.probed is True
    assert [(r.method, r.url) for r in adapter.requests] == [
        ("POST", "https://graph.test/v1.0" + CANCEL), ("GET", "https://graph.test/v1.0" + PROBE)]


def test_applied_then_timeout_probes_and_does_not_resend(make_client):
    client, adapter = make_client([transport_error("timeout", "no answer within 5 s: read timed out", True), (404, None)])
    [outcome] = client.write_at_most_once([_write()])
    assert outcome.result == "done" and outcome.probed
    assert [r.method for r in adapter.requests] == ["POST", "GET"]


def test_not_applied_is_resent_exactly_once(make_client):
    client, adapter = make_client([(500, {"error": {"code": "UnknownError", "message": ""}}), (200, {"id": "A1"}), (204, None)])
    [outcome] = client.write_at_most_once([_write()])
    assert outcome.result == "done" and outcome.probed
    assert [r.method for r in adapter.requests] == ["POST", "GET", "POST"]


def test_resend_after_ambiguous_404_means_done(make_client):
    client, adapter = make_client([transport_error("connection_error", "Connection reset by peer", True), (200, {"id": "A1"}),
                                   (404, {"error": {"code": "ErrorItemNotFound", "message": "x"}})])
    [outcome] = client.write_at_most_once([_write()])
    assert outcome.result == "done"
    assert [r.method for r in adapter.requests] == ["POST", "GET", "POST"]


def test_429_on_write_is_retried_without_probe(make_client):
    client, adapter = make_client([THROTTLED, (204, None)])
    [outcome] = client.write_at_most_once([_write()])
    assert outcome.result == "done" and not outcome.probed
    assert [r.method for r in adapter.requests] == ["POST", "POST"]


def test_connection_refused_is_not_ambiguous(make_client):
    refused = transport_error("connection_error", "connection to graph.test:443 failed: [Errno 111] Connection refused", False)
    client, adapter = make_client([refused, (204, None)])
    [outcome] = client.write_at_most_once([_write()])
    assert outcome.result == "done" and not outcome.probed
    assert [r.method for r in adapter.requests] == ["POST", "POST"]


def test_ambiguous_without_probe_path_is_never_resent(make_client):
    client, adapter = make_client([(502, None)])
    [outcome] = client.write_at_most_once([WriteOp("k", CANCEL, {}, "b@x", False, None, None)])
    assert outcome.result == "failed" and "may have taken effect" in str(outcome.error)
    assert len(adapter.requests) == 1


def test_probe_failure_fails_without_resend(make_client):
    client, adapter = make_client([(504, None), (403, {"error": {"code": "ErrorAccessDenied", "message": "no"}})])
    [outcome] = client.write_at_most_once([_write()])
    assert outcome.result == "failed" and outcome.probed
    assert "not re-sent" in str(outcome.error)
    assert [r.method for r in adapter.requests] == ["POST", "GET"]


def test_403_write_fails(make_client):
    client, _adapter = make_client([(403, {"error": {"code": "ErrorAccessDenied", "message": "Access is denied."}},
                                     {"request-id": "r9"})])
    [outcome] = client.write_at_most_once([_write()])
    assert outcome.result == "failed" and outcome.status == 403
    assert str(outcome.error).startswith("HTTP 403 ErrorAccessDenied: Access is denied. (request-id r9, client-request-id ")


def test_client_works_without_session_argument():
    client = GraphClient("https://graph.test/", "beta", lambda: "t", verify="/nonexistent/ca.pem", timeout=3, retries=0,
                         max_wait=0, user_agent=USER_AGENT)
    assert client.base_url == "https://graph.test/beta"
    # Its own requests session, with the client's TLS choice and deadline.
    assert isinstance(client.session, GraphSession)
    assert (client.session.pinned_verify, client.session.deadline) == ("/nonexistent/ca.pem", 3)


# ---------------------------------------------------------------------------- answers that are not Graph's

MISSING = (404, {"error": {"code": "ErrorItemNotFound", "message": "x"}})
PRESENT = (200, {"id": "A1"})


@pytest.mark.parametrize("answer", [
    (202, None, {"request-id": None}),                               # no request-id: not Graph's, or cut in its headers
    (202, "<html><body>Accepted by the proxy</body></html>"),        # an HTML page
    (200, '{"id": "A1", "sta'),                                      # a JSON document cut short
])
def test_a_write_answered_badly_is_read_back_never_done(make_client, answer):
    client, adapter = make_client([answer, PRESENT, (204, None)])
    [outcome] = client.write_at_most_once([_write()])
    # Read back: still there, so the cancel is sent once more and its well-formed 204 counts.
    assert [r.method for r in adapter.requests] == ["POST", "GET", "POST"]
    assert outcome.result == "done" and outcome.probed is True and outcome.status == 204


def test_an_html_404_is_not_already_absent(make_client):
    client, adapter = make_client([(404, "<html>Not Found</html>", {"Content-Type": "text/html"}), MISSING])
    [outcome] = client.write_at_most_once([_write()])
    assert [r.method for r in adapter.requests] == ["POST", "GET"]
    assert outcome.result == "done" and outcome.probed is True  # the read decides, not the proxy's page


def test_a_read_answered_without_request_id_is_retried(make_client):
    client, adapter = make_client([(200, {"id": "x"}, {"request-id": None}), OK])
    assert client.get("/me") == {"id": "x"}
    assert len(adapter.requests) == 2


def _batch_of_two_cancels(responses):
    """A $batch handler answering the first batch with responses, then reads and cancels as Graph would."""
    state = {"batches": 0}

    def handler(rec):
        if rec.url.endswith("/$batch"):
            state["batches"] += 1
            if state["batches"] == 1:
                return 200, {"responses": responses}
            return 200, {"responses": [{"id": sub["id"], "status": 200 if sub["method"] == "GET" else 204,
                                        "body": {"id": "x"} if sub["method"] == "GET" else None}
                                       for sub in rec.body["requests"]]}
        return (200, {"id": "x"}) if rec.method == "GET" else (204, None)
    return handler


@pytest.mark.parametrize("responses, distrusted", [
    ([{"id": "0", "status": 204}, {"id": "0", "status": 429}, {"id": "1", "status": 204}], {"A0"}),  # item 0 answered twice
    ([{"id": "1", "status": 204}], {"A0"}),                                                        # item 0 not answered
    ([{"id": "0", "status": "204"}, {"id": "1", "status": 204}], {"A0"}),                          # item 0 without a valid status
    # An answer under an id never sent: the whole envelope is untrusted (issue 16), both are read back.
    ([{"id": "0", "status": 204}, {"id": "1", "status": 204}, {"id": "7", "status": 204}], {"A0", "A1"}),
])
def test_a_batch_item_without_one_well_formed_answer_is_read_back(make_client, responses, distrusted):
    client, adapter = make_client(_batch_of_two_cancels(responses))
    ops = [WriteOp(key=key, path="/me/events/%s/cancel" % key, body={"Comment": "x"}, mailbox="me", outlook=True,
                   probe_path="/me/events/%s" % key, probe_done=_gone) for key in ("A0", "A1")]
    outcomes = dict(zip(("A0", "A1"), client.write_at_most_once(ops)))
    sent = []
    for rec in adapter.requests:  # batch items, and direct requests once one item is left
        if rec.url.endswith("/$batch"):
            sent.extend((sub["method"], sub["url"]) for sub in rec.body["requests"])
        else:
            sent.append((rec.method, rec.url[len("https://graph.test/v1.0"):]))
    for key, outcome in outcomes.items():
        methods = [method for method, url in sent if url.startswith("/me/events/" + key)]
        assert outcome.result == "done"
        if key in distrusted:
            # Nobody knows whether it ran: read back (present), then sent again once.
            assert outcome.probed is True and methods == ["POST", "GET", "POST"], (key, methods)
        else:
            assert outcome.probed is False and methods == ["POST"], (key, methods)


def test_a_batch_envelope_that_does_not_parse_is_never_done(make_client):
    client, adapter = make_client([(200, '{"responses": [{"id": "0", "sta'), PRESENT, PRESENT, (204, None), (204, None)])
    ops = [WriteOp(key=key, path="/me/events/%s/cancel" % key, body={"Comment": "x"}, mailbox="me", outlook=True,
                   probe_path="/me/events/%s" % key, probe_done=_gone) for key in ("A0", "A1")]
    outcomes = client.write_at_most_once(ops)
    assert all(o.result == "done" and o.probed for o in outcomes)
    assert adapter.requests[0].url.endswith("/$batch")
