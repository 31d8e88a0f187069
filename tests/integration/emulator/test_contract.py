# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator speaks the real contract: every route it serves exists in
tests/emulator/contract/graph-subset-<version>.json (or in the allow-list below), with the same action
body parameters, and every property name it sends back exists in the subset's schemas."""

import json
import os

import pytest

import emulator
from emulator.graph import GraphService, routing
from emulator.graph.testing import (ADELE_ID, BUSINESS, GROUP_ID, FakeRuntime, app_principal, fixture_calendar, fixture_calendar_group,
                                    fixture_event, load_fixture, make_request, seg, user_principal)

# The in-repo copy of the contract (tests/emulator/contract/README.md says where it came from).
CONTRACT = os.path.join(os.path.dirname(os.path.abspath(emulator.__file__)), "contract")

# Real Graph routes the emulator serves although the subsets do not carry them, each mapped to
# the subset route whose responses (schema) it shares. The modules need the group reads (the
# event module reads a group event before cancelling it); /events lists are convenience reads.
ALLOW_LIST = {
    # https://learn.microsoft.com/graph/api/group-get-event
    "/groups/{group-id}/events/{event-id}": "/users/{user-id}/events/{event-id}",
    # https://learn.microsoft.com/graph/api/group-list-calendarview
    "/groups/{group-id}/calendarView": "/users/{user-id}/calendarView",
    # https://learn.microsoft.com/graph/api/event-list-instances (group owner)
    "/groups/{group-id}/events/{event-id}/instances": "/users/{user-id}/events/{event-id}/instances",
    # https://learn.microsoft.com/graph/api/user-list-events and group-list-events
    "/me/events": "/me/calendarView",
    "/users/{user-id}/events": "/users/{user-id}/calendarView",
    "/groups/{group-id}/events": "/users/{user-id}/calendarView",
}
WINDOW = {"bookings": "start=2027-03-01T00:00:00Z&end=2027-03-08T00:00:00Z",
          "events": "startDateTime=2027-03-01T00:00:00Z&endDateTime=2027-05-01T00:00:00Z"}


def _load(version):
    path = os.path.join(CONTRACT, "graph-subset-%s.json" % version)
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


@pytest.fixture(scope="module")
def subsets():
    return {v: _load(v) for v in ("v1.0", "beta")}


def served():
    return [(v, r) for r in routing.ROUTES for v in r.versions]


def _subset_template(route):
    return route.template if route.in_subset else ALLOW_LIST[route.template]


def _ref_name(schema):
    for part in [schema] + schema.get("anyOf", []) + schema.get("oneOf", []) + schema.get("allOf", []):
        if "$ref" in part:
            return part["$ref"].rsplit("/", 1)[1]
    return None


