# Copyright (c) graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Graph ids as path segments.

An id reaches Graph only through build_path(): each value becomes exactly one percent-encoded
path segment, so an id holding "/", "..", "?" or "#" can never address another resource.
"""

from __future__ import annotations

import re
import string
import unicodedata

from urllib.parse import quote

from ansible_collections.graphops.msgraph.plugins.module_utils._graph_errors import InvalidInputError

MAX_ID_LENGTH = 1024
# Each id costs one read and one cancel, and Outlook allows an app 10,000 requests per mailbox in
# 10 minutes (https://learn.microsoft.com/graph/throttling-limits#outlook-service-limits): a longer
# list could not finish without being throttled for minutes, and is far more likely a wrong variable.
MAX_IDS = 5000
_FORBIDDEN_CHARS = frozenset("/\\?#%")
# Categories no id, user name or business name can hold: controls (C0, DEL and C1, such as U+0085
# and U+009B), format characters (bidi overrides such as U+202E, zero-width U+200B) and the line and
# paragraph separators U+2028/U+2029. Invisible in a terminal or a spreadsheet, they make a value
# look like another one (issue 16): refused, never sent.
_REFUSED_CATEGORIES = {"Cc": "a control character", "Cf": "a format character (invisible or bidirectional)",
                       "Zl": "a line separator", "Zp": "a paragraph separator"}
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _require_text(value, option):
    if not isinstance(value, str):
        raise InvalidInputError("{0} must be a string".format(option), option=option)
    if not value.strip():
        raise InvalidInputError("{0} must not be empty or blank".format(option), option=option)
    return value


def validate_id(value, option):
    """Return value when it is a plausible Graph id, else raise InvalidInputError naming option.

    Stricter than build_path(): real Graph, Outlook and Bookings ids never hold these characters,
    so a value that does is a typo or a templating accident that should fail before any request.
    """
    _require_text(value, option)
    if value != value.strip():
        raise InvalidInputError("{0} must not start or end with blanks".format(option), option=option)
    for position, char in enumerate(value):
        what = _REFUSED_CATEGORIES.get(unicodedata.category(char))
        if what:
            raise InvalidInputError("{0} must not contain control characters: U+{1:04X}, {2}, at position {3}".format(
                option, ord(char), what, position + 1), option=option)
    bad = sorted(set(value) & _FORBIDDEN_CHARS)
    if bad:
        raise InvalidInputError(
            "{0} must not contain any of {1}".format(option, " ".join(repr(c) for c in bad)), option=option)
    if value in (".", ".."):
        raise InvalidInputError("{0} must not be '.' or '..'".format(option), option=option)
    if len(value) > MAX_ID_LENGTH:
        raise InvalidInputError("{0} is longer than {1} characters".format(option, MAX_ID_LENGTH), option=option)
    return value


def validate_id_list(values, option):
    """The ids of a list option, each validate_id()'d, repeats dropped (first kept, order kept).

    Refuses an empty list and a list of more than MAX_IDS different ids, naming option.
    """
    if not values:
        raise InvalidInputError("{0} must list at least one id".format(option), option=option)
    seen = set()
    unique = []
    for value in values:
        validate_id(value, option)
        if value not in seen:
            seen.add(value)
            unique.append(value)
    if len(unique) > MAX_IDS:
        raise InvalidInputError(
            "{0} lists {1} different ids; one task takes at most {2} (each costs a read and a cancel, and Outlook "
            "allows 10,000 requests per mailbox in 10 minutes): split the list over several tasks".format(
                option, len(unique), MAX_IDS), option=option)
    return unique


def encode_segment(value, option="id"):
    """Percent-encode value as exactly one path segment (refusing an empty or blank value)."""
    _require_text(value, option)
    if value in (".", ".."):
        # No encoding survives: requests unquotes %2E (an unreserved character) and urllib3 then
        # collapses the dot segment, which would address the parent resource.
        raise InvalidInputError("{0} must not be '.' or '..'".format(option), option=option)
    return quote(value, safe="")  # safe="": "/" is encoded too


def build_path(template, **ids):
    """Fill every {name} of template with ids[name], each encoded as exactly one segment.

    >>> build_path("/users/{user}/events/{event_id}/cancel", user="a@b", event_id="AA/B==")
    '/users/a%40b/events/AA%2FB%3D%3D/cancel'
    """
    names = _PLACEHOLDER.findall(template)
    missing = [n for n in names if n not in ids]
    extra = sorted(set(ids) - set(names))
    if missing or extra:
        raise ValueError("build_path: template {0!r} needs {1}, got {2}".format(template, names, sorted(ids)))
    leftover = _PLACEHOLDER.sub("", template)
    if not template.startswith("/") or set(leftover) & set("{}?#%" + string.whitespace):
        raise ValueError("build_path: malformed template {0!r}".format(template))
    return _PLACEHOLDER.sub(lambda m: encode_segment(ids[m.group(1)], m.group(1)), template)
