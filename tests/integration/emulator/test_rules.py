# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator holds to tests/emulator/contract/RULES.md: each rule there names its tests here.

In-process tests (GraphService with a FakeRuntime) cover every route; tests over HTTPS with real
MSAL cover what a client sees (tokens, tenants, scopes, headers).
"""

import ast
import datetime
import itertools
import os
import re
import uuid

import jwt
import msal
import pytest

import emulator
from emulator.graph import GraphService, ids, permissions, routing
from emulator.graph.recurrence import occurrence_id
from emulator.graph.store import derive_immutable_id
from emulator.graph.testing import (ADELE, ADELE_ID, BUSINESS, GROUP_ID, MEGAN, FakeRuntime, app_principal, fixture_calendar,
                                    fixture_calendar_group, fixture_event, load_fixture, make_request, seg, user_principal)

CONTRACT = os.path.join(os.path.dirname(os.path.abspath(emulator.__file__)), "contract")
RULES_MD = os.path.join(CONTRACT, "RULES.md")
ROPC_WARNING = pytest.mark.filterwarnings("ignore:This API has been deprecated for public client flows")
DENIED = ("ErrorAccessDenied", "Access is denied. Check credentials and try again.")
WINDOW = {"bookings": "start=2027-03-01T00:00:00Z&end=2027-03-08T00:00:00Z",
          "events": "startDateTime=2027-03-01T00:00:00Z&endDateTime=2027-05-01T00:00:00Z"}
EVERY_SCOPE = sorted(set().union(*(d for d, _a in permissions.RULES.values())))
EVERY_ROLE = sorted(set().union(*(a for _d, a in permissions.RULES.values())))


@pytest.fixture
def svc():
    service = GraphService(FakeRuntime())
    service.load(load_fixture())
    return service


def call(svc, method, url, principal, body=None, headers=None):
    return svc.handle(make_request(method, url, principal, body, headers))


def error_of(resp):
    return resp.status, resp.body["error"]["code"]


# --- the document and the table ----------------------------------------------------------------
def test_every_rule_has_its_test():
    with open(RULES_MD, encoding="utf-8") as handle:
        text = handle.read()
    with open(__file__, encoding="utf-8") as handle:
        defined = {node.name for node in ast.parse(handle.read()).body if isinstance(node, ast.FunctionDef)}
    rules = re.findall(r"^### (R\d+)\.", text, re.M)
    assert rules == ["R%d" % n for n in range(1, len(rules) + 1)] and len(rules) >= 8
    for block in re.split(r"^### ", text, flags=re.M)[1:]:
        named = re.findall(r"`(test_\w+)`", block)
        assert named, "rule without a test: " + block.splitlines()[0]
        assert set(named) <= defined, set(named) - defined
        assert "learn.microsoft.com" in block, "rule without a source page: " + block.splitlines()[0]


def test_permission_table_is_the_emulators():
    with open(RULES_MD, encoding="utf-8") as handle:
        text = handle.read().split("<!-- permission-table", 1)[1]
    lines = text.splitlines()[1:]
    block = list(itertools.takewhile(lambda line: line.startswith("|"), lines))
    rows = block[2:]  # after the header and its rule

    def names(cell):
        return frozenset() if cell == "-" else frozenset(n.strip() for n in cell.split(","))

    table = {}
    for line in rows:
        area, access, delegated, application = [c.strip() for c in line.strip("|").split("|")]
        table[(area, access)] = (names(delegated), names(application))
    assert table == permissions.RULES


# --- R1, R2: group calendars ---------------------------------------------------------------------
def _group_urls():
    offsite = seg(fixture_event("Clinic team offsite planning", GROUP_ID)["id"])
    huddle = seg(fixture_event("Clinic team huddle", GROUP_ID)["id"])
    base = "/groups/%s" % GROUP_ID
    return [("GET", base + "/events", "read"), ("GET", base + "/events/" + offsite, "read"),
            ("GET", base + "/calendarView?" + WINDOW["events"], "read"),
            ("GET", base + "/events/%s/instances?%s" % (huddle, WINDOW["events"]), "read"),
            ("POST", base + "/events/%s/cancel" % offsite, "write"), ("POST", base + "/calendar/events/%s/cancel" % offsite, "write")]


def test_group_routes_refuse_app_only_tokens(emu, session, token):
    """Over HTTPS with the secret app's real token (roles Calendars.ReadWrite): 403 on every group route."""
    assert "Calendars.ReadWrite" in jwt.decode(token, options={"verify_signature": False})["roles"]
    for method, url, _access in _group_urls():
        resp = session.request(method, emu["graph_endpoint"] + "/v1.0" + url, json={"Comment": "x"} if method == "POST" else None,
                               headers={"Authorization": "Bearer " + token}, timeout=30)
        body = resp.json()["error"]
        assert (resp.status_code, body["code"], body["message"]) == (403,) + DENIED, url
    # Refused before the group is looked up: an unknown group is no different.
    resp = session.get(emu["graph_endpoint"] + "/v1.0/groups/%s/events" % uuid.uuid4(), headers={"Authorization": "Bearer " + token},
                       timeout=30)
    assert resp.status_code == 403
    assert not emu.notifications() and all(not e["isCancelled"] for e in emu.events_state(GROUP_ID))


