# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How each Graph operation is run: status faults, per-mailbox concurrency, service time, records.

The Graph layer calls run_operation for every operation, top-level or $batch item, so the same
rules hold for both, and the transport layer learns from take_fate() what became of the HTTP
request as a whole (a reset or a held answer).
"""

import json
import threading
import time

from emulator import api

_STATUS_FAULTS = {
    "status_429": (429, "TooManyRequests", "Too many requests."),
    "status_503": (503, "ServiceUnavailable", "Service Unavailable"),
    "status_504": (504, "GatewayTimeout", "The request timed out."),
    "status_500_unknown": (500, "UnknownError", ""),
    "token_expired": (401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired."),
    # What $batch answers for an item whose dependsOn failed; injected here for clients that send no dependsOn.
    "status_424": (424, "FailedDependency", "The request depends on a request that failed."),
    # What Graph answers once the item is gone (deleted meanwhile by someone else); the item stays here.
    "status_404": (404, "ErrorItemNotFound", "The specified object was not found in the store."),
}


class Runtime:
    def __init__(self, recorder, faults, cloud="global", rtt_ms=0, service_ms=0, mailbox_concurrency=4):
        self.recorder = recorder
        self.faults = faults
        self.cloud = cloud
        self._defaults = {"rtt_ms": rtt_ms, "service_ms": service_ms, "mailbox_concurrency": mailbox_concurrency}
        self._lock = threading.Lock()
        self._in_use = {}
        self._fates = {}
        self.rtt_ms = rtt_ms
        self.service_ms = service_ms
        self.mailbox_concurrency = mailbox_concurrency

    # --- knobs -----------------------------------------------------------------------------
    def configure(self, rtt_ms=None, service_ms=None, mailbox_concurrency=None):
        with self._lock:
            if rtt_ms is not None:
                self.rtt_ms = max(0, float(rtt_ms))
            if service_ms is not None:
                self.service_ms = max(0, float(service_ms))
            if mailbox_concurrency is not None:
                self.mailbox_concurrency = max(1, int(mailbox_concurrency))

    def config(self):
        return {"rtt_ms": self.rtt_ms, "service_ms": self.service_ms, "mailbox_concurrency": self.mailbox_concurrency}

    def reset(self):
        self.configure(**self._defaults)
        with self._lock:
            self._fates.clear()

    # --- what the transport must do with the whole HTTP request ------------------------------
    def _set_fate(self, request, fate):
        key = request.batch_request_seq if request.in_batch else request.seq
        if key is not None:
            with self._lock:
                self._fates.setdefault(key, fate)

    def take_fate(self, seq):
        with self._lock:
            return self._fates.pop(seq, None)

    # --- mailbox slots ---------------------------------------------------------------------------
    def _acquire(self, mailbox):
        if mailbox is None:
            return True
        key = str(mailbox).lower()
        with self._lock:
            if self._in_use.get(key, 0) >= self.mailbox_concurrency:
                return False
            self._in_use[key] = self._in_use.get(key, 0) + 1
            return True

    def _release(self, mailbox):
        if mailbox is None:
            return
        key = str(mailbox).lower()
        with self._lock:
            self._in_use[key] -= 1
            if not self._in_use[key]:
                del self._in_use[key]

    # --- the operation ---------------------------------------------------------------------------
    def run_operation(self, request, mailbox, handler, charge_service=True):
        rule = self.faults.take(request.method, request.version, request.segments, request.in_batch)
        kind = rule["kind"] if rule else None
        if kind in _STATUS_FAULTS:
            status, code, message = _STATUS_FAULTS[kind]
            headers = {"Retry-After": str(rule["retry_after"])} if rule.get("retry_after") not in (None, "") else {}
            return self._done(request, mailbox, api.graph_error(status, code, message, request, headers))
        if kind == "reset":
            # Closed before the operation ran: nothing was applied.
            self._set_fate(request, "reset")
            return self._done(request, mailbox, api.Response(status=502, body=None, transport_fault="reset"))
        if not self._acquire(mailbox):
            return self._done(request, mailbox, api.graph_error(
                429, "ApplicationThrottled", "Application is over its MailboxConcurrency limit.", request, {"Retry-After": "1"}))
        try:
            started = time.monotonic()
            response = handler(request)
            if self.service_ms and charge_service:
                # The model's service time is the whole operation, the emulator's own work included:
                # an operation takes service_ms, not service_ms plus this process's CPU time.
                time.sleep(max(0.0, self.service_ms / 1000.0 - (time.monotonic() - started)))
        finally:
            self._release(mailbox)
        return self._done(request, mailbox, self._after(request, rule, response))

    def _after(self, request, rule, response):
        """Faults that strike once the operation has taken effect."""
        kind = rule["kind"] if rule else None
        if kind == "applied_then_504":
            return api.graph_error(504, "GatewayTimeout", "The request timed out.", request)
        if kind == "applied_then_reset":
            self._set_fate(request, "reset")
            response.transport_fault = "reset"
        elif kind in ("batch_repeat_429", "batch_missing", "batch_unknown_id"):
            response.batch_fault = kind
        elif kind == "slow":
            fate = "slow:%s" % rule["delay_s"]
            self._set_fate(request, fate)
            response.transport_fault = fate
        elif kind == "malformed_json":
            text = json.dumps(response.body) if response.body is not None and not isinstance(response.body, bytes) else '{"value": [{"id": "x"}]}'
            cut = text[:max(1, len(text) // 2)]
            headers = dict(response.headers)
            headers["Content-Type"] = "application/json"
            # Inside a batch the body is itself JSON, so the broken document travels as a string.
            return api.Response(status=200, body=cut if request.in_batch else cut.encode("utf-8"), headers=headers)
        return response

    def _done(self, request, mailbox, response):
        if request.in_batch:
            self.recorder.request(request, status=response.status if not response.transport_fault else response.transport_fault,
                                  mailbox=mailbox)
        elif request.seq is not None:
            self.recorder.update(request.seq, mailbox=mailbox)
        return response

    def notify(self, kind, item_id, container, recipient, role, message):
        self.recorder.notification(kind, item_id, container, recipient, role, message)
