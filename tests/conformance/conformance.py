# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Conformance: Microsoft's own clients (msgraph-sdk, msgraph-beta-sdk, azure-identity) against
the emulator, through every route the modules use, the error shapes, a $batch, a 429 and each
auth method the SDK offers that the emulator serves. Prints a table (check | result) and exits
non-zero on any mismatch.

Run by `make conformance` with its own virtualenv (.build/conformance-venv) and PYTHONPATH=tests;
the emulator runs under EMULATOR_PYTHON (the project's .venv) on an ephemeral port of 127.0.0.1.
"""

import asyncio
import os
import sys
import tempfile
import time
import traceback
import warnings

# The SDKs live in .build/conformance-venv only (make conformance), not where pylint runs.
# pylint: disable=import-error
import httpx
import jwt
from azure.core.pipeline.transport import RequestsTransport
from azure.identity import (CertificateCredential, ClientAssertionCredential, ClientSecretCredential, ManagedIdentityCredential,
                            UsernamePasswordCredential)
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_authentication_azure.azure_identity_authentication_provider import AzureIdentityAuthenticationProvider
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.graph_request_adapter import options as v1_options
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.solutions.booking_businesses.item.appointments.item.cancel.cancel_post_request_body import (
    CancelPostRequestBody as AppointmentCancelBody)
from msgraph.generated.users.item.events.item.cancel.cancel_post_request_body import CancelPostRequestBody as EventCancelBody
from msgraph_beta import GraphRequestAdapter as BetaRequestAdapter
from msgraph_beta import GraphServiceClient as BetaServiceClient
from msgraph_beta.graph_request_adapter import options as beta_options
from msgraph_core import APIVersion, GraphClientFactory
from msgraph_core.requests.batch_request_content import BatchRequestContent
from msgraph_core.requests.batch_request_item import BatchRequestItem

from emulator.control import EmulatorControl, ca_session
from emulator.process import start_emulator, stop_emulator

BUSINESS = "contosoclinic@contoso.example"
ORGANIZER = "adele.vance@contoso.example"
GROUP = "3d9f6a1b-2c4e-4f8a-b7d6-5e4c3b2a1f10"
FOCUS = "AAMkADY8c55dotQxoeCgsUkRActMzgCp-7PlpUqe7s3UD0BBM="  # Focus time (Adele, no attendees)
VENDOR = "AAMkADBkZwbdxgfQTPey0XO36paqTSV6vYUrimRxo5vsXVxoQ="  # Vendor demo (Adele, attendee Alex)
WORKSHOP = "AAMkADNgqdEpN3kRYfZwV2nPDifSHZjiJ4-_Mh7PSI8lnNqsY="  # Clinic process workshop (Adele, 3 attendees)
SYNC = "AAMkADV997ArQMAWwboR7UA-u1wuzn6xganOFsp2eB98_pX84="  # Weekly team sync (Adele, series)
OFFSITE = "AAMkADM3XjjrjKvel3AZ8aH_Cpzfrq2klvzVjSwO_uQggE8H0="  # group: Clinic team offsite planning
HUDDLE = "AAMkADi3WRIqxL4I9J5xeFwxTZGdDLEO40P5UNpJbWFVb80eE="  # group: Clinic team huddle (series)
MISSING = "AAMkAD" + "Z" * 44 + "="  # well-formed, no such item
START, END = "2027-03-01T00:00:00Z", "2027-03-08T00:00:00Z"


class Conformance:
    def __init__(self, conn):
        self.conn = conn
        self.emu = EmulatorControl(conn)
        self.rows = []
        self.scope = [conn["graph_endpoint"] + "/.default"]
        self.host = conn["host"]
        self.kwargs = {"authority": conn["authority_host"], "disable_instance_discovery": True,
                       # The session verifies against the emulator's CA and puts the authority's port back on
                       # MSAL's user realm discovery URL, as every MSAL client of a local server must (NOTES).
                       "transport": RequestsTransport(session=ca_session(conn["ca_path"], conn["port"]), session_owner=False)}

    # --- clients ---------------------------------------------------------------------------------
    def credential(self, kind):
        conn, kw = self.conn, self.kwargs
        apps = conn["apps"]
        if kind == "secret":
            return ClientSecretCredential(conn["tenant_id"], apps["secret"]["client_id"], apps["secret"]["client_secret"], **kw)
        if kind == "readonly":
            return ClientSecretCredential(conn["tenant_id"], apps["readonly"]["client_id"], apps["readonly"]["client_secret"], **kw)
        if kind == "secret-domain":
            return ClientSecretCredential("contoso.example", apps["secret"]["client_id"], apps["secret"]["client_secret"], **kw)
        if kind == "certificate-pem":
            return CertificateCredential(conn["tenant_id"], apps["certificate"]["client_id"], apps["certificate"]["pem_path"], **kw)
        if kind == "certificate-pfx":
            return CertificateCredential(conn["tenant_id"], apps["certificate"]["client_id"], apps["certificate"]["pfx_path"],
                                         password=apps["certificate"]["pfx_password"], **kw)
        if kind == "federated":
            token_file = apps["federated"]["token_file"]

            def assertion():
                with open(token_file, encoding="ascii") as handle:
                    return handle.read().strip()
            return ClientAssertionCredential(conn["tenant_id"], apps["federated"]["client_id"], assertion, **kw)
        if kind in ("managed-system", "managed-user"):
            os.environ["IDENTITY_ENDPOINT"] = conn["managed_identity"]["endpoint"]
            os.environ["IDENTITY_HEADER"] = conn["managed_identity"]["header"]
            client_id = conn["managed_identity"]["user_assigned_client_id"] if kind == "managed-user" else None
            return ManagedIdentityCredential(client_id=client_id, transport=kw["transport"])
        if kind in ("password", "password-organizations"):
            user = conn["users"]["organizer"]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                return UsernamePasswordCredential(apps["public"]["client_id"], user["upn"], user["password"],
                                                  tenant_id="organizations" if kind.endswith("organizations") else conn["tenant_id"], **kw)
        raise ValueError(kind)

    def client(self, credential, beta=False):
        auth = AzureIdentityAuthenticationProvider(credential, scopes=self.scope, allowed_hosts=[self.host])
        # The SDK's own middleware options (its /users/me-token-to-replace -> /me rewrite among them),
        # on an httpx client that trusts the emulator's CA.
        http = GraphClientFactory.create_with_default_middleware(
            api_version=APIVersion.beta if beta else APIVersion.v1, client=httpx.AsyncClient(verify=self.conn["ca_path"], timeout=60),
            options=beta_options if beta else v1_options)
        adapter = (BetaRequestAdapter if beta else GraphRequestAdapter)(auth, client=http)
        adapter.base_url = "%s/%s" % (self.conn["graph_endpoint"], "beta" if beta else "v1.0")
        return (BetaServiceClient if beta else GraphServiceClient)(request_adapter=adapter)

    # --- the table -------------------------------------------------------------------------------
    async def check(self, name, coro):
        try:
            detail = await coro
            self.rows.append((name, "ok" + (": " + detail if detail else "")))
        except Exception as exc:  # pylint: disable=broad-exception-caught
            traceback.print_exc(file=sys.stderr)
            self.rows.append((name, "MISMATCH: %s" % (str(exc).splitlines()[0] if str(exc) else type(exc).__name__)[:150]))

    def failed(self):
        return [r for r in self.rows if not r[1].startswith("ok")]

    def table(self):
        width = max(len(r[0]) for r in self.rows)
        lines = ["| %s | result |" % "check".ljust(width), "|%s|---|" % ("-" * (width + 2))]
        lines += ["| %s | %s |" % (name.ljust(width), result) for name, result in self.rows]
        return "\n".join(lines)


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


async def odata_error(coro):
    try:
        await coro
    except ODataError as err:
        return err
    raise AssertionError("no ODataError raised")


def token_claims(credential, scope):
    return jwt.decode(credential.get_token(*scope).token, options={"verify_signature": False})


async def auth_checks(c):
    for kind, label in (("secret", "client secret"), ("secret-domain", "client secret, tenant as a verified domain"),
                        ("certificate-pem", "certificate (PEM)"), ("certificate-pfx", "certificate (PKCS#12 with password)"),
                        ("federated", "client assertion (workload identity federation)"),
                        ("managed-system", "managed identity, App Service style, system-assigned"),
                        ("managed-user", "managed identity, App Service style, user-assigned")):
        async def one(kind=kind):
            claims = token_claims(c.credential(kind), c.scope)
            expect(claims["tid"] == c.conn["tenant_id"] and claims.get("roles"), claims)
            users = await c.client(c.credential(kind)).users.by_user_id(ORGANIZER).events.by_event_id(FOCUS).get()
            expect(users.id == FOCUS, users.id)
            return "roles %s" % " ".join(sorted(claims["roles"]))
        await c.check("azure-identity: " + label, one())
    for kind, label in (("password", "username/password"), ("password-organizations", "username/password, organizations tenant")):
        async def delegated(kind=kind):
            claims = token_claims(c.credential(kind), c.scope)
            expect("roles" not in claims and "Group.ReadWrite.All" in claims["scp"].split(), claims)
            me = await c.client(c.credential(kind)).me.events.by_event_id(FOCUS).get()
            expect(me.subject == "Focus time", me.subject)
            return "scp %s" % claims["scp"]
        await c.check("azure-identity: " + label, delegated())


def window(builder, start_name="start_date_time", end_name="end_date_time", start=START, end=END):
    """The request configuration with a time window, in the builder's own query parameter class."""
    cls = type(builder)
    query = next(getattr(cls, n) for n in dir(cls) if n.endswith("GetQueryParameters"))
    return RequestConfiguration(query_parameters=query(**{start_name: start, end_name: end}))


async def route_checks(c):
    app = c.client(c.credential("secret"))
    business = app.solutions.booking_businesses.by_booking_business_id(BUSINESS)
    appointments = c.emu.appointments_state()

    async def appointment_get():
        got = await business.appointments.by_booking_appointment_id(appointments[0]["id"]).get()
        expect(got.id == appointments[0]["id"] and got.start_date_time.date_time and got.customers, got)
        return None
    await c.check("v1.0 GET appointment", appointment_get())

    async def appointment_view():
        view = await business.calendar_view.get(window(business.calendar_view, "start", "end"))
        in_week = [a for a in appointments if "2027-03-01" <= a["startDateTime"]["dateTime"][:10] < "2027-03-08"]
        expect(len(view.value) == len(in_week) and view.value, (len(view.value), len(in_week)))
        return "%d appointments" % len(view.value)
    await c.check("v1.0 GET appointments calendarView", appointment_view())

    async def appointment_cancel():
        target = appointments[1]
        await business.appointments.by_booking_appointment_id(target["id"]).cancel.post(AppointmentCancelBody(cancellation_message="SDK"))
        notes = [n for n in c.emu.notifications() if n["item_id"] == target["id"]]
        expect(notes and all(n["message"] == "SDK" for n in notes), notes)
        expect(target["id"] not in {a["id"] for a in c.emu.appointments_state()}, "still there")
        return "%d notified" % len(notes)
    await c.check("v1.0 POST appointment cancel", appointment_cancel())

    beta = c.client(c.credential("secret"), beta=True)

    async def beta_appointment():
        got = await beta.solutions.booking_businesses.by_booking_business_id(BUSINESS).appointments.by_booking_appointment_id(
            appointments[0]["id"]).get()
        expect(got.start and got.start.date_time and got.end.date_time, got)
        return "start/end"
    await c.check("beta GET appointment (start/end shape)", beta_appointment())

    user = app.users.by_user_id(ORGANIZER)

    async def event_get():
        got = await user.events.by_event_id(FOCUS).get()
        expect(got.subject == "Focus time" and got.is_organizer, got)
    await c.check("v1.0 GET user event", event_get())

    async def event_view():
        config = window(user.calendar_view)
        config.query_parameters.top = 3
        page = await user.calendar_view.get(config)
        seen, pages = [e.id for e in page.value], 1
        while page.odata_next_link:
            page = await user.calendar_view.with_url(page.odata_next_link).get()
            seen, pages = seen + [e.id for e in page.value], pages + 1
        expect(pages > 1 and len(seen) == len(set(seen)) > 3, (pages, seen))
        return "%d events in %d pages ($top=3, @odata.nextLink followed)" % (len(seen), pages)
    await c.check("v1.0 GET user calendarView", event_view())

    async def event_instances():
        inst = user.events.by_event_id(SYNC).instances
        got = await inst.get(window(inst, end="2027-05-01T00:00:00Z"))
        expect(got.value and all(e.series_master_id == SYNC for e in got.value), got)
        return "%d occurrences" % len(got.value)
    await c.check("v1.0 GET user event instances", event_instances())

    async def event_cancel():
        await user.events.by_event_id(VENDOR).cancel.post(EventCancelBody(comment="SDK"))
        notes = [n for n in c.emu.notifications() if n["kind"] == "event_cancelled" and n["message"] == "SDK"]
        expect(notes, "no notification")
        return "%d notified" % len(notes)
    await c.check("v1.0 POST user event cancel", event_cancel())

    beta_user = beta.users.by_user_id(ORGANIZER)

    async def beta_event():
        got = await beta_user.events.by_event_id(FOCUS).get()
        expect(got.subject == "Focus time", got)
    await c.check("beta GET user event", beta_event())

    delegated = c.client(c.credential("password"))
    group = delegated.groups.by_group_id(GROUP)

    async def group_reads():
        got = await group.events.by_event_id(OFFSITE).get()
        view = await group.calendar_view.get(window(group.calendar_view))
        inst = group.events.by_event_id(HUDDLE).instances
        occ = await inst.get(window(inst, end="2027-05-01T00:00:00Z"))
        expect(got.subject and view.value and occ.value, (got, view, occ))
        return "get, calendarView (%d), instances (%d)" % (len(view.value), len(occ.value))
    await c.check("v1.0 group event reads (delegated)", group_reads())

    async def group_cancel():
        await group.events.by_event_id(OFFSITE).cancel.post(EventCancelBody(comment="SDK group"))
        state = [e for e in c.emu.events_state(GROUP) if e["immutableId"] and e["subject"] == "Clinic team offsite planning"]
        expect(state and state[0]["isCancelled"], state)
    await c.check("v1.0 POST group event cancel (delegated)", group_cancel())

    async def me_cancel():
        await delegated.me.events.by_event_id(WORKSHOP).cancel.post(EventCancelBody(comment="SDK me"))
        expect([n for n in c.emu.notifications() if n["message"] == "SDK me"], "no notification")
    await c.check("v1.0 POST /me event cancel (delegated)", me_cancel())


async def error_checks(c):
    app = c.client(c.credential("secret"))
    user = app.users.by_user_id(ORGANIZER)
    cases = [
        ("404 ErrorItemNotFound (well-formed unknown id)", user.events.by_event_id(MISSING).get(), 404, "ErrorItemNotFound"),
        ("400 ErrorInvalidIdMalformed (malformed id)", user.events.by_event_id("AAMk...").get(), 400, "ErrorInvalidIdMalformed"),
        ("400 ErrorInvalidIdMalformed (appointment)",
         app.solutions.booking_businesses.by_booking_business_id(BUSINESS).appointments.by_booking_appointment_id("123").get(),
         400, "ErrorInvalidIdMalformed"),
        ("403 ErrorAccessDenied (group calendar, app-only token)", app.groups.by_group_id(GROUP).events.by_event_id(HUDDLE).get(),
         403, "ErrorAccessDenied"),
        ("403 ErrorAccessDenied (read-only app cancels)",
         c.client(c.credential("readonly")).users.by_user_id(ORGANIZER).events.by_event_id(FOCUS).cancel.post(EventCancelBody(comment="x")),
         403, "ErrorAccessDenied"),
    ]
    for label, coro, status, code in cases:
        async def one(coro=coro, status=status, code=code):
            err = await odata_error(coro)
            inner = err.error.inner_error
            expect((err.response_status_code, err.error.code) == (status, code), (err.response_status_code, err.error.code))
            expect(inner and inner.request_id and inner.client_request_id, "innerError ids")
            return "ODataError, innerError request-id and client-request-id"
        await c.check("error " + label, one())


async def batch_and_throttle_checks(c):
    app = c.client(c.credential("secret"))
    user = app.users.by_user_id(ORGANIZER)

    async def batch():
        items = {"get": BatchRequestItem(user.events.by_event_id(FOCUS).to_get_request_information(), id="get"),
                 "missing": BatchRequestItem(user.events.by_event_id(MISSING).to_get_request_information(), id="missing"),
                 "cancel": BatchRequestItem(user.events.by_event_id(SYNC).cancel.to_post_request_information(
                     EventCancelBody(comment="batch")), id="cancel")}
        result = await app.batch.post(BatchRequestContent(items))
        statuses = result.get_response_status_codes()
        expect(statuses == {"get": 200, "missing": 404, "cancel": 202}, statuses)
        return "statuses %s" % statuses
    await c.check("$batch (BatchRequestContent)", batch())

    async def throttled():
        c.emu.add_fault("status_429", method="GET", path_regex="events/%s$" % FOCUS, times=1, retry_after="1")
        before = time.monotonic()
        got = await user.events.by_event_id(FOCUS).get()
        waited = time.monotonic() - before
        tries = [r for r in c.emu.requests() if r["segments"][-1] == FOCUS and r["method"] == "GET"]
        expect(got.id == FOCUS and [r["status"] for r in tries[-2:]] == [429, 200] and waited >= 1, (tries, waited))
        return "429 then 200 after %.1f s (Retry-After: 1)" % waited
    await c.check("429 with Retry-After, retried by the SDK", throttled())


async def run(conn):
    c = Conformance(conn)
    c.emu.reset()
    await auth_checks(c)
    c.emu.reset()
    await route_checks(c)
    c.emu.reset()
    await error_checks(c)
    c.emu.reset()
    await batch_and_throttle_checks(c)
    return c


def versions():
    from importlib.metadata import version  # pylint: disable=import-outside-toplevel
    return ", ".join("%s %s" % (p, version(p)) for p in ("msgraph-sdk", "msgraph-beta-sdk", "msgraph-core", "azure-identity", "msal"))


def main():
    state = tempfile.mkdtemp(prefix="conformance-")
    proc, conn = start_emulator(state, python=os.environ.get("EMULATOR_PYTHON") or sys.executable)
    try:
        result = asyncio.run(run(conn))
    finally:
        stop_emulator(proc)
    print("Conformance of the Graph emulator with Microsoft's clients (%s)\n" % versions())
    print(result.table())
    failed = result.failed()
    print("\n%d checks, %d mismatches" % (len(result.rows), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
