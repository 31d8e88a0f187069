# Copyright (c) graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""What was reviewed is what runs (issue 17): approved_ids, the max_items guard, the one wording of
the cancel modules' msg, and ids Graph calls malformed reported against the option that gave them.

Shared by booking_appointment_cancel and calendar_event_cancel; nothing here imports Ansible or
talks to Graph.
"""

from __future__ import annotations

from ansible_collections.graphops.msgraph.plugins.module_utils._graph_errors import InvalidInputError
from ansible_collections.graphops.msgraph.plugins.module_utils._ids import validate_id

MALFORMED_CODE = "ErrorInvalidIdMalformed"


def approval_list(values):
    """approved_ids checked before any request: None (no approval step) or a set of ids (may be empty)."""
    if values is None:
        return None
    for value in values:
        validate_id(value, "approved_ids")
    return set(values)


def check_max_items(max_items):
    if max_items is not None and max_items < 1:
        raise InvalidInputError("max_items must be at least 1", option="max_items")


def split_approved(items, approved, ids_of):
    """(approved items, unapproved items) keeping order; ids_of(item) gives every id an item is known by.

    approved None means no approval step: everything selected is approved.
    """
    if approved is None:
        return list(items), []
    keep, left = [], []
    for item in items:
        (keep if any(i in approved for i in ids_of(item) if i) else left).append(item)
    return keep, left


def unapproved_warning(noun, ids):
    return ("%d selected %s not in approved_ids: left alone, nothing was sent for them (%s). They were not in the "
            "review this run was approved from; review them and approve them in another run if they must go."
            % (len(ids), plural(len(ids), noun), ", ".join(ids)))


def too_many(count, max_items, noun):
    """The failure text when the selection holds more than max_items items, else None."""
    if max_items is None or count <= max_items:
        return None
    return ("Nothing sent: the selection holds %d %s, more than max_items %d. Narrow the selection, or raise max_items "
            "after checking the selection with check mode." % (count, plural(count, noun), max_items))


def plural(count, noun):
    return noun if count == 1 else noun + "s"


def summary_msg(check_mode, noun, cancelled, already, failed, unapproved=0, skipped=0):
    """The one wording of both cancel modules: 'Cancelled 3 events; 1 already cancelled; 0 failed.'"""
    verb = "Would cancel" if check_mode else "Cancelled"
    parts = ["%s %d %s" % (verb, cancelled, plural(cancelled, noun)), "%d already cancelled" % already, "%d failed" % failed]
    if unapproved:
        parts.append("%d not approved" % unapproved)
    if skipped:
        parts.append("%d skipped (not the organizer)" % skipped)
    return "; ".join(parts) + "."


def found_msg(count, noun):
    """The msg of the _info modules."""
    return "Found %d %s." % (count, plural(count, noun))


def is_malformed(error):
    return getattr(error, "status", None) == 400 and getattr(error, "code", None) == MALFORMED_CODE


def malformed_text(item_id, option):
    return ("%s: %s is not an id Graph knows the form of (HTTP 400 %s): check the value; nothing was cancelled for it"
            % (option, item_id, MALFORMED_CODE))


def malformed_input(error, item_id, option):
    """An InvalidInputError naming option and the id for a 400 ErrorInvalidIdMalformed, else None."""
    if not is_malformed(error):
        return None
    return InvalidInputError(malformed_text(item_id, option), option=option.split(" ")[0])
