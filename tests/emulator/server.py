# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The transport: one multithreaded HTTPS/1.1 listener for Graph, identity, managed identity and
the control API. It parses requests, validates tokens, records Graph requests, applies the round
trip delay and transport faults, and hands Graph requests to the Graph layer."""

import json
import socket
import ssl
import struct
import sys
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote

from emulator import api, control

VERSIONS = ("v1.0", "beta")
IDENTITY_FIRST = ("msi", "common")
WWW_AUTHENTICATE = ('Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", '
                    'client_id="00000003-0000-0000-c000-000000000000"')


def split_path(raw_path):
    """Split on "/" first and decode each segment once, so an encoded "/" stays inside its segment."""
    path, _sep, query = raw_path.partition("?")
    segments = [unquote(s) for s in path.split("/") if s != ""]
    return path, segments, dict(parse_qsl(query, keep_blank_values=True))


class TLSServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, app, context):
        self.app = app
        self.context = context
        super().__init__(address, Handler)

    def finish_request(self, request, client_address):
        # The TLS handshake runs in the connection's own thread, so a slow client never stalls accept().
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            # No TLS close_notify dance: waiting for the peer's would tie up the thread.
            tls.close()

    def shutdown_request(self, request):
        try:
            request.close()
        except OSError:
            pass

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if not isinstance(exc, (ConnectionError, ssl.SSLError, socket.timeout)):
            traceback.print_exc(file=sys.stderr)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: clients reuse connections and so must the emulator
    # Headers and body leave in separate writes; with Nagle on, the client's delayed ACK would add
    # ~40 ms to every answer, a latency Graph does not have and the latency model does not ask for.
    disable_nagle_algorithm = True
    server_version = "Microsoft-IIS/10.0"
    sys_version = ""
    timeout = 300

    def version_string(self):
        return self.server_version

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        """Quiet: tests read the records, not an access log."""

    def do_GET(self):
        self._dispatch()

    do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = do_GET

    # --- plumbing -----------------------------------------------------------------------------
    def _read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, response, extra_headers=None):
        body = response.json_bytes()
        self.send_response(response.status)
        headers = dict(response.headers or {})
        headers.update(extra_headers or {})
        if body and not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = "application/json"
        for name, value in headers.items():
            if name.lower() not in ("content-length", "connection", "date", "server"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def _reset(self):
        """Close the connection abruptly: RST, no response, as a dropped connection looks to a client."""
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close_connection = True

    # --- dispatch ------------------------------------------------------------------------------
    def _dispatch(self):
        app = self.server.app
        raw = self._read_body()
        path, segments, query = split_path(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        if segments[:1] == ["_emulator"]:
            status, body = control.handle(app, self.command, segments[1:], query, raw)
            self._send(api.Response(status=status, body=body, headers={"Content-Type": "application/json"}))
            return
        app.recorder.http(self.command, path)
        if app.runtime.rtt_ms:
            time.sleep(app.runtime.rtt_ms / 1000.0)
        if segments[:1] and segments[0] in VERSIONS:
            self._graph(app, path, segments, query, headers, raw)
            return
        form = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)) if raw else {}
        client_request_id = headers.get("client-request-id") or str(uuid.uuid4())
        headers["client-request-id"] = client_request_id  # Entra's correlation_id is this id
        response = app.identity.handle(self.command, segments, query, headers, form)
        if response is None:
            first = segments[0] if segments else ""
            req = api.Request(method=self.command, version="", path=path, segments=segments, query=query, headers={},
                              client_request_id=client_request_id)
            response = api.graph_error(400, "BadRequest", "Invalid version: %s" % first, req)
            self._send(response, {"request-id": req.request_id, "client-request-id": client_request_id})
            return
        # Entra ID answers its own request id and echoes (or makes up) the client's.
        self._send(response, {"x-ms-request-id": str(uuid.uuid4()), "client-request-id": client_request_id})

    def _graph(self, app, path, segments, query, headers, raw):
        version = segments[0]
        # Graph answers request-id and client-request-id on every response, header and innerError;
        # when the client sent no client-request-id, Graph makes one up (RULES.md, "Request ids").
        req = api.Request(method=self.command, version=version, path=path[len(version) + 1:] or "/", segments=segments[1:],
                          query=query, headers={k: v for k, v in headers.items() if k != "authorization"},
                          client_request_id=headers.get("client-request-id") or str(uuid.uuid4()))
        req.seq = app.recorder.request(req)
        response = self._graph_response(app, req, headers, raw)
        fate = app.runtime.take_fate(req.seq) or response.transport_fault
        app.recorder.update(req.seq, status=fate if fate == "reset" else response.status)
        if fate == "reset":
            self._reset()
            return
        if fate and fate.startswith("slow:"):
            time.sleep(float(fate.split(":", 1)[1]))
        extra = {"request-id": req.request_id, "client-request-id": req.client_request_id,
                 "x-ms-ags-diagnostic": '{"ServerInfo":{"DataCenter":"Emulator"}}'}
        try:
            self._send(response, extra)
        except (ConnectionError, ssl.SSLError, socket.timeout):
            self.close_connection = True

    def _graph_response(self, app, req, headers, raw):
        scheme, _sep, token = headers.get("authorization", "").partition(" ")
        try:
            req.principal = app.tokens.validate(token.strip() if scheme.lower() == "bearer" else "", app.graph_endpoint,
                                                app.tenant_id)
        except app.token_error as err:
            return api.graph_error(401, "InvalidAuthenticationToken", str(err), req, {"WWW-Authenticate": WWW_AUTHENTICATE})
        if raw:
            try:
                req.body = json.loads(raw.decode("utf-8"))
            except ValueError:
                return api.graph_error(400, "BadRequest", "Unable to read JSON request payload. Please ensure Content-Type "
                                       "header is set and payload is of valid JSON format.", req)
            app.recorder.update(req.seq, body=req.body)
        graph = app.graph
        try:
            if req.segments == ["$batch"]:
                # The envelope itself can be faulted too; it holds no mailbox slot and costs no service time.
                return app.runtime.run_operation(req, None, graph.handle, charge_service=False)
            return graph.handle(req)
        except Exception:  # pylint: disable=broad-exception-caught
            # A bug in the Graph layer must show up as Graph's opaque 500, and in the log, not as a hung client.
            traceback.print_exc(file=sys.stderr)
            return api.graph_error(500, "UnknownError", "", req)