def test_group_refusal_inside_batch(svc):
    items = [{"id": str(n), "method": method, "url": url, "body": {"Comment": "x"} if method == "POST" else None,
              "headers": {"Content-Type": "application/json"}} for n, (method, url, _a) in enumerate(_group_urls())]
    for item in items:
        if item["body"] is None:
            del item["body"], item["headers"]
    resp = call(svc, "POST", "/$batch", app_principal(EVERY_ROLE), {"requests": items})
    assert resp.status == 200
    assert {(r["status"], r["body"]["error"]["code"]) for r in resp.body["responses"]} == {(403, "ErrorAccessDenied")}
    assert not svc.runtime.notifications


@pytest.mark.parametrize("scopes,read,write", [
    (["Calendars.ReadWrite", "Calendars.Read"], 403, 403),  # calendar scopes do not reach group calendars
    (["Group.Read.All"], 200, 403),
    (["Group.ReadWrite.All"], 200, 202),
])
def test_group_access_needs_group_scopes(svc, scopes, read, write):
    for method, url, access in _group_urls():
        svc = GraphService(FakeRuntime())  # each cancel on a fresh tenant: both cancel paths name the same event
        svc.load(load_fixture())
        resp = call(svc, method, url, user_principal(ADELE, scopes), {"Comment": "x"} if method == "POST" else None)
        assert resp.status == (read if access == "read" else write), (url, resp.body)
        if resp.status == 403:
            assert error_of(resp) == (403, DENIED[0])
    # Megan is not a member of the group: refused even with Group.ReadWrite.All.
    resp = call(svc, "GET", "/groups/%s/events" % GROUP_ID, user_principal(MEGAN, ["Group.ReadWrite.All"]))
    assert error_of(resp) == (403, DENIED[0])


# --- R3: every route's permission ----------------------------------------------------------------
def _route_url(route):
    """A concrete URL for a route, with seeded ids, and the subject of the event it names."""
    owner = GROUP_ID if "groups" in route.template else ADELE_ID
    container = route.extra.get("container")
    subject = {"calendars": "Project Falcon kickoff", "calendarGroups": "On-call handover"}.get(
        container, "Clinic team offsite planning" if owner == GROUP_ID else "Focus time")
    if route.template.endswith("instances") or route.method == "PATCH":  # a series (PATCH: issue 18, its recurrence)
        subject = "Clinic team huddle" if owner == GROUP_ID else "Weekly team sync"
    values = {"bookingBusiness-id": BUSINESS, "bookingAppointment-id": load_fixture()["bookingBusinesses"][0]["appointments"][0]["id"],
              "user-id": ADELE_ID, "group-id": GROUP_ID, "event-id": fixture_event(subject, owner)["id"],
              "calendar-id": fixture_calendar("On-call rota" if container == "calendarGroups" else "Projects")["id"],
              "calendarGroup-id": fixture_calendar_group("Clinic rotas")["id"]}
    url = route.template
    for name, value in values.items():
        url = url.replace("{%s}" % name, seg(value))
    if route.template.endswith(("calendarView", "instances")):
        url += "?" + WINDOW[route.area]
    return url


