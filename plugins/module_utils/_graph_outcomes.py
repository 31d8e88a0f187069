# Copyright (c) graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""What an answer means for an item of the Graph client: done, retry later, read back first, or failed.

GraphClient (_graph_client.py) sends; ItemSettling, its base class, decides each item's fate from
the answer it got (see the client's docstring for the rules Graph forces, and architecture.md):

* a read is retried on 429/503/504, on no answer and on an answer that is not well-formed;
* a write that may have been applied (sent and no answer, 5xx, an answer that is not well-formed)
  is never sent again before a read of its probe_path shows that it was not;
* 429 and 424 (Graph did not run it) are safe to send again; a 424 behind our own dependsOn chain
  is re-sent at once without using an attempt;
* every wait honours Retry-After (seconds or an HTTP-date), else a capped exponential backoff with
  full jitter, within `retries` and `max_wait` (https://learn.microsoft.com/en-us/graph/throttling).
"""

from __future__ import annotations

import email.utils
import time

from collections import namedtuple

from ansible_collections.graphops.msgraph.plugins.module_utils._graph_errors import (
    GraphError,
    GraphTransportError,
    graph_error_from,
)

ReadOp = namedtuple("ReadOp", "key path params mailbox outlook", defaults=(None, None, False))
ReadOutcome = namedtuple("ReadOutcome", "key status body error")
WriteOp = namedtuple("WriteOp", "key path body mailbox outlook probe_path probe_done method",
                     defaults=(None, False, None, None, "POST"))
WriteOutcome = namedtuple("WriteOutcome", "key result status error probed")

BACKOFF_BASE = 1.0
BACKOFF_CAP = 30.0
RETRY_STATUSES = frozenset((429, 503, 504))
AMBIGUOUS_WRITE_STATUSES = frozenset((500, 502, 503, 504))


def sort_write_outcomes(outcomes, absent_when=None):
    """Split WriteOutcomes into (done keys, absent keys, [(key, error)] failed).

    absent_when(outcome), when given, decides which "absent" results count as absent; the others fail.
    """
    done, absent, failed = [], [], []
    for outcome in outcomes:
        if outcome.result == "done":
            done.append(outcome.key)
        elif outcome.result == "absent" and (absent_when is None or absent_when(outcome)):
            absent.append(outcome.key)
        else:
            failed.append((outcome.key, outcome.error))
    return done, absent, failed


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
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


class Answer:
    """One HTTP answer (or one $batch item answer), JSON decoded when possible."""

    def __init__(self, status, headers, body, client_request_id, malformed=False):
        self.status = status
        self.headers = headers
        self.body = body
        self.client_request_id = client_request_id
        self.malformed = malformed
        self.token = None


class Failure:
    """No answer at all. sent says whether the request may have reached Graph (ambiguous for a write)."""

    def __init__(self, kind, message, sent, client_request_id):
        self.kind = kind
        self.message = message
        self.sent = sent
        self.client_request_id = client_request_id
        self.status = None
        self.headers = {}
        self.token = None


def is_expired_token(answer):
    """A 401 that says the token is no longer good (not applied: safe to send again with a new one)."""
    if not isinstance(answer, Answer) or answer.status != 401:
        return False
    code = (answer.body or {}).get("error", {}).get("code") if isinstance(answer.body, dict) else None
    return code in ("InvalidAuthenticationToken", None)


class Item:
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


class ItemSettling:
    """The fate of each item, for GraphClient. Needs from it: retries, max_wait, waited, _wait_lock,
    _clock, _rand, _unchained, _invalidate(token) and read_many()."""

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

    # ---------------------------------------------------------------- deciding an item's fate

    def _error_from(self, item, answer):
        if isinstance(answer, Failure):
            return GraphTransportError(answer.message, method=item.method, url=item.url,
                                       client_request_id=answer.client_request_id, kind=answer.kind)
        if answer.malformed:
            return GraphError(answer.status, code="MalformedResponse",
                              message="the answer is not a well-formed Graph answer (its body is not JSON)",
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
        status = answer.status if isinstance(answer, Answer) else None
        item.throttled = status == 429
        if status == 424 and item.chained and not whole_batch:
            # Our own dependsOn: the item before it in the chain failed, so Graph did not run this
            # one. Send it again at once, unchained from then on; it does not count as an attempt.
            self._unchained.add(item.mailbox)
            item.due = self._clock()
            item.attempts -= 1
            return None
        if isinstance(answer, Answer) and status == 401 and is_expired_token(answer) and not item.refreshed \
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
        if isinstance(answer, Failure):
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
        if isinstance(answer, Failure):
            error = self._error_from(item, answer)
            if answer.kind == "tls_error":
                return self._finish(item, error=error)
            if not answer.sent:
                return self._retry_later(item, answer, error)
            return self._ambiguous(item, answer, error)
        if answer.malformed or not isinstance(status, int):
            # Not a well-formed Graph answer (an HTML page, a body cut short, a $batch envelope that
            # does not parse): whatever its status says, nobody knows whether the write ran.
            return self._ambiguous(item, answer, self._error_from(item, answer))
        if 200 <= status < 300:
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
        if status in AMBIGUOUS_WRITE_STATUSES:
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
            retry_after = {"Retry-After": item.pending_retry_after} if item.pending_retry_after else {}
            self._retry_later(item, Answer(None, retry_after, None, None), item.last_error)
