# Copyright (c) graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Which Graph permissions each action needs, known before the first write (issue 17, point 3).

The one permission table of the collection: the module docs, the pre-flight check and the hint
added to every 403 all read it. It is NOTES.md "Who may call what" (and the emulator's RULES.md R3).
The token's claims are read from its payload only, without checking the signature: they decide
nothing about security (Graph does that), they only let a task fail before it notifies anyone.
"""

from __future__ import annotations

import base64
import binascii
import json

from ansible_collections.graphops.msgraph.plugins.module_utils._graph_errors import InvalidInputError

# (area, access) -> (delegated permissions in scp, application permissions in roles); any one will do.
# https://learn.microsoft.com/graph/api/bookingappointment-cancel, .../event-cancel, .../group-list-events
PERMISSIONS = {
    ("bookings", "read"): (("Bookings.Read.All", "BookingsAppointment.ReadWrite.All", "Bookings.ReadWrite.All",
                            "Bookings.Manage.All"),
                           ("Bookings.Read.All", "Bookings.ReadWrite.All", "Bookings.Manage.All")),
    ("bookings", "write"): (("BookingsAppointment.ReadWrite.All", "Bookings.ReadWrite.All", "Bookings.Manage.All"),
                            ("Bookings.ReadWrite.All", "Bookings.Manage.All")),
    ("events", "read"): (("Calendars.ReadBasic", "Calendars.Read", "Calendars.ReadWrite"),
                         ("Calendars.ReadBasic", "Calendars.Read", "Calendars.ReadWrite")),
    ("events", "write"): (("Calendars.ReadWrite",), ("Calendars.ReadWrite",)),
    # Group calendars: delegated only; application permissions are not supported.
    ("group_events", "read"): (("Group.Read.All", "Group.ReadWrite.All"), ()),
    ("group_events", "write"): (("Group.ReadWrite.All",), ()),
}

OPAQUE_NOTE = ("The access token is not a JWT whose claims can be read, so its permissions were not checked "
               "before the first request; Graph decides.")


def needed(area, access, delegated=None):
    """The permissions that would do: delegated, application, or (delegated None) both without repeats."""
    scopes, roles = PERMISSIONS[(area, access)]
    if delegated is True:
        return list(scopes)
    if delegated is False:
        return list(roles)
    return list(scopes) + [r for r in roles if r not in scopes]


def describe_needed(area, access, delegated=None):
    """Every permission that would do, those of the token's kind first, for messages:
    'Bookings.ReadWrite.All or Bookings.Manage.All (application); a delegated token: BookingsAppointment.ReadWrite.All, ...'
    """
    scopes, roles = PERMISSIONS[(area, access)]
    app = "%s (application)" % " or ".join(roles) if roles else None
    user = "%s (delegated)" % " or ".join(scopes)
    if not roles:
        return "a delegated (user) token with %s" % " or ".join(scopes)
    if delegated is True:
        return "%s; with an application token %s" % (user, app)
    if delegated is False:
        return "%s; with a delegated token %s" % (app, user)
    return "%s; %s" % (app, user)


def token_claims(token):
    """The claims of a JWT access token (payload only, signature not checked), or None for an opaque token."""
    if not isinstance(token, str) or token.count(".") != 2:
        return None
    try:
        payload = token.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")).decode("utf-8"))
    except (ValueError, UnicodeError, binascii.Error):
        return None
    return claims if isinstance(claims, dict) else None


def granted(claims):
    """(delegated, [permissions]) from the claims: scp (space-separated) for a user, roles for an app."""
    if "scp" in claims:
        scp = claims.get("scp")
        return True, scp.split() if isinstance(scp, str) else []
    roles = claims.get("roles")
    return False, [r for r in roles if isinstance(r, str)] if isinstance(roles, list) else []


def missing_message(area, access, token):
    """None when the token carries a permission of (area, access) or can not be read; else the failure text."""
    claims = token_claims(token)
    if claims is None:
        return None
    delegated, have = granted(claims)
    wanted = needed(area, access, delegated)
    if set(wanted) & set(have):
        return None
    kind = "delegated token (scp)" if delegated else "application token (roles)"
    return ("Nothing sent: the %s carries none of the permissions this task needs: it needs %s, and has %s"
            % (kind, describe_needed(area, access, delegated), ", ".join(sorted(have)) or "none"))


def forbidden_note(area, access, delegated=None):
    """What a 403 from Graph is told: the permissions this action needs."""
    return "this task needs %s" % describe_needed(area, access, delegated)


def annotate_forbidden(error, area, access, delegated=None):
    """Add the needed permissions to a 403 GraphError (its note shows in str() and to_dict()); returns error."""
    if getattr(error, "status", None) == 403 and hasattr(error, "note"):
        note = forbidden_note(area, access, delegated)
        if note not in (error.note or ""):
            error.note = "; ".join(n for n in (error.note, note) if n)
    return error


def refuse_app_only_group(is_group, is_delegated, access):
    """Group calendars are delegated only (NOTES): refuse an app-only credential before any request."""
    if is_group and not is_delegated():
        raise InvalidInputError(
            "group_id: group calendars take only a delegated (user) token, and these credentials give an application "
            "token, which Graph refuses with 403: use a delegated credential (auth_method password, or an access_token "
            "of a user) with %s" % " or ".join(needed("group_events", access, True)), option="group_id")
