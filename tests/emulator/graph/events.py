# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Outlook calendar events of user and group mailboxes: get, list, calendarView, instances, cancel."""


from emulator import api
from emulator.graph import common, ids
from emulator.graph import recurrence as rec_mod
from emulator.graph.permissions import has_permission, may_touch_mailbox

DEFAULT_PAGE = 10  # Outlook's documented default page size for events and calendarView
# Parameters of the cancel action: the metadata declares "Comment"; matched case-insensitively, so the
# docs table's "comment" works too (see common.action_body). Checked by test_contract.py.
CANCEL_PARAMS = ["Comment"]
WINDOW_MESSAGE = "This request requires a time window specified by the query string parameters StartDateTime and EndDateTime."


def resolve_owner(svc, req, match, access):
    """(kind, owner dict, mailbox) for the route's owner, or (None, None, error Response)."""
    principal = req.principal
    if match["owner_kind"] == "me":
        if principal is None or principal.kind != "user":
            # NOTES: "/me works only with a delegated (user) token".
            return None, None, common.bad_request(req, "/me request is only valid with delegated authentication flow.")
        kind, owner = "user", svc.store.resolve_user(principal.user_id or principal.upn or "")
    elif match["owner_kind"] == "users":
        kind, owner = "user", svc.store.resolve_user(match["owner"])
    else:
        kind, owner = "group", svc.store.resolve_group(match["owner"])
    # Group calendars take delegated Group.Read.All / Group.ReadWrite.All only; an app-only token
    # is refused whatever its roles (RULES.md, "Who may call what"). Checked before the group is
    # looked up: Graph refuses the token, not the group.
    if not has_permission(principal, "group_events" if kind == "group" else "events", access):
        return None, None, common.access_denied(req)
    if owner is None:
        if kind == "user":
            return None, None, common.not_found(req, "ErrorInvalidUser", "The requested user '%s' is invalid." % match.get("owner", ""))
        return None, None, common.not_found(
            req, "Request_ResourceNotFound",
            "Resource '%s' does not exist or one of its queried reference-property objects are not present." % match["owner"])
    if not may_touch_mailbox(principal, svc.store, kind, owner):
        return None, None, common.access_denied(req)
    # Every id in the path (event, calendar, calendar group) must look like an Exchange id.
    malformed = ids.first_malformed(req, match, ("calendarGroup", "calendar", "event"))
    if malformed is not None:
        return None, None, malformed
    return kind, owner, svc.store.mailbox(owner["id"], kind)


def _in_container(mbx, rec, match):
    """Whether the path's container (calendar, calendars/{id}, calendarGroups/{id}/calendars/{id}) holds rec."""
    container = match.get("container", "events")
    if container == "events":
        return True  # /events/{id} addresses any event item of the mailbox, whatever its folder
    if rec.folder != "calendar":
        return False
    if container == "calendar":
        return rec.calendar_id == mbx.default_calendar_id
    cal = mbx.calendars.get(match["calendar"])
    if cal is None or rec.calendar_id != cal["id"]:
        return False
    if container == "calendarGroups":
        return match["calendarGroup"] in mbx.calendar_groups and cal.get("calendarGroupId") == match["calendarGroup"]
    return True


def locate(mbx, event_id, match):
    """(record, occurrence date or None) addressed by the path, or (None, None)."""
    rec = mbx.find(event_id)
    day = None
    if rec is None:
        parsed = rec_mod.parse_occurrence_id(event_id)
        if parsed is None:
            return None, None
        rec, day = mbx.find(parsed[0]), parsed[1]
        if rec is None or rec.data.get("type") != "seriesMaster" or not rec_mod.is_live_occurrence(rec, day):
            return None, None
    if not _in_container(mbx, rec, match):
        return None, None
    return rec, day


