# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers shared by the Graph handlers: errors, time windows, $select, paging, action bodies."""

import datetime
import functools
import re
from urllib.parse import urlencode

from emulator import api

UTC = datetime.timezone.utc


def bad_request(req, message, code="BadRequest"):
    return api.graph_error(400, code, message, req)


def not_found(req, code="ErrorItemNotFound", message="The specified object was not found in the store."):
    return api.graph_error(404, code, message, req)


def access_denied(req):
    # Outlook's wording for a token without the permission or a mailbox it may not touch.
    return api.graph_error(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.", req)


clone = api.clone


def ok(body, status=200):
    return api.Response(status=status, body=body, headers={"Content-Type": "application/json"})


_ISO = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$")


def parse_time(value):
    """ISO 8601 as Graph accepts it in query strings; no offset means UTC. None when unparsable."""
    return _parse_time((value or "").strip())


@functools.lru_cache(maxsize=8192)
def _parse_time(text):
    # Cached: every calendarView page re-reads each stored start and end (thousands for a year of
    # weekly series), and the answer is an immutable datetime. No strptime: it costs ~20 us a call.
    match = _ISO.match(text)
    if not match:
        return None
    day, hour, minute, sec, _frac, zone = match.groups()
    try:
        stamp = datetime.datetime(int(day[0:4]), int(day[5:7]), int(day[8:10]), int(hour or 0), int(minute or 0),
                                  int(sec or 0), tzinfo=UTC)
    except ValueError:
        return None
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        stamp -= sign * datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return stamp


def dtz_to_utc(dtz):
    """A stored dateTimeTimeZone (the emulator stores UTC only) as an aware datetime."""
    return parse_time(dtz["dateTime"])


def outlook_dtz(stamp):
    # Outlook renders 7 fractional digits and no offset, with timeZone "UTC" unless
    # Prefer: outlook.timezone asks otherwise (not modelled: always UTC).
    return {"dateTime": stamp.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"}


def bookings_dtz(stamp):
    # Bookings renders an explicit +00:00 offset (bookingAppointment docs: "always in UTC").
    return {"dateTime": stamp.strftime("%Y-%m-%dT%H:%M:%S.0000000+00:00"), "timeZone": "UTC"}


def overlaps(start, end, win_start, win_end):
    return start < win_end and end > win_start


def selected(req):
    """The lower-cased property names $select keeps (id always), or None without $select."""
    raw = req.query.get("$select")
    return _selected(raw) if raw else None


@functools.lru_cache(maxsize=256)
def _selected(raw):
    return frozenset(name.strip().lower() for name in raw.split(",") if name.strip()) | {"id"}


def select(item, req):
    """$select: only the listed properties, plus id (and @odata annotations)."""
    wanted = selected(req)
    if wanted is None:
        return item
    return {k: v for k, v in item.items() if k.lower() in wanted or k.startswith("@odata")}


def base_url(req, runtime):
    base = getattr(runtime, "base_url", None)
    if base:
        return base.rstrip("/")
    host = req.header("host") or "graph.microsoft.com"
    return "https://" + host


def page(req, runtime, items, default_top, max_top=1000):
    """Slice a collection per $top/$skip and add an absolute @odata.nextLink on the same host."""
    try:
        top = int(req.query.get("$top", default_top))
        skip = int(req.query.get("$skip", 0))
    except ValueError:
        return None, bad_request(req, "Invalid value for $top or $skip: must be a non-negative integer.")
    if top < 0 or skip < 0:
        return None, bad_request(req, "Invalid value for $top or $skip: must be a non-negative integer.")
    top = min(top, max_top) or default_top
    # An item may be a callable that renders it: a large view renders only the page it answers.
    body = {"value": [select(i() if callable(i) else i, req) for i in items[skip:skip + top]]}
    if skip + top < len(items):
        query = dict(req.query)
        query["$top"] = str(top)
        query["$skip"] = str(skip + top)
        body["@odata.nextLink"] = "%s/%s%s?%s" % (base_url(req, runtime), req.version, req.path, urlencode(query))
    return body, None


def action_body(req, allowed):
    """Parse an action body: a JSON object whose keys are the action's parameters.

    The OpenAPI marks the body required (generators up to 2026-01), so the pessimistic reading
    is: no body -> 400. Parameter names match case-insensitively, as Graph's OData layer does
    (the event docs table says "comment", the metadata "Comment"). Returns (params, error).
    """
    body = req.body
    if body is None:
        return None, bad_request(req, "Empty Payload. JSON content expected.")
    if not isinstance(body, dict):
        return None, bad_request(req, "The request payload must be a JSON object.")
    params = {}
    lookup = {name.lower(): name for name in allowed}
    for key, value in body.items():
        if key.startswith("@odata"):
            continue
        name = lookup.get(key.lower())
        if name is None:
            return None, bad_request(
                req, "The parameter '%s' in the request payload is not a valid parameter for the operation 'cancel'." % key)
        if value is not None and not isinstance(value, str):
            return None, bad_request(req, "Cannot convert the literal for parameter '%s' to the expected type 'Edm.String'." % key)
        params[name] = value
    return params, None
