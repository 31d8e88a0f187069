# Copyright (c) graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The permission table and token claims (_permissions), approval, size guard and msg wording (_review)."""

import base64
import json
import os
import re

import pytest

from ansible_collections.graphops.msgraph.plugins.module_utils import _permissions as permissions
from ansible_collections.graphops.msgraph.plugins.module_utils import _review as review
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_errors import GraphForbidden, InvalidInputError, graph_error_from

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))


def jwt(claims):
    def part(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    return "%s.%s.sig" % (part({"alg": "RS256"}), part(claims))


def test_the_table_is_the_one_the_emulator_enforces():
    """RULES.md R3 is the emulator's permission table: ours must be the same, row by row."""
    with open(os.path.join(REPO, "tests", "emulator", "contract", "RULES.md"), encoding="utf-8") as handle:
        text = handle.read()
    rows = re.findall(r"^\| (bookings|events|group_events) \| (read|write) \| ([^|]+) \| ([^|]+) \|$", text, re.M)
    assert len(rows) == len(permissions.PERMISSIONS)
    for area, access, delegated, application in rows:
        names = [n.strip() for n in delegated.split(",")], [n.strip() for n in application.split(",") if n.strip() != "-"]
        assert permissions.PERMISSIONS[(area, access)] == (tuple(names[0]), tuple(names[1])), (area, access)


@pytest.mark.parametrize("claims, missing", [
    ({"roles": ["Bookings.Read.All"]}, True),
    ({"roles": ["Bookings.ReadWrite.All"]}, False),
    ({"roles": ["Bookings.Manage.All", "Calendars.Read"]}, False),
    ({"scp": "openid BookingsAppointment.ReadWrite.All"}, False),
    ({"scp": "Bookings.Read.All"}, True),
    ({"idtyp": "app"}, True),  # no roles at all
])
def test_missing_message_for_appointment_cancel(claims, missing):
    text = permissions.missing_message("bookings", "write", jwt(claims))
    assert bool(text) is missing
    if missing:
        for name in ("Bookings.ReadWrite.All", "BookingsAppointment.ReadWrite.All", "Bookings.Manage.All"):
            assert name in text


@pytest.mark.parametrize("token", ["opaque", "a.b", "x.!!!.y", jwt(["not", "a", "dict"])])
def test_opaque_tokens_are_not_checked(token):
    assert permissions.token_claims(token) is None
    assert permissions.missing_message("events", "write", token) is None


def test_group_events_name_a_delegated_token():
    text = permissions.missing_message("group_events", "write", jwt({"roles": ["Calendars.ReadWrite"]}))
    assert "delegated" in text and "Group.ReadWrite.All" in text
    with pytest.raises(InvalidInputError, match="Group.Read.All"):
        permissions.refuse_app_only_group(True, lambda: False, "read")
    permissions.refuse_app_only_group(True, lambda: True, "write")
    permissions.refuse_app_only_group(False, lambda: False, "write")


def test_a_403_gets_the_permissions_once():
    error = graph_error_from(403, {"error": {"code": "ErrorAccessDenied", "message": "Access is denied."}})
    assert isinstance(error, GraphForbidden)
    permissions.annotate_forbidden(error, "events", "write", False)
    permissions.annotate_forbidden(error, "events", "write", False)
    assert str(error).count("Calendars.ReadWrite (application)") == 1
    assert "Calendars.ReadWrite" in error.to_dict()["note"]
    other = graph_error_from(404, {})
    assert permissions.annotate_forbidden(other, "events", "write").note is None


def test_split_approved_keeps_order_and_matches_any_known_id():
    items = [("a", "A"), ("b", "B"), ("c", "C")]
    assert review.split_approved(items, None, lambda i: i) == (items, [])
    assert review.split_approved(items, {"B", "c"}, lambda i: i) == ([("b", "B"), ("c", "C")], [("a", "A")])
    assert review.split_approved(items, set(), lambda i: i) == ([], items)


def test_approval_list_and_max_items_are_checked_before_any_request():
    assert review.approval_list(None) is None and review.approval_list([]) == set()
    with pytest.raises(InvalidInputError, match="approved_ids"):
        review.approval_list(["ok", "a/b"])
    with pytest.raises(InvalidInputError, match="max_items"):
        review.check_max_items(0)
    assert review.too_many(3, None, "event") is None and review.too_many(3, 3, "event") is None
    assert "holds 4 events, more than max_items 3" in review.too_many(4, 3, "event")


def test_msg_wording():
    assert review.summary_msg(False, "event", 3, 1, 0) == "Cancelled 3 events; 1 already cancelled; 0 failed."
    assert review.summary_msg(True, "appointment", 1, 0, 0) == "Would cancel 1 appointment; 0 already cancelled; 0 failed."
    assert review.summary_msg(False, "event", 0, 0, 1, unapproved=2, skipped=1) == (
        "Cancelled 0 events; 0 already cancelled; 1 failed; 2 not approved; 1 skipped (not the organizer).")
    assert review.found_msg(1, "event") == "Found 1 event."


def test_malformed_ids_name_the_option():
    error = graph_error_from(400, {"error": {"code": "ErrorInvalidIdMalformed", "message": "Id is malformed."}})
    exc = review.malformed_input(error, "AAMk123", "event_id")
    assert isinstance(exc, InvalidInputError) and exc.option == "event_id" and "AAMk123" in str(exc)
    assert review.malformed_input(graph_error_from(404, {}), "x", "event_id") is None