def _area(route):
    area = "group_events" if "/groups/" in route.template else route.area
    return area, "write" if route.method in ("POST", "PATCH") else "read"


def _v1_routes():
    return [r for r in routing.ROUTES if "v1.0" in r.versions]


@pytest.mark.parametrize("route", _v1_routes(), ids=["%s %s" % (r.method, r.template) for r in _v1_routes()])
def test_each_route_refuses_a_token_without_its_permission(route, svc):
    delegated, application = permissions.RULES[_area(route)]
    body = {route.body_params[0]: "x"} if route.method == "POST" else None
    url = _route_url(route)
    if route.method == "PATCH":  # end the series on its start date (issue 18)
        owner = GROUP_ID if "groups" in route.template else ADELE_ID
        recurrence = fixture_event("Clinic team huddle" if owner == GROUP_ID else "Weekly team sync", owner)["recurrence"]
        body = {"recurrence": dict(recurrence, range=dict(recurrence["range"], type="endDate", endDate=recurrence["range"]["startDate"]))}
    principals = [user_principal(ADELE, sorted(set(EVERY_SCOPE) - delegated))]
    if not route.template.startswith("/me"):
        principals.append(app_principal(sorted(set(EVERY_ROLE) - application)))
    for principal in principals:
        resp = call(svc, route.method, url, principal, body)
        assert error_of(resp) == (403, DENIED[0]), (principal.kind, url, resp.body)
    # And each single permission of the row is enough (the first one that is not consumed by a cancel).
    for name in sorted(delegated):
        service = GraphService(FakeRuntime())
        service.load(load_fixture())
        assert call(service, route.method, url, user_principal(ADELE, [name]), body).status in (200, 202, 204), (name, url)
    for name in sorted(application):
        if route.template.startswith("/me"):
            break
        service = GraphService(FakeRuntime())
        service.load(load_fixture())
        assert call(service, route.method, url, app_principal([name]), body).status in (200, 202, 204), (name, url)


def test_readonly_app_reads_but_cannot_cancel(emu, session, get_app_token):
    readonly = {"Authorization": "Bearer " + get_app_token(name="readonly")}
    appt = emu.appointments_state()[0]["id"]
    focus = fixture_event("Focus time")["id"]
    base = emu["graph_endpoint"] + "/v1.0"
    reads = [base + "/solutions/bookingBusinesses/%s/appointments/%s" % (BUSINESS, seg(appt)),
             base + "/users/%s/events/%s" % (ADELE, seg(focus)),
             base + "/users/%s/calendarView?%s" % (ADELE, WINDOW["events"])]
    for url in reads:
        assert session.get(url, headers=readonly, timeout=30).status_code == 200, url
    for url, body in ((reads[0] + "/cancel", {"cancellationMessage": "x"}), (reads[1] + "/cancel", {"Comment": "x"})):
        resp = session.post(url, json=body, headers=readonly, timeout=30)
        assert (resp.status_code, resp.json()["error"]["code"]) == (403, "ErrorAccessDenied"), url
    assert not emu.notifications()


# --- R4: tokens -------------------------------------------------------------------------------------
def _claims(token):
    return jwt.decode(token, options={"verify_signature": False})