def _properties(spec, name):
    """Property schemas of a component schema, following x-base-type and allOf."""
    schema = spec["components"]["schemas"][name]
    props = dict(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        if "$ref" in part:
            props.update(_properties(spec, part["$ref"].rsplit("/", 1)[1])[0])
        props.update(part.get("properties", {}))
    if schema.get("x-base-type"):
        props.update(_properties(spec, schema["x-base-type"])[0])
    return props, schema.get("x-stub", False)


def check_names(spec, name, value, where, problems):
    """Every key of value (recursively) is a property of schema `name` or an @odata annotation."""
    if isinstance(value, list):
        for item in value:
            check_names(spec, name, item, where + "[]", problems)
        return
    if not isinstance(value, dict):
        return
    if "@odata.type" in value:
        name = value["@odata.type"].lstrip("#")
    props, stub = _properties(spec, name)
    if stub:
        return  # referenced but not described by the subset
    for key, sub in value.items():
        if key.startswith("@odata.") and key not in ("@odata.nextLink", "@odata.count"):
            continue
        if key not in props:
            problems.append("%s.%s is not a property of %s" % (where, key, name))
            continue
        target = _ref_name(props[key]) or _ref_name(props[key].get("items", {}))
        if target and sub is not None:
            check_names(spec, target, sub, where + "." + key, problems)


def _operation(spec, template, method):
    return spec["paths"].get(template, {}).get(method.lower())


@pytest.mark.parametrize("version,route", served(), ids=["%s %s %s" % (v, r.method, r.template) for v, r in served()])
def test_route_exists_in_the_subset(subsets, version, route):
    spec = subsets[version]
    if not route.in_subset:
        assert route.template in ALLOW_LIST, "%s is served but neither in the subset nor allow-listed" % route.template
    op = _operation(spec, _subset_template(route), route.method)
    assert op is not None, "%s %s is not in graph-subset-%s.json" % (route.method, _subset_template(route), version)
    if route.in_subset:
        declared = {p["name"] for p in spec["paths"][route.template].get("parameters", []) if p.get("in") == "path"}
        assert declared == {p[1:-1] for p in route.parts if p.startswith("{")}
    body = op.get("requestBody")
    if route.method == "POST":
        params = body["content"]["application/json"]["schema"]["properties"]
        assert sorted(params) == sorted(route.body_params)
    elif route.method == "PATCH":  # an entity update: the body is the entity itself (issue 18)
        assert _ref_name(body["content"]["application/json"]["schema"]) == "microsoft.graph.event"
    else:
        assert body is None and not route.body_params


def test_allow_list_has_no_stale_entries():
    served_templates = {r.template for r in routing.ROUTES if not r.in_subset}
    assert served_templates == set(ALLOW_LIST)


def test_every_cancel_path_of_the_subsets_is_served(subsets):
    for version, spec in subsets.items():
        ours = {r.template for r in routing.ROUTES if version in r.versions and r.method == "POST"}
        theirs = {p for p, ops in spec["paths"].items() if "post" in ops}
        assert theirs == ours, version
        assert set(spec["x-cancel-paths"]["list"]) <= ours


def _sample(route):
    """A concrete URL and principal for a GET route, using seeded ids."""
    appt = load_fixture()["bookingBusinesses"][0]["appointments"][0]["id"]
    event = fixture_event("Clinic team huddle", GROUP_ID)["id"] if "groups" in route.template \
        else fixture_event("Weekly team sync")["id"]
    values = {"bookingBusiness-id": BUSINESS, "bookingAppointment-id": appt, "user-id": ADELE_ID, "group-id": GROUP_ID, "event-id": event}
    url = route.template
    for name, value in values.items():
        url = url.replace("{%s}" % name, seg(value))
    if route.template.endswith(("calendarView", "instances")):
        url += "?" + WINDOW[route.area]
    # /me and group calendars take a delegated token only (RULES.md); Adele is a member of the group.
    return url, user_principal() if route.template.startswith(("/me", "/groups")) else app_principal()


@pytest.mark.parametrize("version,route", [(v, r) for v, r in served() if r.method == "GET"],
                         ids=["%s GET %s" % (v, r.template) for v, r in served() if r.method == "GET"])
def test_response_property_names_are_the_subsets(subsets, version, route):
    spec = subsets[version]
    svc = GraphService(FakeRuntime())
    svc.load(load_fixture())
    url, principal = _sample(route)
    for headers in ({}, {"Prefer": 'IdType="ImmutableId"'}):
        resp = svc.handle(make_request("GET", url, principal, headers=headers, version=version))
        assert resp.status == 200, resp.body
        schema = spec["paths"][_subset_template(route)]["get"]["responses"]["2XX"]
        name = _ref_name(schema) or _ref_name(schema.get("content", {}).get("application/json", {}).get("schema", {}))
        if name is None:  # a components/responses reference
            ref = schema["$ref"].rsplit("/", 1)[1]
            name = _ref_name(spec["components"]["responses"][ref]["content"]["application/json"]["schema"])
        problems = []
        check_names(spec, name, resp.body, route.template, problems)
        assert not problems, problems
        if "value" in resp.body:
            assert resp.body["value"], "sample returned nothing to check"


@pytest.mark.parametrize("version", ["v1.0", "beta"])
def test_seed_objects_use_subset_names(subsets, version):
    spec, fixture, problems = subsets[version], load_fixture(), []
    for appt in fixture["bookingBusinesses"][0]["appointments"]:
        if version == "beta":  # stored in the v1.0 shape, rendered as beta (start/end)
            appt = dict(appt, start=appt["startDateTime"], end=appt["endDateTime"])
            del appt["startDateTime"], appt["endDateTime"]
        check_names(spec, "microsoft.graph.bookingAppointment", appt, "appointment", problems)
    emulator_only = {"calendarId", "immutableId", "parentFolder"}
    for mbx in fixture["mailboxes"]:
        for event in mbx["events"]:
            check_names(spec, "microsoft.graph.event", {k: v for k, v in event.items() if k not in emulator_only}, "event", problems)
    assert not problems, problems


def test_error_body_matches_odata_error(subsets):
    svc = GraphService(FakeRuntime())
    svc.load(load_fixture())
    resp = svc.handle(make_request("GET", "/me/events/AAMkADnope0000000000000000000000000000000000=", user_principal()))
    problems = []
    check_names(subsets["v1.0"], "microsoft.graph.ODataErrors.ODataError", resp.body, "error", problems)
    assert not problems, problems


def test_cancel_statuses_match_the_docs(subsets):
    """Each cancel path answers the status the REST docs give (x-docs-success-status, else the OpenAPI 204)."""
    proj, rota = fixture_calendar("Projects")["id"], fixture_calendar("On-call rota")["id"]
    clinic = fixture_calendar_group("Clinic rotas")["id"]
    for version, spec in subsets.items():
        for route in [r for r in routing.ROUTES if version in r.versions and r.method == "POST"]:
            svc = GraphService(FakeRuntime())
            svc.load(load_fixture())
            owner = GROUP_ID if "groups" in route.template else ADELE_ID
            subject = {"calendars": "Project Falcon kickoff", "calendarGroups": "On-call handover"}.get(
                route.extra.get("container"), "Clinic team offsite planning" if owner == GROUP_ID else "Focus time")
            event = fixture_event(subject, owner)["id"]
            appt = load_fixture()["bookingBusinesses"][0]["appointments"][0]["id"]
            url = route.template
            for name, value in {"bookingBusiness-id": BUSINESS, "bookingAppointment-id": appt, "user-id": ADELE_ID, "group-id": GROUP_ID,
                                "event-id": event, "calendar-id": rota if "calendarGroups" in url else proj,
                                "calendarGroup-id": clinic}.items():
                url = url.replace("{%s}" % name, seg(value))
            body = {route.body_params[0]: "contract"}
            principal = user_principal() if url.startswith(("/me", "/groups")) else app_principal()
            resp = svc.handle(make_request("POST", url, principal, body, version=version))
            op = spec["paths"][route.template]["post"]
            assert resp.status == op.get("x-docs-success-status", 204), (version, url, resp.body)
