# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fault rules: chosen requests fail the way Graph and networks fail (see architecture.md)."""

import re
import threading

KINDS = ("status_429", "status_503", "status_504", "status_500_unknown", "reset", "applied_then_504",
         "applied_then_reset", "slow", "malformed_json", "token_expired", "status_424",
         "status_404", "batch_repeat_429", "batch_missing", "batch_unknown_id")


class FaultRuleError(ValueError):
    pass


class FaultEngine:
    def __init__(self):
        self._lock = threading.Lock()
        self._rules = []
        self._next_id = 0

    def add(self, rule):
        """Validate and store a rule; `times: null` means every matching request."""
        if not isinstance(rule, dict) or rule.get("kind") not in KINDS:
            raise FaultRuleError("kind must be one of %s" % ", ".join(KINDS))
        match = rule.get("match") or {}
        if not isinstance(match, dict):
            raise FaultRuleError("match must be an object")
        try:
            pattern = re.compile(match.get("path_regex") or "")
        except re.error as exc:
            raise FaultRuleError("bad path_regex: %s" % exc) from exc
        times = rule.get("times", 1)
        if times is not None and (not isinstance(times, int) or times < 1):
            raise FaultRuleError("times must be a positive integer or null")
        with self._lock:
            self._next_id += 1
            stored = {"id": self._next_id,
                      "match": {"method": match.get("method"), "path_regex": match.get("path_regex"), "in_batch": match.get("in_batch")},
                      "kind": rule["kind"], "times": times, "retry_after": rule.get("retry_after"),
                      "delay_s": float(rule.get("delay_s", 30)), "hits": 0, "_re": pattern}
            self._rules.append(stored)
        return _public(stored)

    def clear(self):
        with self._lock:
            self._rules = []

    def list(self):
        with self._lock:
            return [_public(r) for r in self._rules]

    def take(self, method, version, segments, in_batch):
        """The first live rule matching this operation, counted as hit; None when none does.

        A $batch envelope is only hit by a rule whose path_regex names it: a rule aimed at
        operations must reach the matching batch items, not the request carrying them."""
        path = "/%s/%s" % (version, "/".join(segments))
        envelope = not in_batch and [s.lower() for s in segments] == ["$batch"]
        with self._lock:
            for rule in self._rules:
                match = rule["match"]
                if rule["times"] is not None and rule["hits"] >= rule["times"]:
                    continue
                if match["method"] and match["method"].upper() != method.upper():
                    continue
                if match["in_batch"] is not None and bool(match["in_batch"]) != bool(in_batch):
                    continue
                if envelope and not match["path_regex"]:
                    continue
                if not rule["_re"].search(path):
                    continue
                rule["hits"] += 1
                return _public(rule)
        return None


def _public(rule):
    return {k: v for k, v in rule.items() if not k.startswith("_")}