@ROPC_WARNING
def test_tokens_carry_roles_or_scp(emu, session, msal_kwargs, scope, get_app_token):
    app = _claims(get_app_token())
    assert app["idtyp"] == "app" and isinstance(app["roles"], list) and "scp" not in app
    assert set(app["roles"]) == {"Bookings.ReadWrite.All", "Calendars.ReadWrite"}
    readonly = _claims(get_app_token(name="readonly"))
    assert set(readonly["roles"]) == {"Bookings.Read.All", "Calendars.Read"}
    other = _claims(get_app_token(scope=["https://management.azure.com/.default"]))
    assert "roles" not in other and "scp" not in other  # nothing granted there: no claim at all
    organizer = emu["users"]["organizer"]
    user = msal.PublicClientApplication(emu["apps"]["public"]["client_id"], **msal_kwargs).acquire_token_by_username_password(
        organizer["upn"], organizer["password"], scopes=scope)
    claims = _claims(user["access_token"])
    assert claims["idtyp"] == "user" and isinstance(claims["scp"], str) and "roles" not in claims
    assert claims["upn"] == organizer["upn"] and claims["oid"] == organizer["id"]
    assert {"Group.ReadWrite.All", "Calendars.ReadWrite", "BookingsAppointment.ReadWrite.All"} <= set(claims["scp"].split(" "))


# --- R5: ids -----------------------------------------------------------------------------------------
MALFORMED = ["x", "123", "AAMk...", "AAMkAD" + "A" * 20, "AAMkAD/with+slash" + "A" * 30 + "=", "AAMkAD" + "A" * 40 + "===",
             "AAMkAD" + "A" * 20 + "=" + "A" * 20, "AAMkAD " + "A" * 40, "événement" * 5]
ID_PARAMS = ("bookingAppointment-id", "event-id", "calendar-id", "calendarGroup-id")


def _item_routes():
    return [(r, p) for r in _v1_routes() for p in ID_PARAMS if "{%s}" % p in r.template]


@pytest.mark.parametrize("route,param", _item_routes(), ids=["%s %s {%s}" % (r.method, r.template, p) for r, p in _item_routes()])
def test_malformed_ids_are_400_on_every_item_route(svc, route, param):
    url_template = route.template
    good = _route_url(route)
    principal = user_principal() if route.template.startswith(("/me", "/groups")) else app_principal()
    body = {route.body_params[0]: "x"} if route.method == "POST" else None
    for bad in MALFORMED:
        assert not ids.well_formed(bad)
        # The good URL with this one parameter swapped for the malformed value.
        parts, good_parts = url_template.strip("/").split("/"), good.split("?")[0].strip("/").split("/")
        good_parts[parts.index("{%s}" % param)] = seg(bad)
        url = "/" + "/".join(good_parts) + ("?" + good.split("?")[1] if "?" in good else "")
        resp = call(svc, route.method, url, principal, body)
        assert (resp.status, resp.body["error"]["code"], resp.body["error"]["message"]) == (400, "ErrorInvalidIdMalformed",
                                                                                            "Id is malformed."), (url, resp.body)
    assert not svc.runtime.notifications


@pytest.mark.parametrize("url,principal", [
    ("/me/events/%s", user_principal), ("/users/%s/events/%%s" % ADELE, app_principal), ("/groups/%s/events/%%s" % GROUP_ID, user_principal),
    ("/me/events/%s/instances?" + WINDOW["events"], user_principal),
    ("/solutions/bookingBusinesses/%s/appointments/%%s" % BUSINESS, app_principal),
])
def test_well_formed_unknown_ids_are_404(svc, url, principal):
    unknown = "AAMkAD" + "Z" * 44 + "="
    assert ids.well_formed(unknown)
    assert error_of(call(svc, "GET", url % seg(unknown), principal())) == (404, "ErrorItemNotFound")


