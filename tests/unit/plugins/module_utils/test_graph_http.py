# Copyright (c) graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_graph_http against real sockets: HttpsTransport, build_ssl_context, environment_proxy and Headers.

Every server here is a thread of the test process listening on 127.0.0.1: a TLS server with a
trustme certificate that speaks just enough HTTP/1.1 to be scripted request by request (answer and
keep the connection, close it, reset it, hang), a listener that never completes a TLS handshake,
and a CONNECT proxy that pipes bytes both ways. Nothing in socket, ssl or http.client is mocked.
"""

import base64
import gzip
import hashlib
import json
import os
import socket
import ssl
import struct
import threading
import time
import zlib
from http import HTTPStatus
from types import SimpleNamespace

import pytest
import trustme
from cryptography import x509

from ansible_collections.graphops.msgraph.plugins.module_utils._graph_http import (
    Headers, HttpsTransport, Response, TransportError, build_ssl_context, environment_proxy)

IO_TIMEOUT = 10          # no server thread waits longer than this on a silent peer
ENVIRONMENT = ("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY",
               "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")

# What a scripted server does after writing its answer (if any).
KEEP = "keep"      # read the next request on the same connection
CLOSE = "close"    # shut the socket down (a FIN, no Connection: close header needed)
RESET = "reset"    # close with SO_LINGER 0: a TCP reset
HANG = "hang"      # never answer; hold the connection until the test ends
IDLE_RESET = "idle-reset"   # keep the connection idle until the test sets server.release, then reset it


# ---------------------------------------------------------------------------- HTTP on the server side

def answer(status=200, body=b"", headers=None, chunked=False):
    """The bytes of one HTTP/1.1 answer; Content-Length is added unless given or chunked."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    headers = list(headers.items()) if isinstance(headers, dict) else list(headers or ())
    names = {name.lower() for name, _value in headers}
    if chunked:
        headers.append(("Transfer-Encoding", "chunked"))
        body = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:5], body[5:]) if part) + b"0\r\n\r\n"
    elif "content-length" not in names:
        headers.append(("Content-Length", str(len(body))))
    head = ["HTTP/1.1 %d %s" % (status, HTTPStatus(status).phrase)] + ["%s: %s" % pair for pair in headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


class Received:
    """One request as the server read it off the wire."""

    def __init__(self, method, target, version, headers, body):
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers      # [(name, value)] in wire order
        self.body = body
        self.connection = None      # 1 for the first connection the server accepted, 2 for the next...

    def values(self, name):
        return [value for key, value in self.headers if key.lower() == name.lower()]

    def header(self, name):
        values = self.values(name)
        assert len(values) <= 1, "%s sent %d times" % (name, len(values))
        return values[0] if values else None


def read_request(reader):
    line = reader.readline(65537)
    if not line:
        return None
    method, target, version = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    headers = []
    while True:
        line = reader.readline(65537)
        if line in (b"\r\n", b"\n", b""):
            break
        name, _sep, value = line.decode("latin-1").partition(":")
        headers.append((name.strip(), value.strip()))
    length = int(dict((k.lower(), v) for k, v in headers).get("content-length") or 0)
    return Received(method, target, version, headers, reader.read(length) if length else b"")


def echo(request):
    """The default answer: what the server received, as JSON, on a kept-alive connection."""
    body = json.dumps({"method": request.method, "target": request.target, "connection": request.connection})
    return answer(200, body, {"Content-Type": "application/json"}), KEEP


class Script:
    """Answers in order from a list of (bytes or None, action) or callables; then echo()."""

    def __init__(self, *steps):
        self.steps = list(steps)
        self.lock = threading.Lock()

    def __call__(self, request):
        with self.lock:
            step = self.steps.pop(0) if self.steps else echo
        return step(request) if callable(step) else step


def hard_shutdown(sock):
    """shutdown(2) on the file descriptor: wakes a thread blocked on it (SSLSocket.shutdown would drop its TLS state first)."""
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass


class Listener:
    """A TCP listener on 127.0.0.1 with an accept thread; handle(sock, number) runs in a daemon thread per connection."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)   # the accept loop looks at `stopping` this often
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.connections = 0
        self.stopping = threading.Event()
        self.sockets = []
        self.threads = []
        self.accepter = threading.Thread(target=self._accept, daemon=True)
        self.accepter.start()

    def track(self, sock):
        with self.lock:
            self.sockets.append(sock)
        return sock

    def spawn(self, target, *args):
        thread = threading.Thread(target=target, args=args, daemon=True)
        with self.lock:
            self.threads.append(thread)
        thread.start()
        return thread

    def _accept(self):
        while not self.stopping.is_set():
            try:
                sock, _address = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            sock.settimeout(IO_TIMEOUT)
            with self.lock:
                self.connections += 1
                number = self.connections
            self.spawn(self.handle, self.track(sock), number)

    def handle(self, sock, number):
        raise NotImplementedError

    def stop(self):
        self.stopping.set()
        self.accepter.join(IO_TIMEOUT)
        self.listener.close()
        with self.lock:
            sockets, threads = list(self.sockets), list(self.threads)
        for sock in sockets:
            hard_shutdown(sock)
        for thread in threads:
            thread.join(IO_TIMEOUT)
        for sock in sockets:
            sock.close()
        assert not any(thread.is_alive() for thread in threads), "a server thread did not stop"


class TlsServer(Listener):
    """HTTPS on 127.0.0.1: each request is recorded, then handler(request) -> (bytes or None, action)."""

    def __init__(self, context, handler=None):
        self.context = context
        self.handler = handler or echo
        self.requests = []
        self.closed = threading.Event()    # set once the server closed a connection (CLOSE or RESET)
        self.release = threading.Event()   # lets an IDLE_RESET go ahead
        super().__init__()
        self.url = "https://127.0.0.1:%d" % self.port

    def handle(self, sock, number):
        try:
            conn = self.track(self.context.wrap_socket(sock, server_side=True))
        except OSError:
            return      # the client gave up on the handshake (an untrusted certificate, say)
        reader = conn.makefile("rb")
        action = None
        try:
            while not self.stopping.is_set():
                request = read_request(reader)
                if request is None:
                    return
                request.connection = number
                with self.lock:
                    self.requests.append(request)
                data, action = self.handler(request)
                if data:
                    conn.sendall(data)
                if action == KEEP:
                    continue
                if action == HANG:
                    self.stopping.wait()
                    return
                if action == IDLE_RESET:
                    # Not at once: a reset discards whatever answer the client has not read yet.
                    self.release.wait(IO_TIMEOUT)
                    action = RESET
                if action == RESET:
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                else:
                    hard_shutdown(conn)
                return
        except (OSError, ValueError):
            return
        finally:
            reader.close()
            conn.close()
            if action in (CLOSE, RESET):
                self.closed.set()


class SilentServer(Listener):
    """Accepts TCP and never says a word: a TLS handshake with it can only time out."""

    def handle(self, sock, number):
        self.stopping.wait()


class PlainHttpServer(Listener):
    """Answers whatever arrives (a TLS ClientHello) in plain HTTP, then closes."""

    def handle(self, sock, number):
        try:
            sock.recv(4096)
            sock.sendall(answer(400, "plain http"))
            hard_shutdown(sock)
        except OSError:
            pass


def pipe(source, sink):
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            sink.sendall(data)
    except OSError:
        pass
    finally:
        try:
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass


class ConnectProxy(Listener):
    """An HTTP proxy that only knows CONNECT: records the request line and headers, then tunnels
    to the target (or, given refusal bytes, sends them and closes)."""

    def __init__(self, refusal=None):
        self.refusal = refusal
        self.seen = []      # (request line, {lower-case header: value})
        super().__init__()

    def handle(self, sock, number):
        reader = sock.makefile("rb", buffering=0)   # unbuffered: no tunnel byte may be left in a buffer
        try:
            line = reader.readline(65537).decode("latin-1").rstrip("\r\n")
            headers = {}
            while True:
                header = reader.readline(65537)
                if header in (b"\r\n", b"\n", b""):
                    break
                name, _sep, value = header.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            with self.lock:
                self.seen.append((line, headers))
            if self.refusal is not None:
                sock.sendall(self.refusal)
                hard_shutdown(sock)
                return
            host, port = line.split(" ")[1].rsplit(":", 1)
            upstream = self.track(socket.create_connection((host, int(port)), timeout=IO_TIMEOUT))
            sock.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            back = self.spawn(pipe, upstream, sock)
            pipe(sock, upstream)
            back.join(IO_TIMEOUT)
        except OSError:
            pass
        finally:
            reader.close()


# ---------------------------------------------------------------------------- fixtures

def server_context(ca, *names):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*(names or ("127.0.0.1", "localhost"))).configure_cert(context)
    return context


def subject_hash(pem):
    """OpenSSL's X509_NAME_hash (what `openssl x509 -hash` prints, and c_rehash names files by),
    computed without the openssl command: SHA-1 of the canonical subject (values as lower-case
    UTF8String, whitespace collapsed, no outer SEQUENCE), first four bytes little-endian."""
    subject = x509.load_pem_x509_certificate(pem).subject
    canonical = x509.Name([x509.RelativeDistinguishedName(
        [x509.NameAttribute(attr.oid, " ".join(attr.value.split()).lower()) for attr in rdn]) for rdn in subject.rdns])
    der = canonical.public_bytes()
    start = 2 + (der[1] & 0x7F if der[1] & 0x80 else 0)
    return "%08x" % int.from_bytes(hashlib.sha1(der[start:]).digest()[:4], "little")


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """Two unrelated CAs: `good` signed the usual server certificate, `other` signed an untrusted one."""
    folder = tmp_path_factory.mktemp("pki")
    ca, other = trustme.CA(), trustme.CA()
    good, bad = str(folder / "good.pem"), str(folder / "other.pem")
    ca.cert_pem.write_to_path(good)
    other.cert_pem.write_to_path(bad)
    hashed = {}
    for name, authority in (("good", ca), ("bad", other)):
        # A folder as c_rehash makes it: <subject hash>.0 holding the CA certificate.
        path = folder / ("hashed-" + name)
        path.mkdir()
        authority.cert_pem.write_to_path(str(path / (subject_hash(authority.cert_pem.bytes()) + ".0")))
        hashed[name] = str(path)
    return SimpleNamespace(good=good, bad=bad, hashed=hashed, folder=folder,
                           context=server_context(ca), untrusted_context=server_context(other),
                           wrong_name_context=server_context(ca, "graph.example.test"))


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """The machine's proxies and CA bundles must not leak into any test."""
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def rig(pki):
    """rig.server(handler), rig.silent(), rig.plain(), rig.proxy(refusal), rig.transport(**kwargs);
    transports are closed, then every listener stopped and its threads joined, at teardown."""
    listeners, transports = [], []

    def start(listener):
        listeners.append(listener)
        return listener

    def transport(verify=pki.good, timeout=5):
        made = HttpsTransport(verify=verify, timeout=timeout)
        transports.append(made)
        return made

    yield SimpleNamespace(
        server=lambda handler=None, context=None: start(TlsServer(context or pki.context, handler)),
        silent=lambda: start(SilentServer()),
        plain=lambda: start(PlainHttpServer()),
        proxy=lambda refusal=None: start(ConnectProxy(refusal)),
        transport=transport)
    for made in transports:
        made.close()
    for listener in reversed(listeners):
        listener.stop()


def failure(call):
    with pytest.raises(TransportError) as caught:
        call()
    return caught.value


def free_port():
    """A port nobody listens on: bound, then closed."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


# ---------------------------------------------------------------------------- 1. requests go out as sent

def test_get_reaches_the_server_exactly_as_sent(rig):
    server = rig.server()
    target = "/v1.0/users/u/events/%2E%2E?$select=id,subject"
    resp = rig.transport().request("GET", server.url + target, {"Authorization": "Bearer tok-1", "client-request-id": "crid-1"})
    assert isinstance(resp, Response) and resp.status == 200
    assert json.loads(resp.text) == {"method": "GET", "target": target, "connection": 1}
    [seen] = server.requests
    assert (seen.method, seen.target, seen.version) == ("GET", target, "HTTP/1.1")
    assert seen.header("Authorization") == "Bearer tok-1"
    assert seen.header("client-request-id") == "crid-1"
    assert seen.values("Accept-Encoding") == ["gzip, deflate"]
    assert seen.header("Host") == "127.0.0.1:%d" % server.port
    assert seen.header("Content-Length") is None and seen.body == b""


def test_post_sends_the_json_bytes_and_reads_status_text_and_headers(rig):
    body = json.dumps({"subject": "Réunion ☕", "id": "%2E%2E"}, ensure_ascii=False).encode("utf-8")
    created = '{"id": "AAMk=", "subject": "Réunion ☕"}'
    server = rig.server(Script((answer(201, created, [("Content-Type", "application/json; charset=utf-8"),
                                                      ("request-id", "rid-9"), ("Location", "/v1.0/x"),
                                                      ("X-Multi", "a"), ("x-multi", "b")]), KEEP)))
    resp = rig.transport().request("POST", server.url + "/v1.0/users/a%40b.test/events?$x=1,2",
                                   {"Authorization": "Bearer t", "Content-Type": "application/json", "client-request-id": "c"}, body)
    [seen] = server.requests
    assert (seen.method, seen.target) == ("POST", "/v1.0/users/a%40b.test/events?$x=1,2")
    assert seen.body == body
    assert seen.header("Content-Length") == str(len(body))
    assert seen.header("Content-Type") == "application/json"
    assert seen.header("Authorization") == "Bearer t" and seen.header("client-request-id") == "c"
    assert seen.values("accept-encoding") == ["gzip, deflate"]
    assert resp.status == 201 and resp.text == created
    assert isinstance(resp.headers, Headers)
    assert resp.headers.get("REQUEST-ID") == resp.headers.get("request-id") == resp.headers["Request-Id"] == "rid-9"
    assert "location" in resp.headers and "LOCATION" in resp.headers and "etag" not in resp.headers
    assert resp.headers.get("ETag", "none") == "none"
    assert resp.headers["x-multi"] == "a, b"    # a repeated header is one comma-separated value


def test_delete_with_an_empty_204(rig):
    server = rig.server(Script((answer(204, headers={}), KEEP)))
    resp = rig.transport().request("DELETE", server.url + "/v1.0/x", {})
    assert (resp.status, resp.text) == (204, "")
    assert server.requests[0].method == "DELETE"


def test_headers_are_case_insensitive():
    headers = Headers([("Content-Type", "a/b"), ("Retry-After", "3"), ("retry-after", "4")])
    assert dict(headers) == {"content-type": "a/b", "retry-after": "3, 4"}
    assert headers["CONTENT-type"] == headers.get("content-TYPE") == "a/b"
    assert "Retry-After" in headers and "retry-after" in headers and "Location" not in headers
    assert headers.get("Location") is None and headers.get("Location", "-") == "-"
    with pytest.raises(KeyError):
        headers["Location"]  # pylint: disable=pointless-statement
    assert Headers({"ETag": "W/1"}).get("etag") == "W/1"
    assert Headers(Headers({"ETag": "W/1"}))["ETAG"] == "W/1"


# ---------------------------------------------------------------------------- 2, 3. keep-alive

def test_sequential_requests_share_one_connection(rig):
    server = rig.server(Script((answer(200, "in two chunks", chunked=True), KEEP)))     # then echo()
    transport = rig.transport()
    first = transport.request("GET", server.url + "/one", {})
    second = transport.request("GET", server.url + "/two", {})
    assert first.text == "in two chunks" and json.loads(second.text)["target"] == "/two"
    assert server.connections == 1
    assert [r.connection for r in server.requests] == [1, 1]


def test_a_connection_the_server_closed_while_idle_is_replaced_not_failed(rig):
    # No Connection: close header: the client pools the connection, then the server drops it.
    server = rig.server(Script((answer(200, "first"), CLOSE)))
    transport = rig.transport()
    assert transport.request("GET", server.url + "/one", {}).text == "first"
    assert server.closed.wait(5)
    second = transport.request("POST", server.url + "/two", {}, b"{}")
    assert second.status == 200 and json.loads(second.text) == {"method": "POST", "target": "/two", "connection": 2}
    assert server.connections == 2
    assert [(r.target, r.connection) for r in server.requests] == [("/one", 1), ("/two", 2)]


def test_a_connection_reset_while_idle_is_replaced_too(rig):
    server = rig.server(Script((answer(200, "first"), IDLE_RESET)))
    transport = rig.transport()
    assert transport.request("GET", server.url + "/one", {}).text == "first"
    server.release.set()
    assert server.closed.wait(5)
    assert json.loads(transport.request("GET", server.url + "/two", {}).text)["connection"] == 2


def test_connection_close_answer_is_not_pooled(rig):
    # The server keeps reading on that connection: only the client's choice makes the second request go elsewhere.
    server = rig.server(Script((answer(200, "bye", {"Connection": "close"}), KEEP)))
    transport = rig.transport()
    assert transport.request("GET", server.url + "/one", {}).text == "bye"
    assert json.loads(transport.request("GET", server.url + "/two", {}).text)["connection"] == 2
    assert server.connections == 2


def test_close_drops_the_idle_connections(rig):
    server = rig.server()
    transport = rig.transport()
    transport.request("GET", server.url + "/one", {})
    transport.close()
    assert json.loads(transport.request("GET", server.url + "/two", {}).text)["connection"] == 2


# ---------------------------------------------------------------------------- 4. bodies

def _raw_deflate(data):
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


@pytest.mark.parametrize("encoding, pack", [
    ("gzip", gzip.compress),
    ("GZip", gzip.compress),
    ("deflate", zlib.compress),           # zlib-wrapped, as RFC 9110 means it
    ("deflate", _raw_deflate),            # raw deflate, as some servers send it
])
def test_compressed_answers_are_decoded(rig, encoding, pack):
    text = json.dumps({"value": ["é" * 50] * 20}, ensure_ascii=False)
    server = rig.server(Script((answer(200, pack(text.encode("utf-8")), {"Content-Encoding": encoding,
                                                                         "Content-Type": "application/json"}), KEEP)))
    transport = rig.transport()
    resp = transport.request("GET", server.url + "/z", {})
    assert resp.text == text
    # The connection stays usable after a compressed answer.
    assert json.loads(transport.request("GET", server.url + "/again", {}).text)["connection"] == 1


@pytest.mark.parametrize("content_type, payload, expected", [
    ("text/plain; charset=iso-8859-1", "café naïve".encode("iso-8859-1"), "café naïve"),
    ('text/plain; charset="ISO-8859-1"', "déjà".encode("iso-8859-1"), "déjà"),
    ("application/json", "{\"s\": \"ü\"}".encode("utf-8"), "{\"s\": \"ü\"}"),          # no charset: UTF-8
    ("text/plain; charset=x-no-such-codec", "ß".encode("utf-8"), "ß"),                  # unknown: UTF-8
    ("text/plain; charset=utf-8", b"ok \xff", "ok \ufffd"),                              # undecodable: replaced
])
def test_the_charset_of_the_answer_is_honoured(rig, content_type, payload, expected):
    server = rig.server(Script((answer(200, payload, {"Content-Type": content_type}), KEEP)))
    assert rig.transport().request("GET", server.url + "/t", {}).text == expected


def test_gzip_and_a_charset_together(rig):
    server = rig.server(Script((answer(200, gzip.compress("Größe".encode("iso-8859-1")),
                                       {"Content-Type": "text/plain; charset=iso-8859-1", "Content-Encoding": "gzip"}), KEEP)))
    assert rig.transport().request("GET", server.url + "/t", {}).text == "Größe"


def test_a_corrupt_gzip_body_is_a_connection_error_after_sending(rig):
    server = rig.server(Script((answer(200, b"\x1f\x8b\x08\x00 not gzip at all", {"Content-Encoding": "gzip"}), KEEP)))
    transport = rig.transport()
    err = failure(lambda: transport.request("POST", server.url + "/z", {}, b"{}"))
    assert (err.kind, err.sent) == ("connection_error", True)
    assert "could not be decompressed" in err.message and str(err) == err.message
    # That connection is not reused.
    assert json.loads(transport.request("GET", server.url + "/again", {}).text)["connection"] == 2


def test_an_empty_gzip_answer_is_an_empty_text(rig):
    # A 204 (or any empty answer) may carry Content-Encoding: gzip, as some compressing front ends
    # send: nothing to decompress, and a DELETE that worked must not look like a lost request.
    server = rig.server(Script((answer(204, b"", {"Content-Encoding": "gzip"}), KEEP),
                               (answer(200, b"", {"Content-Encoding": "deflate"}), KEEP)))
    transport = rig.transport()
    deleted = transport.request("DELETE", server.url + "/v1.0/x", {})
    assert (deleted.status, deleted.text) == (204, "")
    assert transport.request("GET", server.url + "/v1.0/y", {}).text == ""


# ---------------------------------------------------------------------------- 5. failures: kind and sent

def test_connection_refused_was_not_sent(rig):
    err = failure(lambda: rig.transport().request("POST", "https://127.0.0.1:%d/v1.0/x" % free_port(), {}, b"{}"))
    assert (err.kind, err.sent) == ("connection_error", False)
    assert "127.0.0.1" in err.message


def test_unresolvable_host_was_not_sent(rig):
    err = failure(lambda: rig.transport().request("GET", "https://nonexistent.invalid/v1.0/me", {}))
    assert (err.kind, err.sent) == ("connection_error", False)
    assert "nonexistent.invalid" in err.message


def test_untrusted_certificate_is_a_tls_error_before_sending(rig, pki):
    server = rig.server(context=pki.untrusted_context)
    err = failure(lambda: rig.transport(verify=pki.good).request("POST", server.url + "/x", {}, b"{}"))
    assert (err.kind, err.sent) == ("tls_error", False)
    assert "TLS verification failed" in err.message and "127.0.0.1:%d" % server.port in err.message
    assert server.requests == []


def test_a_certificate_for_another_name_is_refused(rig, pki):
    server = rig.server(context=pki.wrong_name_context)
    err = failure(lambda: rig.transport(verify=pki.good).request("GET", server.url + "/x", {}))
    assert (err.kind, err.sent) == ("tls_error", False)
    assert "TLS verification failed" in err.message
    assert server.requests == []


def test_a_handshake_that_never_completes_is_a_connect_timeout(rig):
    silent = rig.silent()
    started = time.monotonic()
    err = failure(lambda: rig.transport(timeout=1).request("POST", "https://127.0.0.1:%d/x" % silent.port, {}, b"{}"))
    # A handshake that times out raises TimeoutError (socket.timeout) in ssl, not an SSLError: the
    # transport calls it connect_timeout, not tls_error. Either way nothing was sent.
    assert (err.kind, err.sent) == ("connect_timeout", False)
    assert 0.9 <= time.monotonic() - started < 3
    assert silent.connections == 1


def test_a_plain_http_server_on_an_https_url_is_a_tls_error(rig):
    plain = rig.plain()
    err = failure(lambda: rig.transport().request("POST", "https://127.0.0.1:%d/x" % plain.port, {}, b"{}"))
    assert (err.kind, err.sent) == ("tls_error", False)
    assert "TLS handshake with 127.0.0.1:%d failed" % plain.port in err.message


def test_no_answer_within_the_timeout_may_have_been_sent(rig):
    server = rig.server(Script((None, HANG)))
    transport = rig.transport(timeout=1)
    started = time.monotonic()
    err = failure(lambda: transport.request("POST", server.url + "/v1.0/x", {}, b'{"a": 1}'))
    assert (err.kind, err.sent) == ("timeout", True)
    assert 0.9 <= time.monotonic() - started < 3
    assert [r.body for r in server.requests] == [b'{"a": 1}']
    # The timed-out connection is dropped: the next request gets a fresh one.
    assert json.loads(transport.request("GET", server.url + "/y", {}).text)["connection"] == 2


@pytest.mark.parametrize("action", [RESET, CLOSE])
def test_a_connection_dropped_after_the_request_may_have_been_sent(rig, action):
    server = rig.server(Script((None, action)))
    transport = rig.transport()
    err = failure(lambda: transport.request("POST", server.url + "/v1.0/x", {}, b"{}"))
    assert (err.kind, err.sent) == ("connection_error", True)
    # Through TLS a reset reads as an end of stream too (RemoteDisconnected), which is as good.
    assert "connection to 127.0.0.1:%d failed: RemoteDisconnected" % server.port in err.message
    assert len(server.requests) == 1
    assert json.loads(transport.request("GET", server.url + "/y", {}).text)["connection"] == 2


def test_an_answer_cut_short_may_have_been_sent(rig):
    server = rig.server(Script((answer(200, b'{"id": "trunc', {"Content-Length": "100"}), CLOSE)))
    transport = rig.transport()
    err = failure(lambda: transport.request("POST", server.url + "/v1.0/x", {}, b"{}"))
    assert (err.kind, err.sent) == ("connection_error", True)
    assert "IncompleteRead" in err.message
    assert json.loads(transport.request("GET", server.url + "/y", {}).text)["connection"] == 2


@pytest.mark.parametrize("url", ["http://127.0.0.1:{port}/v1.0/me", "ftp://127.0.0.1:{port}/x", "https:///v1.0/me"])
def test_only_https_urls_are_sent(rig, url):
    listener = socket.create_server(("127.0.0.1", 0))
    try:
        listener.setblocking(False)
        err = failure(lambda: rig.transport().request("GET", url.format(port=listener.getsockname()[1]), {}))
        assert (err.kind, err.sent) == ("request_error", False)
        with pytest.raises(BlockingIOError):
            listener.accept()   # nothing connected
    finally:
        listener.close()


@pytest.mark.parametrize("target", ["/v1.0/users/a b", "/v1.0/users/\u00e9t\u00e9"])
def test_a_url_http_client_refuses_was_not_sent(rig, target):
    # http.client checks the target only once connected (InvalidURL for a space, UnicodeEncodeError
    # for non-ASCII): the transport refuses it before, as request_error, not sent.
    server = rig.server()
    err = failure(lambda: rig.transport().request("POST", server.url + target, {}, b"{}"))
    assert (err.kind, err.sent) == ("request_error", False)
    assert server.requests == [] and server.connections == 0


# ---------------------------------------------------------------------------- 6. which CAs are trusted

def test_an_explicit_ca_file_wins_over_the_environment(rig, pki, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", pki.bad)
    monkeypatch.setenv("CURL_CA_BUNDLE", pki.bad)
    server = rig.server()
    assert rig.transport(verify=pki.good).request("GET", server.url + "/x", {}).status == 200


@pytest.mark.parametrize("verify", [True, None])
def test_default_verification_uses_requests_ca_bundle(rig, pki, monkeypatch, verify):
    server = rig.server()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", pki.good)
    monkeypatch.setenv("CURL_CA_BUNDLE", pki.bad)     # REQUESTS_CA_BUNDLE first, as requests does
    assert rig.transport(verify=verify).request("GET", server.url + "/x", {}).status == 200


def test_default_verification_with_an_untrusting_bundle_fails(rig, pki, monkeypatch):
    server = rig.server()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", pki.bad)
    monkeypatch.setenv("CURL_CA_BUNDLE", pki.good)
    err = failure(lambda: rig.transport(verify=True).request("GET", server.url + "/x", {}))
    assert (err.kind, err.sent) == ("tls_error", False)
    assert "TLS verification failed" in err.message


def test_default_verification_uses_curl_ca_bundle_alone(rig, pki, monkeypatch):
    server = rig.server()
    monkeypatch.setenv("CURL_CA_BUNDLE", pki.good)
    assert rig.transport(verify=True).request("GET", server.url + "/x", {}).status == 200


def test_default_verification_without_a_bundle_does_not_trust_a_private_ca(rig):
    server = rig.server()
    err = failure(lambda: rig.transport(verify=True).request("GET", server.url + "/x", {}))
    assert (err.kind, err.sent) == ("tls_error", False)


def test_verify_false_accepts_an_untrusted_certificate(rig, pki):
    server = rig.server(context=pki.untrusted_context)
    assert rig.transport(verify=False).request("GET", server.url + "/x", {}).status == 200
    context = build_ssl_context(False)
    assert context.verify_mode == ssl.CERT_NONE and context.check_hostname is False


def test_a_missing_ca_file_is_a_tls_error_naming_it(rig, pki, monkeypatch):
    missing = str(pki.folder / "no-such-ca.pem")
    err = failure(lambda: build_ssl_context(missing))
    assert (err.kind, err.sent) == ("tls_error", False) and missing in err.message
    server = rig.server()
    err = failure(lambda: rig.transport(verify=missing).request("GET", server.url + "/x", {}))
    assert (err.kind, err.sent) == ("tls_error", False) and missing in err.message
    assert server.connections == 0
    # The same through REQUESTS_CA_BUNDLE.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", missing)
    err = failure(lambda: build_ssl_context(True))
    assert err.kind == "tls_error" and missing in err.message


def test_a_file_that_holds_no_certificate_is_a_tls_error(pki):
    junk = pki.folder / "junk.pem"
    junk.write_text("not a certificate\n")
    err = failure(lambda: build_ssl_context(str(junk)))
    assert (err.kind, err.sent) == ("tls_error", False) and str(junk) in err.message


def test_a_hashed_ca_folder_is_used(rig, pki, monkeypatch):
    server = rig.server()
    assert os.listdir(pki.hashed["good"])[0].endswith(".0")
    assert rig.transport(verify=pki.hashed["good"]).request("GET", server.url + "/x", {}).status == 200
    err = failure(lambda: rig.transport(verify=pki.hashed["bad"]).request("GET", server.url + "/x", {}))
    assert (err.kind, err.sent) == ("tls_error", False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", pki.hashed["good"])
    assert rig.transport(verify=True).request("GET", server.url + "/x", {}).status == 200


# ---------------------------------------------------------------------------- 7. proxies

def test_environment_proxy_reads_the_environment(monkeypatch):
    assert environment_proxy("graph.microsoft.com") is None
    monkeypatch.setenv("ALL_PROXY", "http://all:1")
    assert environment_proxy("graph.microsoft.com") == "http://all:1"
    monkeypatch.setenv("HTTPS_PROXY", "http://upper:2")
    assert environment_proxy("graph.microsoft.com") == "http://upper:2"
    monkeypatch.setenv("https_proxy", "http://lower:3")
    assert environment_proxy("graph.microsoft.com") == "http://lower:3"   # lower case first, as urllib does
    monkeypatch.setenv("NO_PROXY", "login.example.test,.microsoft.com")
    assert environment_proxy("graph.microsoft.com") is None
    assert environment_proxy("graph.example.test") == "http://lower:3"
    monkeypatch.setenv("no_proxy", "*")
    assert environment_proxy("graph.example.test") is None


@pytest.mark.parametrize("variable", ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"])
def test_requests_go_through_a_connect_proxy(rig, monkeypatch, variable):
    server, proxy = rig.server(), rig.proxy()
    monkeypatch.setenv(variable, "http://user:p%40ss@127.0.0.1:{0}".format(proxy.port))
    transport = rig.transport()
    first = transport.request("GET", server.url + "/v1.0/me?$select=id", {"Authorization": "Bearer t"})
    second = transport.request("POST", server.url + "/v1.0/x", {}, b"{}")
    assert json.loads(first.text) == {"method": "GET", "target": "/v1.0/me?$select=id", "connection": 1}
    assert json.loads(second.text)["connection"] == 1      # the tunnel is kept alive too
    [(line, headers)] = proxy.seen
    assert line.startswith("CONNECT 127.0.0.1:%d HTTP/1." % server.port)
    scheme, _sep, encoded = headers["proxy-authorization"].partition(" ")
    assert scheme == "Basic" and base64.b64decode(encoded).decode("utf-8") == "user:p@ss"
    assert server.requests[0].header("Authorization") == "Bearer t"
    assert server.requests[0].header("Proxy-Authorization") is None    # only the proxy sees it


def test_a_proxy_without_credentials_gets_no_proxy_authorization(rig, monkeypatch):
    server, proxy = rig.server(), rig.proxy()
    monkeypatch.setenv("https_proxy", "127.0.0.1:{0}".format(proxy.port))   # no scheme: http:// assumed
    assert rig.transport().request("GET", server.url + "/x", {}).status == 200
    [(line, headers)] = proxy.seen
    assert line.startswith("CONNECT 127.0.0.1:%d " % server.port)
    assert "proxy-authorization" not in headers


@pytest.mark.parametrize("variable", ["NO_PROXY", "no_proxy"])
def test_no_proxy_bypasses_the_proxy(rig, monkeypatch, variable):
    server, proxy = rig.server(), rig.proxy()
    monkeypatch.setenv("HTTPS_PROXY", "http://user:pw@127.0.0.1:{0}".format(proxy.port))
    monkeypatch.setenv(variable, "127.0.0.1")
    resp = rig.transport().request("GET", server.url + "/x", {})
    assert resp.status == 200 and json.loads(resp.text)["target"] == "/x"
    assert proxy.seen == [] and proxy.connections == 0


def test_a_proxy_that_refuses_the_tunnel_is_a_connection_error_before_sending(rig, monkeypatch):
    server = rig.server()
    proxy = rig.proxy(b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"p\"\r\n"
                      b"Content-Length: 0\r\n\r\n")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:{0}".format(proxy.port))
    err = failure(lambda: rig.transport().request("POST", server.url + "/x", {}, b"{}"))
    assert (err.kind, err.sent) == ("connection_error", False)
    assert "407" in err.message and "through proxy 127.0.0.1:%d" % proxy.port in err.message
    assert len(proxy.seen) == 1 and server.connections == 0


def test_an_https_proxy_url_is_a_proxy_error(rig, monkeypatch):
    server, proxy = rig.server(), rig.proxy()
    monkeypatch.setenv("HTTPS_PROXY", "https://127.0.0.1:{0}".format(proxy.port))
    err = failure(lambda: rig.transport().request("GET", server.url + "/x", {}))
    assert (err.kind, err.sent) == ("proxy_error", False)
    assert "https://127.0.0.1" in err.message
    assert proxy.connections == 0 and server.connections == 0


# ---------------------------------------------------------------------------- 8. threads

def test_one_transport_shared_by_eight_threads(rig):
    server = rig.server()
    transport = rig.transport()
    barrier = threading.Barrier(8)
    results, errors = {}, []

    def work(number):
        try:
            barrier.wait(5)
            for step in range(5):
                target = "/v1.0/t%d/r%d" % (number, step)
                resp = transport.request("POST", server.url + target, {"client-request-id": target}, target.encode())
                results[target] = (resp.status, json.loads(resp.text)["target"])
        except Exception as exc:  # pylint: disable=broad-except
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,), daemon=True) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert len(results) == 40 and all(status == 200 and target == key for key, (status, target) in results.items())
    assert len(server.requests) == 40
    assert all(r.body.decode() == r.target == r.header("client-request-id") for r in server.requests)
    assert 1 <= server.connections <= 8
