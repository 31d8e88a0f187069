# Copyright (c) graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""read_then_write: one item read and written in one $batch (the write dependsOn the read), and
every way that batch can go wrong, with the write never sent twice in effect."""

import pytest

from ansible_collections.graphops.msgraph.plugins.module_utils._graph_client import ReadOp, WriteOp
from .conftest import transport_error  # pylint: disable=relative-beyond-top-level

ITEM = "/solutions/bookingBusinesses/b%40x/appointments/A1"
CANCEL = ITEM + "/cancel"
MISSING = (404, {"error": {"code": "ErrorItemNotFound", "message": "gone"}})
THROTTLED = (429, {"error": {"code": "ApplicationThrottled", "message": "slow down"}}, {"Retry-After": "3"})
LOST = transport_error("timeout", "no answer within 5 s: timed out", True)
REFUSED = transport_error("connection_error", "connection to graph.test:443 failed: refused", False)


def _ops(probe=ITEM):
    read = ReadOp(key="A1", path=ITEM, params={"$select": "id,serviceName"}, mailbox="b@x")
    write = WriteOp(key="A1", path=CANCEL, body={"cancellationMessage": "closed"}, mailbox="b@x", outlook=False,
                    probe_path=probe, probe_done=(lambda status, _body: status == 404) if probe else None)
    return read, write


class Graph:
    """An appointment store behind BatchServer: GET reads it, POST .../cancel deletes it. Script
    per (method, call number) overrides; every call that reached the store is counted."""

    def __init__(self, present=True, script=None):
        self.present = present
        self.script = script or {}
        self.calls = []

    def __call__(self, sub):
        method = sub["method"]
        self.calls.append(method)
        scripted = self.script.get((method, self.calls.count(method)))
        if scripted is not None:
            if callable(scripted):
                return scripted()
            return scripted
        if method == "GET":
            return (200, {"id": "A1", "serviceName": "Consultation"}) if self.present else MISSING
        if not self.present:
            return MISSING
        self.present = False
        return 204, None

    def applied(self):
        """A cancel that ran on the store, then its answer lost on the way back."""
        self.present = False
        raise LOST


def _applied_then_lost(graph):
    def handler_for(server):
        def handler(rec):
            if rec.url.endswith("/$batch") and not server.batches:
                server(rec)          # Graph runs the whole batch...
                raise LOST           # ...and the answer never arrives
            return server(rec)
        return handler
    return handler_for


def test_one_batch_reads_then_cancels(make_client, batch_server):
    graph = Graph()
    server = batch_server(graph)
    client, transport = make_client(server)
    read, write = client.read_then_write(*_ops())
    assert read.status == 200 and read.body["serviceName"] == "Consultation"
    assert write.result == "done" and not write.probed
    assert len(transport.requests) == 1 and transport.requests[0].url == "https://graph.test/v1.0/$batch"
    items = transport.requests[0].body["requests"]
    assert [(r["method"], r["url"]) for r in items] == [("GET", ITEM + "?$select=id,serviceName"), ("POST", CANCEL)]
    assert "dependsOn" not in items[0] and items[1]["dependsOn"] == [items[0]["id"]]
    assert items[1]["body"] == {"cancellationMessage": "closed"}
    assert items[1]["headers"]["Content-Type"] == "application/json"
    assert graph.calls == ["GET", "POST"]


def test_absent_item_is_not_written(make_client, batch_server):
    graph = Graph(present=False)
    client, transport = make_client(batch_server(graph))
    read, write = client.read_then_write(*_ops())
    assert read.status == 404 and write is None
    assert len(transport.requests) == 1 and graph.calls == ["GET"]  # Graph answered the cancel 424 unrun
    assert "b@x" not in client._unchained  # pylint: disable=protected-access


def test_forbidden_read_is_reported_and_nothing_written(make_client, batch_server):
    graph = Graph(script={("GET", 1): (403, {"error": {"code": "ErrorAccessDenied", "message": "no"}})})
    client, transport = make_client(batch_server(graph))
    read, write = client.read_then_write(*_ops())
    assert read.status == 403 and read.error is not None and write is None
    assert graph.calls == ["GET"] and len(transport.requests) == 1


def test_throttled_read_is_retried_then_written(make_client, batch_server, sleeper):
    graph = Graph(script={("GET", 1): THROTTLED})
    server = batch_server(graph)
    client, transport = make_client(server)
    read, write = client.read_then_write(*_ops())
    assert read.status == 200 and write.result == "done"
    assert graph.calls == ["GET", "GET", "POST"]
    assert [r.method for r in transport.requests] == ["POST", "GET", "POST"]  # batch, the read, the cancel
    assert [r.url for r in server.direct] == ["https://graph.test/v1.0" + ITEM + "?$select=id,serviceName",
                                              "https://graph.test/v1.0" + CANCEL]
    assert sleeper.calls == [3.0]


def test_throttled_write_is_retried_not_probed(make_client, batch_server):
    graph = Graph(script={("POST", 1): THROTTLED})
    client, _transport = make_client(batch_server(graph))
    read, write = client.read_then_write(*_ops())
    assert read.status == 200 and write.result == "done" and not write.probed
    assert graph.calls == ["GET", "POST", "POST"]


def test_write_5xx_is_probed_and_not_resent_when_it_took_effect(make_client, batch_server):
    def applied_then_503():
        graph.present = False
        return 503, {"error": {"code": "ServiceUnavailable", "message": "busy"}}
    graph = Graph(script={("POST", 1): applied_then_503})
    client, _transport = make_client(batch_server(graph))
    read, write = client.read_then_write(*_ops())
    assert read.status == 200 and write.result == "done" and write.probed
    assert graph.calls == ["GET", "POST", "GET"]


def test_whole_batch_lost_after_it_ran_is_probed_never_resent(make_client, batch_server):
    graph = Graph()
    server = batch_server(graph)
    client, _transport = make_client(_applied_then_lost(graph)(server))
    read, write = client.read_then_write(*_ops())
    # The read after the lost batch finds nothing: the cancel took effect (or the item was gone).
    assert read.status == 404 and write.result == "done" and write.probed
    assert graph.calls == ["GET", "POST", "GET"]


def test_whole_batch_lost_before_it_ran_is_sent_once_more(make_client, batch_server):
    graph = Graph()
    server = batch_server(graph)
    lost = []

    def handler(rec):
        if rec.url.endswith("/$batch") and not lost:
            lost.append(rec)
            raise LOST       # the batch never reached Graph, but the client can not know that
        return server(rec)
    client, _transport = make_client(handler)
    read, write = client.read_then_write(*_ops())
    assert read.status == 200 and write.result == "done" and write.probed
    assert graph.calls == ["GET", "POST"]  # the read doubles as the probe: one cancel in all


def test_refused_batch_is_not_ambiguous(make_client, batch_server):
    graph = Graph()
    server = batch_server(graph)
    answers = [REFUSED]

    def handler(rec):
        if answers:
            raise answers.pop()
        return server(rec)
    client, transport = make_client(handler)
    read, write = client.read_then_write(*_ops())
    assert read.status == 200 and write.result == "done" and not write.probed
    assert graph.calls == ["GET", "POST"] and len(transport.requests) == 3


def test_whole_batch_lost_and_read_failing_gives_up_without_resending(make_client, batch_server):
    graph = Graph(script={("GET", 2): (403, {"error": {"code": "ErrorAccessDenied", "message": "no"}})})
    server = batch_server(graph)
    client, _transport = make_client(_applied_then_lost(graph)(server))
    read, write = client.read_then_write(*_ops())
    assert read.status == 403 and write.result == "failed"
    assert "not re-sent" in str(write.error)
    assert graph.calls == ["GET", "POST", "GET"]


def test_a_write_without_probe_is_refused_before_sending(make_client):
    client, transport = make_client([])
    with pytest.raises(ValueError):
        client.read_then_write(*_ops(probe=None))
    assert transport.requests == []


def test_a_write_that_ran_is_returned_whatever_the_read_says(make_client, batch_server):
    # The read answered 200 with a body cut short: Graph still ran the cancel behind it (a 2xx).
    graph = Graph(script={("GET", 1): (200, '{"id": "A1", "serv')})
    client, _transport = make_client(batch_server(graph))
    read, write = client.read_then_write(*_ops())
    assert write.result == "done" and not write.probed
    assert read.error is not None and read.error.code == "MalformedResponse"
    assert graph.calls == ["GET", "POST"]  # not read again: that would only find the cancel's effect