def test_malformed_id_inside_batch(svc):
    good = fixture_event("Focus time")["id"]
    items = [{"id": "bad-get", "method": "GET", "url": "/me/events/AAMk..."},
             {"id": "bad-cancel", "method": "POST", "url": "/me/events/123/cancel", "body": {"Comment": "x"},
              "headers": {"Content-Type": "application/json"}},
             {"id": "missing", "method": "GET", "url": "/me/events/" + "AAMkAD" + "Z" * 44 + "="},
             {"id": "good", "method": "GET", "url": "/me/events/" + seg(good)}]
    resp = call(svc, "POST", "/$batch", user_principal(), {"requests": items})
    got = {r["id"]: (r["status"], r.get("body", {}).get("error", {}).get("code")) for r in resp.body["responses"]}
    assert got == {"bad-get": (400, "ErrorInvalidIdMalformed"), "bad-cancel": (400, "ErrorInvalidIdMalformed"),
                   "missing": (404, "ErrorItemNotFound"), "good": (200, None)}


def test_seed_ids_are_well_formed():
    """The rule is consistent with the seed: every fixture id, and every id the emulator mints."""
    fixture = load_fixture()
    seen = [a["id"] for b in fixture["bookingBusinesses"] for a in b["appointments"]]
    for mbx in fixture["mailboxes"]:
        seen += [e["id"] for e in mbx["events"]] + [c["id"] for c in mbx.get("calendars", [])]
        seen += [g["id"] for g in mbx.get("calendarGroups", [])]
    seen += [derive_immutable_id(i) for i in seen]
    master = fixture_event("Weekly team sync")["id"]
    seen += [occurrence_id(master, datetime.date(2027, 3, 1), immutable) for immutable in (False, True)]
    assert len(seen) > 30 and [i for i in seen if not ids.well_formed(i)] == []


# --- R6: tenants ----------------------------------------------------------------------------------------
DOMAIN = ADELE.split("@")[1]


def _authority(emu, tenant):
    return "%s/%s" % (emu["authority_host"], tenant)


def test_domain_tenant_in_discovery_and_token(emu, session, scope):
    conf = session.get(_authority(emu, DOMAIN) + "/v2.0/.well-known/openid-configuration", timeout=30).json()
    assert conf["token_endpoint"] == _authority(emu, emu["tenant_id"]) + "/oauth2/v2.0/token"
    assert conf["issuer"] == _authority(emu, emu["tenant_id"]) + "/v2.0"
    app = emu["apps"]["secret"]
    client = msal.ConfidentialClientApplication(app["client_id"], client_credential=app["client_secret"], authority=_authority(emu, DOMAIN),
                                                http_client=session, instance_discovery=False)
    result = client.acquire_token_for_client(scope)
    assert _claims(result["access_token"])["tid"] == emu["tenant_id"]
    # Straight to the token endpoint by domain, without discovery, works too.
    resp = session.post(_authority(emu, DOMAIN.upper()) + "/oauth2/v2.0/token", timeout=30, data={
        "grant_type": "client_credentials", "client_id": app["client_id"], "client_secret": app["client_secret"], "scope": scope[0]})
    assert resp.status_code == 200 and _claims(resp.json()["access_token"])["tid"] == emu["tenant_id"]


@ROPC_WARNING
def test_organizations_and_common_for_delegated_flows(emu, session, scope):
    organizer = emu["users"]["organizer"]
    public_id = emu["apps"]["public"]["client_id"]
    for alias in ("organizations", "common"):
        conf = session.get(_authority(emu, alias) + "/v2.0/.well-known/openid-configuration", timeout=30).json()
        assert conf["issuer"] == emu["authority_host"] + "/{tenantid}/v2.0"
        assert conf["token_endpoint"] == _authority(emu, alias) + "/oauth2/v2.0/token"
    org = msal.PublicClientApplication(public_id, authority=_authority(emu, "organizations"), http_client=session, instance_discovery=False)
    result = org.acquire_token_by_username_password(organizer["upn"], organizer["password"], scopes=scope)
    assert _claims(result["access_token"])["tid"] == emu["tenant_id"], result
    common = msal.PublicClientApplication(public_id, authority=_authority(emu, "common"), http_client=session, instance_discovery=False)
    refused = common.acquire_token_by_username_password(organizer["upn"], organizer["password"], scopes=scope)
    assert refused["error"] == "invalid_request" and 9001023 in refused["error_codes"]
    refreshed = common.acquire_token_by_refresh_token(result["refresh_token"], scopes=scope)
    assert _claims(refreshed["access_token"])["tid"] == emu["tenant_id"], refreshed


