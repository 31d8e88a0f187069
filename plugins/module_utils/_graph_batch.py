# Copyright (c) graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The $batch scheduler: per-mailbox slots, dependsOn chains, packing, and the wire format.

Graph runs up to 4 items of a $batch at once and Outlook allows 4 concurrent requests per app and
mailbox (https://learn.microsoft.com/en-us/graph/json-batching,
https://learn.microsoft.com/en-us/graph/throttling-limits#outlook-service-limits), so a batch to
one mailbox holds as many of that mailbox's slots as it can run items at once. For bulk work the
items of one mailbox are chained with dependsOn (one slot per batch), so up to 4 batches are in
flight and the round trip of one overlaps the service time of the others. The client
(_graph_client.py) decides what to send and what an answer means; this file only decides how
items travel.
"""

from __future__ import annotations

import threading

BATCH_LIMIT = 20            # https://learn.microsoft.com/en-us/graph/json-batching#batch-size-limitations
GRAPH_BATCH_PARALLELISM = 4  # items of one $batch that Graph runs at the same time (NOTES)
OUTLOOK_PREFER = 'IdType="ImmutableId"'


class Slots:
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


class Group:
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


def plan_groups(items, slots, unchained):
    """Split the due items into per-mailbox groups, each sent as (part of) one $batch.

    Up to 20 items of a mailbox go out unchained in one batch (Graph runs 4 at once). More than
    that are chained: each chain at most 20 long and in a batch of its own, as many chains as make
    whole waves of the mailbox's slots, so every slot stays busy while other batches are on the
    wire. A mailbox in `unchained` (a chain broke there: a failed item turns its dependants into
    424s) gets unchained batches instead, so absent ids on a rerun cost no extra requests.
    """
    by_mailbox = {}
    for item in items:
        by_mailbox.setdefault(item.mailbox, []).append(item)
    groups = []
    for mailbox, mine in by_mailbox.items():
        limit = slots.limit_of(mailbox)
        if len(mine) > BATCH_LIMIT and mailbox not in unchained:
            # A whole number of waves (a multiple of the slots) of equal chains: a last wave with
            # half the slots idle would cost as long as a full one.
            chains = -(-len(mine) // BATCH_LIMIT)
            chains = -(-chains // limit) * limit
            base, longer = divmod(len(mine), chains)
            start = 0
            for n in range(chains):
                length = base + (1 if n < longer else 0)
                groups.append(Group(mailbox, mine[start:start + length], 1))
                start += length
        else:
            parallel = min(limit, GRAPH_BATCH_PARALLELISM)
            groups.extend(Group(mailbox, mine[n:n + BATCH_LIMIT], parallel) for n in range(0, len(mine), BATCH_LIMIT))
    return groups


def pack(groups):
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


def slots_needed(batch):
    counts = {}
    for group in batch:
        counts[group.mailbox] = counts.get(group.mailbox, 0) + group.slots
    return counts


def batch_request(batch):
    """The $batch body for a packed batch: ({"requests": [...]}, [item in request id order]).

    Each item needs .method, .rel (path relative to the version), .body and .outlook; its .chained
    is set to whether it was sent behind another item (dependsOn).
    """
    entries, chunk = [], []
    for group in batch:
        tails = {}
        for position, item in enumerate(group.items):
            request_id = str(len(chunk))
            chunk.append(item)
            entry = {"id": request_id, "method": item.method, "url": item.rel}
            headers = {}
            if item.outlook:
                headers["Prefer"] = OUTLOOK_PREFER
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
                tails[chain] = request_id
            entries.append(entry)
    return {"requests": entries}, chunk


def batch_responses(body, count):
    """Each item's answer from a $batch response body: (answers, problems).

    answers[n] is the response dict of request id n, or None; problems[n] says why an item has no
    answer that can be trusted. The envelope is trusted only when it is well-formed: a body that is
    not {"responses": [...]} gives (None, None); an id answered more than once, an answer that is
    not an object with an integer status, or no answer at all leaves that item without an answer
    (its fate is unknown: a write is then ambiguous). An answer for an id never sent (or an entry
    that is not an object) means the envelope is not the answer to this request: nothing in it is
    trusted, (None, None), and every item is read back before anything is sent again (issue 16).
    """
    if not isinstance(body, dict) or not isinstance(body.get("responses"), list):
        return None, None
    answers, problems, seen = [None] * count, [None] * count, {}
    for resp in body["responses"]:
        if not isinstance(resp, dict):
            return None, None
        key = str(resp.get("id"))
        if not key.isdigit() or int(key) >= count or str(int(key)) != key:
            return None, None
        n = int(key)
        seen[n] = seen.get(n, 0) + 1
        status = resp.get("status")
        if seen[n] > 1:
            answers[n], problems[n] = None, "the $batch response answers this item more than once"
        elif not isinstance(status, int) or isinstance(status, bool):
            problems[n] = "the $batch response gives this item no valid status"
        else:
            answers[n] = resp
    for n in range(count):
        if n not in seen:
            problems[n] = "no answer for this item in the $batch response"
    return answers, problems
