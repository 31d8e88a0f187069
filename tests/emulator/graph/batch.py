# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""JSON batching (POST /v1.0/$batch, /beta/$batch), per NOTES "Errors, throttling, batching" and
docs/dev/architecture.md: at most 20 items, unique ids, Content-Type with a body, items dispatched
4 at a time (the Graph front end's own parallelism), dependsOn with 424, each item its own
operation (own throttling, own record), responses in completion order.
"""

import concurrent.futures
from urllib.parse import parse_qsl, unquote, urlsplit

from emulator import api
from emulator.graph import common

MAX_ITEMS = 20
PARALLELISM = 4


def _invalid(req, message):
    return common.bad_request(req, message)


def _parse(req):
    """(items, error). items: [(id, dependsOn ids (lower), item Request)] in input order."""
    body = req.body
    if not isinstance(body, dict) or not isinstance(body.get("requests"), list) or not body["requests"]:
        return None, _invalid(req, "Invalid batch payload format.")
    raw_items = body["requests"]
    if len(raw_items) > MAX_ITEMS:
        return None, _invalid(req, "Number of requests exceeds the limit of %d." % MAX_ITEMS)
    seen, items = set(), []
    for raw in raw_items:
        if not isinstance(raw, dict) or not all(isinstance(raw.get(k), str) and raw.get(k) for k in ("id", "method", "url")):
            return None, _invalid(req, "Invalid batch payload format: every request needs an id, a method and a url.")
        if raw["id"].lower() in seen:
            return None, _invalid(req, "Request Id '%s' is not unique within the batch." % raw["id"])
        seen.add(raw["id"].lower())
        headers = {str(k).lower(): str(v) for k, v in (raw.get("headers") or {}).items()}
        if raw.get("body") is not None and "content-type" not in headers:
            return None, _invalid(req, "Content-Type header must be specified for the request with id '%s' that has a body." % raw["id"])
        url = _relative(req, raw["url"])
        if url is None:
            return None, _invalid(req, "The batch request URL of '%s' must be relative to the batch version." % raw["id"])
        depends = raw.get("dependsOn") or []
        if not isinstance(depends, list):
            return None, _invalid(req, "dependsOn of request '%s' must be an array of request ids." % raw["id"])
        items.append((raw["id"], [str(d).lower() for d in depends], _item_request(req, raw, url, headers)))
    for item_id, depends, _sub in items:
        for dep in depends:
            if dep not in seen or dep == item_id.lower():
                return None, _invalid(req, "Unable to find a dependent request with id '%s' for request '%s'." % (dep, item_id))
    if _has_cycle(items):
        return None, _invalid(req, "The dependsOn references in the batch form a cycle.")
    return items, None


def _relative(req, url):
    """The item URL relative to the batch version, or None. The docs ask for a relative URL; Graph
    also takes an absolute one of its own host and the batch's version, which is what
    msgraph-sdk-python's BatchRequestItem sends (make conformance). Any other absolute URL is refused."""
    if "://" not in url:
        return url
    parts = urlsplit(url)
    prefix = "/%s/" % req.version
    if parts.scheme != "https" or parts.netloc.lower() != (req.header("host") or "").lower() or not parts.path.startswith(prefix):
        return None
    return parts.path[len(prefix) - 1:] + ("?" + parts.query if parts.query else "")


def _has_cycle(items):
    graph = {i.lower(): deps for i, deps, _sub in items}
    state = {}

    def visit(node):
        if state.get(node) == 1:
            return True
        if state.get(node) == 2:
            return False
        state[node] = 1
        if any(visit(dep) for dep in graph[node]):
            return True
        state[node] = 2
        return False

    return any(visit(node) for node in graph)


def _item_request(outer, raw, url, headers):
    path, _sep, query = url.lstrip("/").partition("?")
    if outer.header("host") and "host" not in headers:
        headers["host"] = outer.header("host")  # so nextLinks name the same host (not a Graph header)
    return api.Request(
        method=raw["method"].upper(), version=outer.version, path="/" + path,
        segments=[unquote(s) for s in path.split("/")], query=dict(parse_qsl(query, keep_blank_values=True)),
        headers=headers, body=raw.get("body"), principal=outer.principal,
        client_request_id=headers.get("client-request-id", outer.client_request_id),
        in_batch=True, batch_item_id=raw["id"], batch_request_seq=getattr(outer, "seq", None),
    )


def _entry(item_id, resp):
    entry = {"id": item_id, "status": resp.status, "headers": dict(resp.headers)}
    if isinstance(resp.body, bytes):
        entry["body"] = resp.body.decode("utf-8", "replace")  # a malformed body stays visibly malformed
    elif resp.body is not None:
        entry["body"] = resp.body
    return entry


def handle_batch(svc, req):
    items, err = _parse(req)
    if err:
        return err
    by_id = {i.lower(): (i, deps, sub) for i, deps, sub in items}
    status, done, faults, tweaks = {}, [], [], {}
    submitted = set()
    with concurrent.futures.ThreadPoolExecutor(max_workers=PARALLELISM) as pool:
        running = {}
        while len(done) < len(items):
            for key, (item_id, deps, sub) in by_id.items():
                if key in submitted or any(d not in status for d in deps):
                    continue
                submitted.add(key)
                if any(not 200 <= status[d] < 300 for d in deps):
                    resp = api.graph_error(424, "FailedDependency", "The request depends on a request that failed.", sub)
                    status[key] = 424
                    done.append(_entry(item_id, resp))
                    continue
                running[pool.submit(svc.dispatch, sub)] = (key, item_id)
            if not running:
                continue  # 424s made more items ready
            finished, _pending = concurrent.futures.wait(running, return_when=concurrent.futures.FIRST_COMPLETED)
            for fut in finished:
                key, item_id = running.pop(fut)
                resp = fut.result()
                status[key] = resp.status
                if resp.transport_fault:
                    faults.append(resp.transport_fault)
                done.append(_entry(item_id, resp))
                if resp.batch_fault:
                    tweaks[item_id] = resp.batch_fault
    if [d["id"] for d in done] == [i for i, _d, _s in items]:
        # Graph promises no order; never let clients get used to input order. Swap the first
        # adjacent pair where the later item does not depend on the earlier one.
        for pos in range(len(done) - 1):
            if done[pos]["id"].lower() not in by_id[done[pos + 1]["id"].lower()][1]:
                done[pos], done[pos + 1] = done[pos + 1], done[pos]
                break
    out = common.ok({"responses": _tweaked(done, tweaks)})
    out.transport_fault = _worst(faults)
    return out


def _tweaked(done, tweaks):
    """The envelope's entries with the $batch faults applied (the operations themselves ran)."""
    out = []
    for entry in done:
        kind = tweaks.get(entry["id"])
        if kind == "batch_missing":
            continue
        if kind == "batch_unknown_id":
            entry = dict(entry, id="999" + entry["id"])
        out.append(entry)
        if kind == "batch_repeat_429":
            copy = api.graph_error(429, "TooManyRequests", "Too many requests.", None, {"Retry-After": "1"})
            out.append(_entry(entry["id"], copy))
    return out


def _worst(faults):
    """A reset or slow item becomes the whole batch's fate (architecture.md, fault rules)."""
    if "reset" in faults:
        return "reset"
    slows = [f for f in faults if f.startswith("slow:")]
    return max(slows, key=lambda f: float(f.split(":", 1)[1])) if slows else None