def test_client_credentials_refuse_common_and_organizations(emu, session, scope):
    app = emu["apps"]["secret"]
    for alias in ("common", "organizations"):
        resp = session.post(_authority(emu, alias) + "/oauth2/v2.0/token", timeout=30, data={
            "grant_type": "client_credentials", "client_id": app["client_id"], "client_secret": app["client_secret"], "scope": scope[0]})
        body = resp.json()
        assert resp.status_code == 400 and body["error"] == "invalid_request" and body["error_codes"] == [50059]
        assert body["error_description"].startswith("AADSTS50059:") and "access_token" not in body


def test_unknown_tenant_or_domain(emu, session):
    for tenant in (str(uuid.uuid4()), "fabrikam.invalid", "consumers"):
        conf = session.get(_authority(emu, tenant) + "/v2.0/.well-known/openid-configuration", timeout=30)
        token = session.post(_authority(emu, tenant) + "/oauth2/v2.0/token", data={"grant_type": "client_credentials", "client_id": "x"},
                             timeout=30)
        for resp in (conf, token):
            assert resp.status_code == 400 and resp.json()["error"] == "invalid_tenant" and resp.json()["error_codes"] == [90002]


# --- R7: scopes ----------------------------------------------------------------------------------------
def _password_form(emu, scope, user="organizer"):
    who = emu["users"][user]
    return {"grant_type": "password", "client_id": emu["apps"]["public"]["client_id"], "username": who["upn"], "password": who["password"],
            "scope": scope}


def _token_post(emu, session, form):
    return session.post(_authority(emu, emu["tenant_id"]) + "/oauth2/v2.0/token", data=form, timeout=30)


@pytest.mark.parametrize("asked,granted", [
    ("{g}/Group.ReadWrite.All", {"Group.ReadWrite.All"}),
    ("{g}/Group.ReadWrite.All {g}/Calendars.ReadWrite offline_access openid profile",
     {"Group.ReadWrite.All", "Calendars.ReadWrite", "openid", "profile"}),
    ("Calendars.ReadWrite openid", {"Calendars.ReadWrite", "openid"}),  # a bare name is Microsoft Graph's
])
def test_named_delegated_scopes_are_granted_into_scp(emu, session, asked, granted):
    resp = _token_post(emu, session, _password_form(emu, asked.format(g=emu["graph_endpoint"])))
    body = resp.json()
    assert resp.status_code == 200, body
    claims = _claims(body["access_token"])
    assert set(claims["scp"].split(" ")) == granted and claims["aud"] == emu["graph_endpoint"]
    assert ("refresh_token" in body) == ("offline_access" in asked)
    # The token reaches what its scopes allow, and no more.
    auth = {"Authorization": "Bearer " + body["access_token"]}
    group = session.get(emu["graph_endpoint"] + "/v1.0/groups/%s/events" % GROUP_ID, headers=auth, timeout=30)
    assert group.status_code == (200 if "Group.ReadWrite.All" in granted else 403)
    mine = session.get(emu["graph_endpoint"] + "/v1.0/me/events", headers=auth, timeout=30)
    assert mine.status_code == (200 if "Calendars.ReadWrite" in granted else 403)