def render(rec, req, day=None, occ_times=None, memo=None):
    """The event (or its occurrence on `day`) as Graph answers it; callers still apply common.select.

    Stored properties $select drops are not copied. `memo`, a dict shared by the renders of one
    answer, copies each event's stored properties once however many of its occurrences the answer
    holds (a calendarView page of weekly series renders the same master hundreds of times)."""
    immutable = req.wants_immutable_ids()
    master_id = rec.immutable_id if immutable else rec.default_id
    base = memo.get(rec.immutable_id) if memo is not None else None
    if base is None:
        base = _render_stored(rec, req, master_id)
        if memo is not None:
            memo[rec.immutable_id] = base
    out = dict(base)
    if day is not None:
        start, end = occ_times or rec_mod.occurrence_times(rec, day)
        out.update({
            "id": rec_mod.occurrence_id(master_id, day, immutable), "type": "occurrence", "seriesMasterId": master_id,
            "recurrence": None, "cancelledOccurrences": [], "originalStart": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "start": common.outlook_dtz(start), "end": common.outlook_dtz(end),
        })
    return out


def _render_stored(rec, req, master_id):
    wanted = common.selected(req)
    out = {k: common.clone(v) for k, v in rec.data.items()
           if not k.startswith("_") and (wanted is None or k.lower() in wanted or k.startswith("@odata"))}  # as common.select
    out["id"] = master_id
    out["start"] = common.outlook_dtz(common.dtz_to_utc(rec.data["start"]))
    out["end"] = common.outlook_dtz(common.dtz_to_utc(rec.data["end"]))
    if out.get("type") == "seriesMaster":
        out["cancelledOccurrences"] = ["OID.%s.%s" % (master_id, d) for d in rec.data["_cancelledDates"]]
    else:
        out["cancelledOccurrences"] = []
    return out


def _renderer(rec, req, memo, day=None, occ_times=None):
    return lambda: render(rec, req, day, occ_times, memo)


def _window(req):
    start, end = req.query.get("startDateTime"), req.query.get("endDateTime")
    if not start or not end:
        return None, None, common.bad_request(req, WINDOW_MESSAGE, "ErrorInvalidParameter")
    win_start, win_end = common.parse_time(start), common.parse_time(end)
    if win_start is None or win_end is None:
        return None, None, common.bad_request(req, "The value of StartDateTime or EndDateTime is not a valid date-time.", "ErrorInvalidParameter")
    return win_start, win_end, None


def get_event(svc, req, match):
    _kind, _owner, mbx = resolve_owner(svc, req, match, "read")
    if isinstance(mbx, api.Response):
        return mbx
    with svc.store.lock:
        rec, day = locate(mbx, match["event"], match)
        if rec is None:
            return common.not_found(req)
        return common.ok(common.select(render(rec, req, day), req))


def list_events(svc, req, match):
    """GET {owner}/events: single instances and series masters of the default calendar."""
    _kind, _owner, mbx = resolve_owner(svc, req, match, "read")
    if isinstance(mbx, api.Response):
        return mbx
    with svc.store.lock:
        cal_id = mbx.default_calendar_id
        items = [render(r, req) for r in mbx.events.values() if r.folder == "calendar" and r.calendar_id == cal_id]
    body, err = common.page(req, svc.runtime, items, DEFAULT_PAGE)
    return err or common.ok(body)


def calendar_view(svc, req, match):
    """Occurrences, exceptions and single instances of the default calendar in a window."""
    _kind, _owner, mbx = resolve_owner(svc, req, match, "read")
    if isinstance(mbx, api.Response):
        return mbx
    win_start, win_end, err = _window(req)
    if err:
        return err
    rows, memo = [], {}
    with svc.store.lock:
        cal_id = mbx.default_calendar_id
        for rec in mbx.events.values():
            if rec.folder != "calendar" or rec.calendar_id != cal_id:
                continue
            # Rendered lazily (common.page renders the page it answers only): a year of weekly series
            # is thousands of rows, and the emulator's own CPU is not part of the latency model.
            if rec.data.get("type") == "seriesMaster":
                rows.extend((start, _renderer(rec, req, memo, day, (start, end)))
                            for day, start, end in rec_mod.live_occurrences(rec, win_start, win_end))
            else:
                start, end = common.dtz_to_utc(rec.data["start"]), common.dtz_to_utc(rec.data["end"])
                if common.overlaps(start, end, win_start, win_end):
                    rows.append((start, _renderer(rec, req, memo)))
        rows.sort(key=lambda row: row[0])
        body, err = common.page(req, svc.runtime, [row[1] for row in rows], DEFAULT_PAGE)
    return err or common.ok(body)


