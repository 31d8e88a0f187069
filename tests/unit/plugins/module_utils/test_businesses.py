# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Staff members and services by name (_businesses.resolve_names, issue 18), as both Bookings
modules use it: booking_appointment_cancel with the prefix "match.", booking_appointment_info with none.

No Graph and no emulator: the client is a stand-in answering get_all() from a dict of paths, and
recording every path it was asked for.
"""

import pytest

from ansible_collections.graphops.msgraph.plugins.module_utils._bookings import Selection
from ansible_collections.graphops.msgraph.plugins.module_utils._businesses import resolve_names
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_errors import InvalidInputError

BUSINESS = "contosoclinic@contoso.example"
STAFF_PATH = "/solutions/bookingBusinesses/contosoclinic%40contoso.example/staffMembers"
SERVICES_PATH = "/solutions/bookingBusinesses/contosoclinic%40contoso.example/services"
STAFF = [{"id": "staff-1", "displayName": "Adele Vance", "emailAddress": "adele.vance@contoso.example", "role": "administrator"},
         {"id": "staff-2", "displayName": "Lynne Robbins", "emailAddress": "Lynne.Robbins@contoso.example", "role": "member"},
         {"id": "staff-3", "displayName": "A guest", "emailAddress": None, "role": "guest"}]
SERVICES = [{"id": "svc-1", "displayName": "Flu vaccination"}, {"id": "svc-2", "displayName": "Follow-up visit"},
            {"id": "svc-3", "displayName": "follow-up visit "}]


class FakeClient:
    def __init__(self):
        self.sent = []

    def get_all(self, path, params=None, outlook=False):
        self.sent.append(path)
        return {STAFF_PATH: STAFF, SERVICES_PATH: SERVICES}[path]


def selection():
    return Selection(BUSINESS, window=("2027-03-01T00:00:00Z", "2027-03-08T00:00:00Z"),
                     filters={"customer_email": None, "service_id": None, "staff_member_id": None})


@pytest.mark.parametrize("prefix", ["match.", ""])
def test_names_become_ids_case_insensitively(prefix):
    client = FakeClient()
    sel = resolve_names(client, selection(), {"staff_email": " lynne.robbins@CONTOSO.example", "service_name": "FLU VACCINATION"},
                        prefix, "no appointment was read")
    assert sel.filters == {"customer_email": None, "service_id": "svc-1", "staff_member_id": "staff-2"}
    assert client.sent == [STAFF_PATH, SERVICES_PATH]


@pytest.mark.parametrize("source,sent,staff_member_id,service_id", [
    (None, [], None, None),
    ({"staff_email": None, "service_name": None}, [], None, None),
    ({"staff_email": "adele.vance@contoso.example", "service_name": None}, [STAFF_PATH], "staff-1", None),
    ({"staff_email": None, "service_name": "Flu vaccination"}, [SERVICES_PATH], None, "svc-1"),
])
def test_reads_only_what_is_named(source, sent, staff_member_id, service_id):
    client = FakeClient()
    sel = resolve_names(client, selection(), source, "", "no appointment was read")
    assert client.sent == sent
    assert sel.filters == {"customer_email": None, "service_id": service_id, "staff_member_id": staff_member_id}


@pytest.mark.parametrize("prefix,outcome", [("match.", "nothing was cancelled"), ("", "no appointment was read")])
@pytest.mark.parametrize("source,option,value", [
    ({"staff_email": "nobody@contoso.example"}, "staff_email", "nobody@contoso.example"),
    ({"service_name": "Dental check"}, "service_name", "Dental check"),
])
def test_unknown_name_fails_naming_the_option_and_what_was_not_done(prefix, outcome, source, option, value):
    with pytest.raises(InvalidInputError) as info:
        resolve_names(FakeClient(), selection(), source, prefix, outcome)
    text = str(info.value)
    assert info.value.option == prefix + option and text.startswith(prefix + option + ": ")
    assert repr(value) in text and BUSINESS in text and text.endswith("; " + outcome), text


def test_ambiguous_name_fails_listing_the_ids():
    with pytest.raises(InvalidInputError) as info:
        resolve_names(FakeClient(), selection(), {"service_name": "follow-up VISIT"}, "", "no appointment was read")
    text = str(info.value)
    assert info.value.option == "service_name" and "2 services named 'follow-up VISIT'" in text
    assert "(ids svc-2, svc-3); give the id instead; no appointment was read" in text, text


@pytest.mark.parametrize("prefix,outcome", [("match.", "nothing was cancelled"), ("", "no appointment was read")])
@pytest.mark.parametrize("source,option", [({"staff_email": ""}, "staff_email"), ({"staff_email": "  "}, "staff_email"),
                                           ({"service_name": ""}, "service_name"),
                                           ({"staff_email": "adele.vance@contoso.example", "service_name": " "}, "service_name")])
def test_blank_name_is_refused_before_any_request(prefix, outcome, source, option):
    """Ignored, a blank name would select every appointment of the window; matched, "  " would find a staff member without an address."""
    client = FakeClient()
    with pytest.raises(InvalidInputError) as info:
        resolve_names(client, selection(), source, prefix, outcome)
    assert info.value.option == prefix + option and str(info.value).startswith(prefix + option + ": a blank value")
    assert str(info.value).endswith("; " + outcome) and client.sent == []