@pytest.mark.parametrize("asked,status,error,code", [
    ("{g}/Bookings.Manage.All", 400, "invalid_grant", 65001),  # real permission, not consented for the public app
    ("{g}/No.Such.Permission", 400, "invalid_scope", 70011),
    ("{g}/.default {g}/Group.ReadWrite.All", 400, "invalid_scope", 70011),
    ("{g}/Group.ReadWrite.All https://management.azure.com/user_impersonation", 400, "invalid_request", 28000),
    ("offline_access openid", 400, "invalid_scope", 70011),
])
def test_named_scopes_need_consent_and_one_resource(emu, session, asked, status, error, code):
    resp = _token_post(emu, session, _password_form(emu, asked.format(g=emu["graph_endpoint"])))
    body = resp.json()
    assert (resp.status_code, body["error"], body["error_codes"]) == (status, error, [code]) and "access_token" not in body


def test_app_flows_accept_only_default(emu, session, monkeypatch):
    app = emu["apps"]["secret"]
    for asked in ("%s/Calendars.ReadWrite" % emu["graph_endpoint"], "Calendars.ReadWrite",
                  "%s/.default %s/Calendars.ReadWrite" % (emu["graph_endpoint"], emu["graph_endpoint"])):
        resp = _token_post(emu, session, {"grant_type": "client_credentials", "client_id": app["client_id"],
                                          "client_secret": app["client_secret"], "scope": asked})
        assert resp.status_code == 400 and resp.json()["error"] == "invalid_scope", asked
    mi = emu["managed_identity"]
    resp = session.get(mi["endpoint"], headers={"X-IDENTITY-HEADER": mi["header"]}, timeout=30, params={
        "api-version": "2019-08-01", "resource": emu["graph_endpoint"] + "/Calendars.ReadWrite"})
    assert resp.status_code >= 400 and "access_token" not in resp.json()


# --- R8: request ids ----------------------------------------------------------------------------------
def test_request_ids_on_every_graph_answer(emu, session, token):
    base = emu["graph_endpoint"]
    focus = fixture_event("Focus time")["id"]
    calls = [("GET", base + "/v1.0/users/%s/events/%s" % (ADELE, seg(focus)), True, 200),
             ("GET", base + "/v1.0/users/%s/events/AAMk..." % ADELE, True, 400),
             ("GET", base + "/v1.0/users/%s/events/%s" % (ADELE, "AAMkAD" + "Z" * 44 + "="), True, 404),
             ("GET", base + "/v1.0/groups/%s/events" % GROUP_ID, True, 403),
             ("GET", base + "/v1.0/users/%s/events" % ADELE, False, 401),
             ("GET", base + "/v2.0/users", False, 400)]
    for method, url, auth, status in calls:
        for sent in (None, str(uuid.uuid4())):
            headers = {"Authorization": "Bearer " + token} if auth else {}
            if sent:
                headers["client-request-id"] = sent
            resp = session.request(method, url, headers=headers, timeout=30)
            assert resp.status_code == status, (url, resp.text)
            crid, rid = resp.headers.get("client-request-id"), resp.headers.get("request-id")
            assert crid == (sent or crid) and uuid.UUID(crid) and uuid.UUID(rid), (url, dict(resp.headers))
            if status >= 400:
                inner = resp.json()["error"]["innerError"]
                assert (inner["client-request-id"], inner["request-id"]) == (crid, rid) and inner["date"]


def test_request_ids_on_identity_answers(emu, session, scope):
    app = emu["apps"]["secret"]
    for secret, status in ((app["client_secret"], 200), ("wrong", 401)):
        for sent in (None, str(uuid.uuid4())):
            headers = {"client-request-id": sent} if sent else {}
            resp = session.post(_authority(emu, emu["tenant_id"]) + "/oauth2/v2.0/token", headers=headers, timeout=30, data={
                "grant_type": "client_credentials", "client_id": app["client_id"], "client_secret": secret, "scope": scope[0]})
            assert resp.status_code == status
            assert uuid.UUID(resp.headers["x-ms-request-id"]) and resp.headers["client-request-id"] == (sent or resp.headers["client-request-id"])
            uuid.UUID(resp.headers["client-request-id"])
            if status != 200:
                assert resp.json()["correlation_id"] == resp.headers["client-request-id"]
