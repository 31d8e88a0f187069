# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PATCH {owner}/events/{id}: the series update that ends a recurring meeting (issue 18).

https://learn.microsoft.com/graph/api/event-update: the organizer updates the master's
``recurrence`` (a whole patternedRecurrence: pattern and range); Graph answers 200 with the
event, every attendee receives a meeting update, and the occurrences after a new range end
disappear from the series (calendarView, instances) and from the attendees' copies. Occurrences
before it stay. Only ``recurrence`` is modelled; other properties are refused so a client that
relies on them notices the emulator's limit instead of a silent success.

Pessimistic readings (NOTES: an update notifies per PATCH): every accepted PATCH notifies each
attendee again ("event_updated"), even when it changes nothing; an attendee's copy cannot be
updated this way (400, as for cancel); a range that ends before it starts is refused (400).
"""

import datetime

from emulator import api
from emulator.graph import common, events

MODELLED = ("recurrence",)
RANGE_TYPES = ("endDate", "noEnd", "numbered")


def _date(value):
    try:
        return datetime.datetime.strptime(value, "%Y-%m-%d").date()
    except (TypeError, ValueError):
        return None


def _check_recurrence(req, value):
    """An error Response when value is not a patternedRecurrence the emulator can apply, else None."""
    if not isinstance(value, dict) or not isinstance(value.get("pattern"), dict) or not isinstance(value.get("range"), dict):
        return common.bad_request(req, "Recurrence must have both a pattern and a range.", "ErrorInvalidRequest")
    rng = value["range"]
    if rng.get("type") not in RANGE_TYPES or _date(rng.get("startDate")) is None:
        return common.bad_request(req, "The recurrence range is not valid.", "ErrorInvalidRequest")
    if rng["type"] == "endDate":
        end = _date(rng.get("endDate"))
        if end is None or end < _date(rng["startDate"]):
            return common.bad_request(req, "The recurrence range end date must not be before its start date.", "ErrorInvalidRequest")
    return None


def update_event(svc, req, match):
    _kind, owner, mbx = events.resolve_owner(svc, req, match, "write")
    if isinstance(mbx, api.Response):
        return mbx
    body = req.body
    if not isinstance(body, dict) or not body:
        return common.bad_request(req, "Empty Payload. JSON content expected.")
    unknown = [k for k in body if not k.startswith("@odata") and k not in MODELLED]
    if unknown:
        return common.bad_request(req, "The emulator models only %s in an event update, not %s." % (", ".join(MODELLED), ", ".join(unknown)))
    with svc.store.lock:
        rec, day = events.locate(mbx, match["event"], match)
        if rec is None or day is not None:
            return common.not_found(req)
        if not rec.data.get("isOrganizer"):
            return common.bad_request(
                req, "Your request can't be completed. You need to be an organizer to update the meeting recurrence.", "ErrorInvalidRequest")
        if "recurrence" in body:
            if rec.data.get("type") != "seriesMaster":
                return common.bad_request(req, "Recurrence can only be changed on a series master.", "ErrorInvalidRequest")
            err = _check_recurrence(req, body["recurrence"])
            if err:
                return err
            rec.data["recurrence"] = common.clone(body["recurrence"])
            _copy_to_attendees(svc, rec)
        recipients = events._recipients(rec)  # pylint: disable=protected-access
        rendered = common.select(events.render(rec, req), req)
        item_id = rec.immutable_id
    for address in recipients:
        svc.runtime.notify("event_updated", item_id, owner["id"], address, "attendee", None)
    return common.ok(rendered)


def _copy_to_attendees(svc, rec):
    """Attendees' copies (same iCalUId) follow the organizer's recurrence."""
    uid = rec.data.get("iCalUId")
    if not uid:
        return
    for mbx in svc.store.mailboxes.values():
        for other in mbx.events.values():
            if other is not rec and other.data.get("iCalUId") == uid and not other.data.get("isOrganizer"):
                other.data["recurrence"] = common.clone(rec.data["recurrence"])
