# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which strings Graph takes as an item id (tests/emulator/contract/RULES.md, "Malformed ids").

Outlook and Bookings item ids (events, occurrences, calendars, calendar groups, booking
appointments) are Exchange ids in Graph's REST format: URL-safe base64 (``A-Z a-z 0-9 - _``,
with ``=`` only as trailing padding), and long: real ones run to about 150 characters, the
seeded ones 44 to 52. A string outside that shape gets ``400 ErrorInvalidIdMalformed`` ("Id is
malformed."), a well-formed id of nothing ``404 ErrorItemNotFound``. Microsoft documents no
minimum length; 40 is the pessimistic reading that every seeded id and every id Graph mints
still meets, so a typo or a placeholder ("123", "AAMk...") never reads as "already absent".
"""

import re

from emulator.graph import common

MIN_LENGTH = 40
_SHAPE = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")


def well_formed(value):
    return isinstance(value, str) and len(value) >= MIN_LENGTH and _SHAPE.match(value) is not None


def malformed(req):
    return common.bad_request(req, "Id is malformed.", "ErrorInvalidIdMalformed")


def first_malformed(req, match, keys):
    """The 400 for the first of match[keys] that is not a well-formed id, else None."""
    for key in keys:
        if key in match and not well_formed(match[key]):
            return malformed(req)
    return None