def instances(svc, req, match):
    _kind, _owner, mbx = resolve_owner(svc, req, match, "read")
    if isinstance(mbx, api.Response):
        return mbx
    win_start, win_end, err = _window(req)
    if err:
        return err
    with svc.store.lock:
        rec, day = locate(mbx, match["event"], match)
        if rec is None or day is not None:
            return common.not_found(req)
        items = []
        if rec.data.get("type") == "seriesMaster":
            # A cancelled series (or one in Deleted Items) has no live occurrences left.
            memo = {}
            items = [render(rec, req, d, (s, e), memo) for d, s, e in rec_mod.live_occurrences(rec, win_start, win_end)]
    body, err = common.page(req, svc.runtime, items, DEFAULT_PAGE)
    return err or common.ok(body)


def _recipients(rec):
    organizer = ((rec.data.get("organizer") or {}).get("emailAddress") or {}).get("address", "").lower()
    seen, out = set(), []
    for attendee in rec.data.get("attendees") or []:
        address = ((attendee.get("emailAddress") or {}).get("address") or "")
        if address and address.lower() != organizer and address.lower() not in seen:
            seen.add(address.lower())
            out.append(address)
    return out


def _propagate_to_attendee_copies(svc, rec, day):
    """Attendees' copies of the meeting (same iCalUId) read back as cancelled, in their calendar."""
    uid = rec.data.get("iCalUId")
    if not uid:
        return
    for mbx in svc.store.mailboxes.values():
        for other in mbx.events.values():
            if other is rec or other.data.get("iCalUId") != uid or other.data.get("isOrganizer"):
                continue
            if day is None:
                other.data["isCancelled"] = True
            elif day.isoformat() not in other.data["_cancelledDates"]:
                other.data["_cancelledDates"].append(day.isoformat())


def cancel_event(svc, req, match):
    _kind, owner, mbx = resolve_owner(svc, req, match, "write")
    if isinstance(mbx, api.Response):
        return mbx
    params, err = common.action_body(req, CANCEL_PARAMS)
    if err:
        return err
    with svc.store.lock:
        rec, day = locate(mbx, match["event"], match)
        if rec is None:
            return common.not_found(req)
        if not rec.data.get("isOrganizer"):
            return common.bad_request(
                req, "Your request can't be completed. You need to be an organizer to cancel a meeting.", "ErrorInvalidRequest")
        if day is not None:
            # One occurrence: it leaves the series (and instances); the master stays in place.
            rec.data["_cancelledDates"].append(day.isoformat())
            item_id = rec_mod.occurrence_id(rec.immutable_id, day, True)
        else:
            # A single event or a whole series: the organizer's copy moves to Deleted Items. An item
            # already there (reached by its immutable id) is cancelled again and its attendees are
            # notified again: the pessimistic reading, which makes duplicate sends visible.
            rec.data["isCancelled"] = True
            if rec.folder != "deleteditems":
                mbx.move_to_deleted_items(rec)
            item_id = rec.immutable_id
        _propagate_to_attendee_copies(svc, rec, day)
        recipients = _recipients(rec)
    for address in recipients:
        svc.runtime.notify("event_cancelled", item_id, owner["id"], address, "attendee", params.get("Comment"))
    return api.Response(status=202)
