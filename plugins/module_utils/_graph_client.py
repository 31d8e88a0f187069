# Copyright (c) graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The Graph client: retries, $batch, at-most-once writes, error mapping.

It does not import Ansible, so it runs (and is tested and benchmarked) on its own. It does not
authenticate either: a token provider (see _graph_auth.py) hands it tokens, and the bytes go
through the requests session MSAL uses too (_graph_session.py). How items travel in $batch
requests (slots, chains, packing, the wire format) is _graph_batch.py's business.

Choices forced by Graph (see tests/emulator/contract/NOTES.md, "Errors, throttling, batching"):

* every request carries a fresh client-request-id and asks for it back, because Microsoft support
  asks for it together with the request-id of the answer;
* 429, 503, 504 and lost connections are retried after Retry-After (seconds or an HTTP-date), else
  after a capped exponential backoff with full jitter, within `retries` and `max_wait`
  (https://learn.microsoft.com/en-us/graph/throttling);
* a write whose outcome is unknown (timeout or reset after sending, 5xx, or an answer that is not
  a well-formed Graph answer: a body that does not parse, an HTML page, an answer cut short, a
  $batch envelope that does not parse or answers an item twice) may have been applied, so it is
  never sent again before a read (probe) shows that it was not: a cancellation notifies customers
  or attendees, twice would be a bug users can see;
* a chain broken by a failed item (its dependants answer 424 and did not run) makes that mailbox
  fall back to unchained batches, and a 429 lowers that mailbox's concurrency.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid

from urllib.parse import urlencode, urlsplit

from ansible_collections.graphops.msgraph.plugins.module_utils._graph_errors import AuthenticationError, GraphError
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_batch import (
    OUTLOOK_PREFER,
    Group,
    Slots,
    batch_request,
    batch_responses,
    pack,
    plan_groups,
    slots_needed,
)
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_outcomes import (
    Answer,
    Failure,
    Item,
    ItemSettling,
    ReadOp,
    ReadOutcome,
    WriteOp,
    WriteOutcome,
    sort_write_outcomes,
    is_expired_token,
)
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_session import new_session, transport_failure

try:
    from requests.structures import CaseInsensitiveDict
except ImportError:  # the module reports the missing library before any client is built
    CaseInsensitiveDict = dict

DEFAULT_MAX_WORKERS = 8

# The operations and outcomes callers exchange with the client are part of its API.
__all__ = ["GraphClient", "ReadOp", "ReadOutcome", "WriteOp", "WriteOutcome", "new_request_id", "sort_write_outcomes"]


def new_request_id():
    """A fresh client-request-id (a random GUID), as Microsoft support asks for."""
    return str(uuid.uuid4())


def _decode(content):
    """(JSON body, malformed): an empty body is None; anything that is not a JSON document (an HTML
    error page, a document cut short, bytes that are not UTF-8) is kept as text and flagged."""
    if not content:
        return None, False
    text = content.decode("utf-8", "replace")
    try:
        return json.loads(text), False
    except ValueError:
        return text, True


class GraphClient(ItemSettling):
    """Talks to one Graph endpoint with one token provider."""

    def __init__(self, endpoint, api_version, token_provider, verify=True, timeout=30, retries=3, max_wait=120,
                 user_agent=None, mailbox_concurrency=4, session=None, sleep=None, clock=None, rand=None,
                 max_workers=DEFAULT_MAX_WORKERS):
        self.endpoint = endpoint.rstrip("/")
        self.api_version = api_version
        self.base_url = self.endpoint + "/" + api_version
        self.token_provider = token_provider
        self.verify = verify
        self.timeout = timeout
        self.retries = max(0, int(retries))
        self.max_wait = float(max_wait)
        self.user_agent = user_agent
        self.mailbox_concurrency = max(1, int(mailbox_concurrency))
        # The requests session shared with MSAL (_graph_session.new_session); tests mount a scripted adapter on it.
        self.session = session if session is not None else new_session(verify, timeout, user_agent)
        self._sleep = sleep or time.sleep
        self._clock = clock or time.monotonic
        self._rand = rand or random.random
        self.max_workers = max(1, int(max_workers))
        self._slots = Slots(self.mailbox_concurrency)
        self._unchained = set()    # mailboxes where a chain broke: they get unchained batches from then on
        self._wait_lock = threading.Lock()
        self.waited = 0.0          # seconds slept so far on Retry-After and backoff (never above max_wait)
        self.request_count = 0     # HTTP requests sent (a $batch counts once)
        # before_write(keys): called before each request carrying writes (the keys of its writes). If it
        # raises, that request and every later one holding a write is not sent: those writes end
        # "failed" with what it raised (a run whose controller is gone stops there, issue 16).
        self.before_write = None
        # Set once the writes are stopped (before_write raised) or the credential failed: what
        # was settled before stays settled, the rest fails with this error, unsent.
        self.stopped = None

    # ---------------------------------------------------------------- tokens

    def _token(self):
        provider = self.token_provider
        if hasattr(provider, "get_token"):
            return provider.get_token()
        return provider()

    def _invalidate(self, token):
        invalidate = getattr(self.token_provider, "invalidate", None)
        if invalidate is None:
            return False
        invalidate(token)
        return True

    # ---------------------------------------------------------------- one HTTP exchange

    def _headers(self, outlook, body):
        crid = new_request_id()
        headers = {
            "Accept": "application/json",
            "client-request-id": crid,
            "return-client-request-id": "true",
        }
        if self.user_agent:
            headers["User-Agent"] = self.user_agent
        if outlook:
            # Ids then stay valid when cancel moves an event to Deleted Items (NOTES, "Outlook ids").
            headers["Prefer"] = OUTLOOK_PREFER
        if body is not None:
            headers["Content-Type"] = "application/json"
        return headers

    def _send_once(self, method, url, body, outlook, token):
        headers = self._headers(outlook, body)
        headers["Authorization"] = "Bearer " + token
        crid = headers["client-request-id"]
        data = json.dumps(body).encode("utf-8") if body is not None else None
        self.request_count += 1
        try:
            resp = self.session.request(method, url, headers=headers, data=data, timeout=self.timeout)
        except Exception as exc:  # pylint: disable=broad-exception-caught  # sorted by transport_failure, else re-raised
            failure = transport_failure(exc)
            if failure is None:
                raise
            return Failure(failure.kind, failure.message, failure.sent, crid)
        body_out, malformed = _decode(resp.content)
        # Graph puts a request-id on every answer (https://learn.microsoft.com/en-us/graph/best-practices-concept#reliability-and-support).
        # Without one the answer is not Graph's, or was cut off inside its header block (http.client
        # then hands over whatever status line it got, with an empty body): it proves nothing.
        malformed = malformed or not resp.headers.get("request-id")
        return Answer(resp.status_code, resp.headers, body_out, resp.headers.get("client-request-id") or crid, malformed)

    def _exchange(self, method, url, body=None, outlook=False):
        """One request; on 401 InvalidAuthenticationToken drop the token and try once more (not applied)."""
        token = self._token()
        answer = self._send_once(method, url, body, outlook, token)
        if is_expired_token(answer) and self._invalidate(token):
            token = self._token()
            answer = self._send_once(method, url, body, outlook, token)
        answer.token = token  # so a $batch item refused with 401 drops exactly the token it was sent with
        return answer

    # ---------------------------------------------------------------- URLs

    def _url(self, path, params=None):
        if not isinstance(path, str) or not path.startswith("/"):
            raise ValueError("path must start with '/': {0!r}".format(path))
        rel = path
        if params:
            rel += "?" + urlencode(params, safe="$,:'")
        return self.base_url + rel, rel

    def _check_next_link(self, link):
        """Follow @odata.nextLink only on our own endpoint: the token must not leak to another host."""
        ours, theirs = urlsplit(self.endpoint), urlsplit(link)
        if (theirs.scheme, theirs.netloc.lower()) != (ours.scheme, ours.netloc.lower()):
            raise GraphError(None, code="UnexpectedNextLink",
                             message="Graph returned a nextLink to another host ({0}); not followed".format(theirs.netloc))
        prefix = urlsplit(self.base_url).path + "/"
        rel = theirs.path[len(prefix) - 1:] if theirs.path.startswith(prefix) else None
        if rel is None:
            raise GraphError(None, code="UnexpectedNextLink", message="nextLink outside {0}".format(self.base_url))
        return rel + ("?" + theirs.query if theirs.query else "")

    # ---------------------------------------------------------------- public API

    def get(self, path, params=None, outlook=False):
        """GET one resource; raises GraphError (GraphNotFound for 404)."""
        url, rel = self._url(path, params)
        outcome = self._run([Item(0, "read", ReadOp(None, path, params, None, outlook), "GET", url, rel, None)])[0]
        if outcome.error is not None:
            raise outcome.error
        return outcome.body

    def get_all(self, path, params=None, outlook=False):
        """GET a collection, following @odata.nextLink; returns the concatenated `value` lists."""
        url, rel = self._url(path, params)
        values = []
        while True:
            op = ReadOp(None, rel, None, None, outlook)
            outcome = self._run([Item(0, "read", op, "GET", url, rel, None)])[0]
            if outcome.error is not None:
                raise outcome.error
            page = outcome.body or {}
            values.extend(page.get("value") or [])
            link = page.get("@odata.nextLink")
            if not link:
                return values
            rel = self._check_next_link(link)
            url = link

    def _read_item(self, index, op):
        url, rel = self._url(op.path, op.params)
        return Item(index, "read", op, "GET", url, rel, None)

    def _write_item(self, index, op):
        if op.probe_path is not None and op.probe_done is None:
            raise ValueError("a write with a probe_path needs probe_done")
        url, rel = self._url(op.path)
        return Item(index, "write", op, op.method or "POST", url, rel, op.body)

    def read_many(self, ops):
        """GET many resources ($batch when more than one); [ReadOutcome] in input order, never raises GraphError."""
        return self._run([self._read_item(index, op) for index, op in enumerate(ops)])

    def read_then_write(self, read_op, write_op):
        """Read one item and write it in the same $batch, the write dependsOn the read: one round trip.

        Graph runs the write only after the read answered 2xx (else it answers 424 and runs
        nothing), so this is for a write that follows from the item existing at all, as a Bookings
        cancel does. Returns (ReadOutcome, WriteOutcome or None): None when the read found nothing
        (or failed) and the write did not run. A write that ran is always returned, whatever the
        read said (Graph runs it after any 2xx read, a malformed one too). What the one batch
        leaves unsettled goes on as read_many() and write_at_most_once() would: a throttled or
        failed read is retried first, and the write is sent only after a 2xx read. When the whole
        batch went unanswered, the write may have run: the read, retried, is its probe
        (write_op.probe_path must be the path read), and the write is never sent again unless that
        read shows it did not take effect.
        """
        if write_op.probe_path is None:
            raise ValueError("read_then_write: the write needs a probe_path (the path read)")
        read, write = self._read_item(0, read_op), self._write_item(1, write_op)
        unchained = write.mailbox in self._unchained
        self._send_chunk([Group(read.mailbox, [read, write], 1)])
        if not unchained:
            # A 424 of this write says the read failed, not that a bulk chain broke.
            self._unchained.discard(write.mailbox)
        reread = read.outcome is None and write.outcome is None
        if read.outcome is None and write.outcome is not None:
            # Graph ran the write behind a 2xx read whose answer was unusable (a body cut short):
            # the write's own answer is what counts, and a read now would only show its effect.
            self._give_up(read, read.last_error, None)
        elif reread:
            self._run([read])
        done = read.outcome.error is None and read.outcome.status is not None and 200 <= read.outcome.status < 300
        if reread and write.outcome is None and write.ambiguous:
            # The whole batch went unanswered: the read made again after it is the probe of the write.
            self._judge_probe(write, read.outcome)
        elif write.outcome is None and not done:
            # The write did not run (424 behind the failed read, or refused unrun) and the read,
            # made again if it had to be, does not find the item: nothing to write.
            return read.outcome, None
        if write.outcome is None:
            if write.pending_probe:
                self._probe([write])
            if write.outcome is None:
                self._run([write])
        return read.outcome, write.outcome

    def write_at_most_once(self, ops):
        """Send each write at most once in effect; [WriteOutcome] in input order (see architecture.md)."""
        return self._run([self._write_item(index, op) for index, op in enumerate(ops)])

    # ---------------------------------------------------------------- the scheduler

    def _run(self, items):
        pending = list(items)
        while pending:
            now = self._clock()
            earliest = min(i.due for i in pending)
            if earliest > now:
                # Items waiting in the same round share this sleep, so max_wait is charged once for it.
                with self._wait_lock:
                    self.waited += earliest - now
                self._sleep(earliest - now)
            now = self._clock()
            due = [i for i in pending if i.due <= now + 1e-6]
            later = [i for i in pending if i.due > now + 1e-6]
            self._send_round(due)
            to_probe = []
            for item in due:
                if item.outcome is None and item.ambiguous and item.kind == "write" and item.pending_probe:
                    to_probe.append(item)
            if to_probe:
                self._probe(to_probe)
            pending = later + [i for i in due if i.outcome is None]
        return [i.outcome for i in items]

    def _send_round(self, items):
        for item in items:
            item.pending_probe = False
        batches = pack(plan_groups(items, self._slots, self._unchained))
        if len(batches) == 1:
            self._send_chunk(batches[0])
            return
        # Imported here: a single request or batch (the common small task) needs no threads.
        from concurrent.futures import ThreadPoolExecutor  # pylint: disable=import-outside-toplevel
        with ThreadPoolExecutor(max_workers=min(self.max_workers, len(batches))) as pool:
            for future in [pool.submit(self._send_chunk, batch) for batch in batches]:
                future.result()

    def _stop_before_sending(self, chunk):
        """True when the chunk must not be sent: the run is stopped, or before_write refuses its writes;
        its items are then finished with that error (a write so finished was not sent by this attempt)."""
        writes = [item.op.key for item in chunk if item.kind == "write"]
        if self.stopped is None and writes and self.before_write is not None:
            try:
                self.before_write(writes)
            except Exception as exc:  # pylint: disable=broad-exception-caught  # whatever it raised stops the writes
                self.stopped = exc
        if self.stopped is None or (not writes and not isinstance(self.stopped, AuthenticationError)):
            return False
        for item in chunk:
            self._finish(item, error=self.stopped)
        return True

    def _send_chunk(self, batch):
        needs = slots_needed(batch)
        limits = self._slots.acquire(needs)
        try:
            chunk = [item for group in batch for item in group.items]
            if self._stop_before_sending(chunk):
                return
            for item in chunk:
                item.attempts += 1
            if len(chunk) == 1:
                item = chunk[0]
                item.chained = False
                item.refreshed = True  # _exchange() already re-acquired once on 401
                self._settle(item, self._exchange(item.method, item.url, item.body, item.outlook))
            else:
                self._send_batch(batch)
            for mailbox in set(item.mailbox for item in chunk if item.outcome is None and item.throttled):
                self._slots.lower(mailbox, limits[mailbox])
        except AuthenticationError as exc:
            # No token (a secret revoked, an app disabled mid-run): this request was not sent. What the
            # run settled before stays settled, and nothing more is sent (issue 16: the report keeps it).
            self.stopped = exc
            for item in chunk:
                if item.outcome is None:
                    self._finish(item, error=exc)
        finally:
            self._slots.release(needs)

    def _send_batch(self, batch):
        body, chunk = batch_request(batch)
        answer = self._exchange("POST", self.base_url + "/$batch", body, False)
        answers, problems = (None, None)
        if isinstance(answer, Answer) and answer.status == 200 and not answer.malformed:
            answers, problems = batch_responses(answer.body, len(chunk))
        if answers is None:
            if isinstance(answer, Answer) and answer.status == 200:
                answer.malformed = True  # a 200 whose envelope does not parse: nobody knows what ran
            for item in chunk:
                self._settle(item, answer, whole_batch=True)
            return
        for item, resp, problem in zip(chunk, answers, problems):
            if resp is None:
                # Graph owes exactly one well-formed answer per item; without one the item's fate is unknown.
                self._settle(item, Failure("malformed_batch_item", problem, True, answer.client_request_id))
                continue
            headers = CaseInsensitiveDict(resp.get("headers") or {})
            headers.setdefault("client-request-id", answer.client_request_id)
            if "request-id" not in headers and answer.headers.get("request-id"):
                headers["request-id"] = answer.headers.get("request-id")
            # An item's body is a JSON document; text there (a document cut short) is a malformed answer.
            item_answer = Answer(resp["status"], headers, resp.get("body"), answer.client_request_id,
                                 malformed=isinstance(resp.get("body"), str))
            item_answer.token = answer.token
            self._settle(item, item_answer)
