# Copyright (c) graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The Graph client: retries, $batch, at-most-once writes, error mapping.

It does not import Ansible, so it runs (and is tested and benchmarked) on its own. It does not
authenticate either: a token provider (see _graph_auth.py) hands it tokens, and the bytes go
through a transport (_graph_http.py, the standard library's http.client; no requests).

Choices forced by Graph (see ../shared/graph/NOTES.md, "Errors, throttling, batching"):

* every request carries a fresh client-request-id and asks for it back, because Microsoft support
  asks for it together with the request-id of the answer;
* 429, 503, 504 and lost connections are retried after Retry-After (seconds or an HTTP-date), else
  after a capped exponential backoff with full jitter, within `retries` and `max_wait`
  (https://learn.microsoft.com/en-us/graph/throttling);
* a write whose outcome is unknown (timeout or reset after sending, 5xx) may have been applied, so
  it is never sent again before a read (probe) shows that it was not: a cancellation notifies
  customers or attendees, twice would be a bug users can see;
* $batch takes at most 20 requests and dispatches up to 4 of them at a time, and Outlook allows 4
  concurrent requests per app and mailbox (https://learn.microsoft.com/en-us/graph/json-batching).
  A batch to one mailbox therefore holds as many per-mailbox slots as it can run items at once.
  For bulk work the items of one mailbox are chained with dependsOn (one slot per batch), so up to
  4 batches are in flight and the network round trip of one overlaps the service time of the
  others; a chain broken by a failed item (its dependants answer 424 and did not run) makes that
  mailbox fall back to unchained batches, and a 429 lowers that mailbox's concurrency.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time

from collections import namedtuple
from urllib.parse import urlencode, urlsplit

from ansible_collections.graphops.msgraph.plugins.module_utils._graph_errors import (
    GraphError,
    GraphTransportError,
    graph_error_from,
)
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_http import HttpsTransport, TransportError

ReadOp = namedtuple("ReadOp", "key path params mailbox outlook", defaults=(None, None, False))
ReadOutcome = namedtuple("ReadOutcome", "key status body error")
WriteOp = namedtuple("WriteOp", "key path body mailbox outlook probe_path probe_done method",
                     defaults=(None, False, None, None, "POST"))
WriteOutcome = namedtuple("WriteOutcome", "key result status error probed")

BATCH_LIMIT = 20            # https://learn.microsoft.com/en-us/graph/json-batching#batch-size-limitations
GRAPH_BATCH_PARALLELISM = 4  # items of one $batch that Graph runs at the same time (NOTES)
BACKOFF_BASE = 1.0
BACKOFF_CAP = 30.0
RETRY_STATUSES = frozenset((429, 503, 504))
AMBIGUOUS_WRITE_STATUSES = frozenset((500, 502, 503, 504))
DEFAULT_MAX_WORKERS = 8


def new_request_id():
    """A random (version 4) UUID for client-request-id, made here: importing uuid costs a module run 3 ms."""
    octets = bytearray(os.urandom(16))
    octets[6] = (octets[6] & 0x0F) | 0x40  # version 4
    octets[8] = (octets[8] & 0x3F) | 0x80  # the RFC 9562 variant
    digits = octets.hex()
    return "-".join((digits[:8], digits[8:12], digits[12:16], digits[16:20], digits[20:]))


def parse_retry_after(value, now=None):
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), None when absent or bad."""
    if value is None:
        return None
    value = str(value).strip()
    if not value:
        return None
    try:
        return max(0.0, float(int(value)))
    except ValueError:
        pass
    import email.utils  # pylint: disable=import-outside-toplevel  # only for an HTTP-date, which Graph rarely sends
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


class _Answer:
    """One HTTP answer (or one $batch item answer), JSON decoded when possible."""

    def __init__(self, status, headers, body, client_request_id, malformed=False):
        self.status = status
        self.headers = headers
        self.body = body
        self.client_request_id = client_request_id
        self.malformed = malformed
        self.token = None


class _Failure:
    """No answer at all. sent says whether the request may have reached Graph (ambiguous for a write)."""

    def __init__(self, kind, message, sent, client_request_id):
        self.kind = kind
        self.message = message
        self.sent = sent
        self.client_request_id = client_request_id
        self.status = None
        self.headers = {}
        self.token = None


def _decode(text):
    if not text:
        return None, False
    try:
        return json.loads(text), False
    except ValueError:
        return text, True


class _Slots:
    """Per-mailbox concurrency slots, taken all at once so two batches never deadlock.

    Each mailbox starts at `limit`; lower() reduces one mailbox's limit after Graph throttled it.
    A batch that needs more slots than its mailbox's limit runs alone (never waits forever).
    """

    def __init__(self, limit):
        self.limit = limit
        self.limits = {}
        self.used = {}
        self.cond = threading.Condition()

    def limit_of(self, mailbox):
        with self.cond:
            return self.limits.get(mailbox, self.limit)

    def lower(self, mailbox, seen_at):
        """After a 429: one slot less than the limit the throttled batch was sent under (at least 1)."""
        with self.cond:
            current = self.limits.get(mailbox, self.limit)
            self.limits[mailbox] = max(1, min(current, seen_at - 1))

    def _fits(self, mailbox, n):
        used = self.used.get(mailbox, 0)
        return used == 0 or used + n <= self.limits.get(mailbox, self.limit)

    def acquire(self, needs):
        """Take the slots; returns each mailbox's limit at that moment (for lower())."""
        with self.cond:
            while not all(self._fits(m, n) for m, n in needs.items()):
                self.cond.wait()
            for m, n in needs.items():
                self.used[m] = self.used.get(m, 0) + n
            return dict((m, self.limits.get(m, self.limit)) for m in needs)

    def release(self, needs):
        with self.cond:
            for m, n in needs.items():
                self.used[m] -= n
            self.cond.notify_all()


class _Group:
    """Items of one mailbox sent in one $batch as `chains` dependsOn chains (1 = fully sequential).

    Graph runs at most 4 items of a batch at once, so a group of up to 4 chains holds that many of
    its mailbox's slots; a group with as many chains as items needs no dependsOn at all.
    """

    def __init__(self, mailbox, items, chains):
        self.mailbox = mailbox
        self.items = items
        self.chains = max(1, min(chains, len(items)))

    @property
    def slots(self):
        return min(self.chains, GRAPH_BATCH_PARALLELISM)

    @property
    def chained(self):
        return self.chains < min(len(self.items), GRAPH_BATCH_PARALLELISM)

    def chain_of(self, position):
        return position % self.chains


class _Item:
    """One operation of read_many/write_at_most_once while it is being worked on."""

    def __init__(self, index, kind, op, method, url, rel, body):
        self.index = index
        self.kind = kind          # "read" or "write"
        self.op = op
        self.method = method
        self.url = url            # absolute, for a direct request
        self.rel = rel            # relative (no version), for a $batch item
        self.body = body
        self.mailbox = getattr(op, "mailbox", None) or ""
        self.outlook = bool(getattr(op, "outlook", False))
        self.attempts = 0
        self.ambiguous = False    # a write that may have been applied by an earlier attempt
        self.probed = False
        self.refreshed = False    # token re-acquired once already for this item
        self.due = 0.0
        self.outcome = None
        self.last_error = None
        self.pending_retry_after = None
        self.pending_probe = False
        self.chained = False      # sent behind another item of its batch (dependsOn)
        self.throttled = False    # its last answer was a 429


class GraphClient:
    """Talks to one Graph endpoint with one token provider."""

    def __init__(self, endpoint, api_version, token_provider, verify=True, timeout=30, retries=3, max_wait=120,
                 user_agent=None, mailbox_concurrency=4, transport=None, sleep=None, clock=None, rand=None,
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
        # Anything with request(method, url, headers, body) -> Response that raises TransportError.
        self.transport = transport if transport is not None else HttpsTransport(verify, timeout)
        self._sleep = sleep or time.sleep
        self._clock = clock or time.monotonic
        self._rand = rand or random.random
        self.max_workers = max(1, int(max_workers))
        self._slots = _Slots(self.mailbox_concurrency)
        self._unchained = set()    # mailboxes where a chain broke: they get unchained batches from then on
        self._wait_lock = threading.Lock()
        self.waited = 0.0          # seconds slept so far on Retry-After and backoff (never above max_wait)
        self.request_count = 0     # HTTP requests sent (a $batch counts once)

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
            headers["Prefer"] = 'IdType="ImmutableId"'
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
            resp = self.transport.request(method, url, headers, data)
        except TransportError as exc:
            return _Failure(exc.kind, exc.message, exc.sent, crid)
        body_out, malformed = _decode(resp.text)
        return _Answer(resp.status, resp.headers, body_out, resp.headers.get("client-request-id") or crid, malformed)

    @staticmethod
    def _is_expired_token(answer):
        if not isinstance(answer, _Answer) or answer.status != 401:
            return False
        code = (answer.body or {}).get("error", {}).get("code") if isinstance(answer.body, dict) else None
        return code in ("InvalidAuthenticationToken", None)

    def _exchange(self, method, url, body=None, outlook=False):
        """One request; on 401 InvalidAuthenticationToken drop the token and try once more (not applied)."""
        token = self._token()
        answer = self._send_once(method, url, body, outlook, token)
        if self._is_expired_token(answer) and self._invalidate(token):
            token = self._token()
            answer = self._send_once(method, url, body, outlook, token)
        answer.token = token  # so a $batch item refused with 401 drops exactly the token it was sent with
        return answer

    # ---------------------------------------------------------------- waiting

    def _backoff(self, attempt):
        """Full jitter: uniform in [0, min(cap, base * 2**(attempt-1))]."""
        return self._rand() * min(BACKOFF_CAP, BACKOFF_BASE * (2 ** max(0, attempt - 1)))

    def _delay_for(self, attempt, retry_after):
        parsed = parse_retry_after(retry_after)
        return parsed if parsed is not None else self._backoff(attempt)

    def _fits(self, seconds):
        """Whether waiting seconds more stays within max_wait (the sleeps themselves are counted in _run)."""
        with self._wait_lock:
            return self.waited + seconds <= self.max_wait + 1e-9

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
        outcome = self._run([_Item(0, "read", ReadOp(None, path, params, None, outlook), "GET", url, rel, None)])[0]
        if outcome.error is not None:
            raise outcome.error
        return outcome.body

    def get_all(self, path, params=None, outlook=False):
        """GET a collection, following @odata.nextLink; returns the concatenated `value` lists."""
        url, rel = self._url(path, params)
        values = []
        while True:
            op = ReadOp(None, rel, None, None, outlook)
            outcome = self._run([_Item(0, "read", op, "GET", url, rel, None)])[0]
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
        return _Item(index, "read", op, "GET", url, rel, None)

    def _write_item(self, index, op):
        if op.probe_path is not None and op.probe_done is None:
            raise ValueError("a write with a probe_path needs probe_done")
        url, rel = self._url(op.path)
        return _Item(index, "write", op, op.method or "POST", url, rel, op.body)

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
        self._send_chunk([_Group(read.mailbox, [read, write], 1)])
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

    def _groups(self, items):
        """Split the due items into per-mailbox groups, each sent as (part of) one $batch.

        Up to 20 items of a mailbox go out unchained in one batch (Graph runs 4 at once). More than
        that are chained: each chain at most 20 long and in a batch of its own, as many chains as
        make whole waves of the mailbox's slots, so every slot stays busy while other batches are
        on the wire. Once a
        chain broke for a mailbox (a failed item turns its dependants into 424s), it gets unchained
        batches instead, so absent ids on a rerun cost no extra requests.
        """
        by_mailbox = {}
        for item in items:
            by_mailbox.setdefault(item.mailbox, []).append(item)
        groups = []
        for mailbox, mine in by_mailbox.items():
            limit = self._slots.limit_of(mailbox)
            parallel = min(limit, GRAPH_BATCH_PARALLELISM)
            if len(mine) > BATCH_LIMIT and mailbox not in self._unchained:
                # A whole number of waves (a multiple of the slots) of equal chains: a last wave
                # with half the slots idle would cost as long as a full one.
                chains = -(-len(mine) // BATCH_LIMIT)
                chains = -(-chains // limit) * limit
                base, longer = divmod(len(mine), chains)
                start = 0
                for n in range(chains):
                    length = base + (1 if n < longer else 0)
                    groups.append(_Group(mailbox, mine[start:start + length], 1))
                    start += length
            else:
                groups.extend(_Group(mailbox, mine[n:n + BATCH_LIMIT], parallel) for n in range(0, len(mine), BATCH_LIMIT))
        return groups

    @staticmethod
    def _pack(groups):
        """First-fit packing of groups into $batch requests of at most 20 items, one group per mailbox
        in each (two groups of one mailbox in one batch would be one batch where two could overlap)."""
        batches = []
        for group in groups:
            for batch in batches:
                if sum(len(g.items) for g in batch) + len(group.items) <= BATCH_LIMIT \
                        and all(g.mailbox != group.mailbox for g in batch):
                    batch.append(group)
                    break
            else:
                batches.append([group])
        return batches

    @staticmethod
    def _needs(batch):
        counts = {}
        for group in batch:
            counts[group.mailbox] = counts.get(group.mailbox, 0) + group.slots
        return counts

    def _send_round(self, items):
        for item in items:
            item.pending_probe = False
        batches = self._pack(self._groups(items))
        if len(batches) == 1:
            self._send_chunk(batches[0])
            return
        # Imported here: a single request or batch (the common small task) needs no threads.
        from concurrent.futures import ThreadPoolExecutor  # pylint: disable=import-outside-toplevel
        with ThreadPoolExecutor(max_workers=min(self.max_workers, len(batches))) as pool:
            for future in [pool.submit(self._send_chunk, batch) for batch in batches]:
                future.result()

    def _send_chunk(self, batch):
        needs = self._needs(batch)
        limits = self._slots.acquire(needs)
        try:
            chunk = [item for group in batch for item in group.items]
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
        finally:
            self._slots.release(needs)

    def _send_batch(self, batch):
        requests_, chunk = [], []
        for group in batch:
            tails = {}
            for position, item in enumerate(group.items):
                n = len(chunk)
                chunk.append(item)
                entry = {"id": str(n), "method": item.method, "url": item.rel}
                headers = {}
                if item.outlook:
                    headers["Prefer"] = 'IdType="ImmutableId"'
                if item.body is not None:
                    entry["body"] = item.body
                    headers["Content-Type"] = "application/json"  # required by $batch for an item with a body
                if headers:
                    entry["headers"] = headers
                chain = group.chain_of(position)
                item.chained = group.chained and chain in tails
                if item.chained:
                    entry["dependsOn"] = [tails[chain]]
                if group.chained:
                    tails[chain] = str(n)
                requests_.append(entry)
        answer = self._exchange("POST", self.base_url + "/$batch", {"requests": requests_}, False)
        if isinstance(answer, _Answer) and answer.status == 200 and isinstance(answer.body, dict) \
                and isinstance(answer.body.get("responses"), list):
            by_id = {}
            for resp in answer.body["responses"]:
                if isinstance(resp, dict):
                    by_id[str(resp.get("id"))] = resp
            for n, item in enumerate(chunk):
                resp = by_id.get(str(n))
                if resp is None:
                    # Graph owes an answer per item; without one the write's fate is unknown.
                    self._settle(item, _Failure("missing_batch_item", "no answer for this item in the $batch response",
                                                True, answer.client_request_id))
                    continue
                headers = dict((k, v) for k, v in (resp.get("headers") or {}).items())
                headers.setdefault("client-request-id", answer.client_request_id)
                if "request-id" not in headers and answer.headers.get("request-id"):
                    headers["request-id"] = answer.headers.get("request-id")
                # An item's body is a JSON document; text there (a document cut short) is a malformed answer.
                item_answer = _Answer(resp.get("status"), headers, resp.get("body"), answer.client_request_id,
                                      malformed=isinstance(resp.get("body"), str))
                item_answer.token = answer.token
                self._settle(item, item_answer)
            return
        if isinstance(answer, _Answer) and answer.status == 200:
            answer.malformed = True
        for item in chunk:
            self._settle(item, answer, whole_batch=True)

    # ---------------------------------------------------------------- deciding an item's fate

    def _error_from(self, item, answer):
        if isinstance(answer, _Failure):
            return GraphTransportError(answer.message, method=item.method, url=item.url,
                                       client_request_id=answer.client_request_id, kind=answer.kind)
        if answer.malformed and answer.status is not None and answer.status < 300:
            return GraphError(answer.status, code="MalformedResponse", message="Graph answered with a body that is not JSON",
                              request_id=answer.headers.get("request-id"), client_request_id=answer.client_request_id,
                              method=item.method, url=item.url)
        return graph_error_from(answer.status, answer.body, answer.headers, method=item.method, url=item.url,
                                client_request_id=answer.client_request_id)

    def _retry_later(self, item, answer, error):
        """Schedule another attempt if retries and max_wait allow; else settle as failed."""
        item.last_error = error
        if item.attempts > self.retries:
            return self._give_up(item, error, None)
        delay = self._delay_for(item.attempts, (answer.headers or {}).get("Retry-After") if answer is not None else None)
        if not self._fits(delay):
            return self._give_up(item, error, "waiting {0:.0f} s more would exceed max_wait ({1:g} s)".format(delay, self.max_wait))
        item.due = self._clock() + delay
        return None

    def _give_up(self, item, error, note):
        error.attempts = item.attempts
        if note:
            error.note = note
        if item.kind == "write" and item.ambiguous and not item.probed:
            error.note = (error.note + "; " if error.note else "") + "the write may have taken effect"
        return self._finish(item, error=error)

    def _finish(self, item, error=None, status=None, body=None, result=None):
        if item.kind == "read":
            item.outcome = ReadOutcome(item.op.key, status if status is not None else (error.status if error else None),
                                       body, error)
        else:
            item.outcome = WriteOutcome(item.op.key, result or "failed",
                                        status if status is not None else (error.status if error else None), error, item.probed)
        return item.outcome

    def _settle(self, item, answer, whole_batch=False):
        """Decide from one answer: finished, retry later, or (ambiguous write) probe first."""
        status = answer.status if isinstance(answer, _Answer) else None
        item.throttled = status == 429
        if status == 424 and item.chained and not whole_batch:
            # Our own dependsOn: the item before it in the chain failed, so Graph did not run this
            # one. Send it again at once, unchained from then on; it does not count as an attempt.
            self._unchained.add(item.mailbox)
            item.due = self._clock()
            item.attempts -= 1
            return None
        if isinstance(answer, _Answer) and status == 401 and self._is_expired_token(answer) and not item.refreshed \
                and not whole_batch:
            # An item of a $batch whose token expired: not applied; refresh once and retry it.
            item.refreshed = True
            self._invalidate(answer.token)
            item.due = self._clock()
            item.attempts -= 1
            return None
        if item.kind == "read":
            return self._settle_read(item, answer, status)
        return self._settle_write(item, answer, status)

    def _settle_read(self, item, answer, status):
        if isinstance(answer, _Failure):
            error = self._error_from(item, answer)
            if answer.kind == "tls_error":
                return self._finish(item, error=error)
            return self._retry_later(item, answer, error)
        if answer.malformed:
            return self._retry_later(item, answer, self._error_from(item, answer))
        if 200 <= status < 300:
            return self._finish(item, status=status, body=answer.body)
        error = self._error_from(item, answer)
        if status in RETRY_STATUSES or status == 424:
            return self._retry_later(item, answer, error)
        return self._finish(item, error=error, status=status, body=answer.body)

    def _settle_write(self, item, answer, status):
        if isinstance(answer, _Failure):
            error = self._error_from(item, answer)
            if answer.kind == "tls_error":
                return self._finish(item, error=error)
            if not answer.sent:
                return self._retry_later(item, answer, error)
            return self._ambiguous(item, answer, error)
        if status is not None and 200 <= status < 300:
            return self._finish(item, status=status, result="done")
        if status == 404:
            if item.ambiguous:
                # The earlier attempt went through: the item is gone because we cancelled it (NOTES).
                return self._finish(item, status=status, result="done")
            return self._finish(item, status=status, result="absent", error=self._error_from(item, answer))
        error = self._error_from(item, answer)
        if status in (429, 424):
            # Throttled or a failed dependency: Graph did not run the request, so it is safe to send again.
            return self._retry_later(item, answer, error)
        if status in AMBIGUOUS_WRITE_STATUSES or answer.malformed:
            return self._ambiguous(item, answer, error)
        return self._finish(item, error=error, status=status)

    def _ambiguous(self, item, answer, error):
        item.ambiguous = True
        item.last_error = error
        item.pending_retry_after = (answer.headers or {}).get("Retry-After")
        if item.op.probe_path is None:
            # Nothing to read back: the only safe answer is "unknown", never a blind re-send.
            return self._give_up(item, error, "not re-sent because the write may have taken effect")
        item.pending_probe = True
        return None

    def _probe(self, items):
        """Read each ambiguous write's probe_path; done if it took effect, else schedule one re-send."""
        reads = [ReadOp(n, item.op.probe_path, None, item.op.mailbox, item.op.outlook) for n, item in enumerate(items)]
        for item, outcome in zip(items, self.read_many(reads)):
            self._judge_probe(item, outcome)

    def _judge_probe(self, item, outcome):
        """Settle an ambiguous write from a read of its probe_path: done, failed, or one re-send scheduled."""
        item.probed = True
        item.pending_probe = False
        if outcome.error is not None and outcome.status != 404:
            self._give_up(item, item.last_error, "reading {0} to check whether it took effect failed ({1}); not re-sent"
                          .format(item.op.probe_path, outcome.error))
        elif item.op.probe_done(outcome.status, outcome.body):
            self._finish(item, status=item.last_error.status if item.last_error else None, result="done")
        else:
            # The probe shows the write did not take effect: sending it again is safe.
            self._retry_later(item, _Answer(None, {"Retry-After": item.pending_retry_after} if item.pending_retry_after else {},
                                            None, None), item.last_error)
