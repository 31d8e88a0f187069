# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the emulator's own tests: a verifying session, app tokens, a small seeded mailbox."""

import uuid

import msal
import pytest

from emulator.control import ca_session

ORGANIZER_ID = "6e7b768e-07e2-4810-8459-485f84f8f204"
ORGANIZER_UPN = "megan.bowen@fabrikam.example"
ORGANIZER_PASSWORD = "Correct-Horse-42!"


def seed_fixture():
    """One user who organizes one meeting: enough for the transport, auth and fault tests."""
    event = {
        "id": "AAMkADtransport0001AAAAAAAAAAAAAAAAAAAAAAAAA=", "subject": "Quarterly review", "isOrganizer": True, "isCancelled": False,
        "type": "singleInstance",
        "start": {"dateTime": "2031-03-04T09:00:00.0000000", "timeZone": "UTC"},
        "end": {"dateTime": "2031-03-04T10:00:00.0000000", "timeZone": "UTC"},
        "organizer": {"emailAddress": {"address": ORGANIZER_UPN, "name": "Megan Bowen"}},
        "attendees": [{"type": "required", "status": {"response": "accepted", "time": "2031-03-01T09:00:00Z"},
                       "emailAddress": {"address": "lee.gu@fabrikam.example", "name": "Lee Gu"}}],
    }
    return {
        "users": [{"id": ORGANIZER_ID, "userPrincipalName": ORGANIZER_UPN, "displayName": "Megan Bowen",
                   "mail": ORGANIZER_UPN, "password": ORGANIZER_PASSWORD}],
        "mailboxes": [{"owner": ORGANIZER_ID, "events": [event]}],
    }


@pytest.fixture
def session(emulator):
    """requests.Session verifying against the emulator's CA whatever REQUESTS_CA_BUNDLE says, that
    sends MSAL's user realm discovery to the emulator's own port (control.restore_userrealm_port)."""
    sess = ca_session(emulator["ca_path"], userrealm_port=emulator["port"])
    yield sess
    sess.close()


def authority(conn, tenant=None):
    return "%s/%s" % (conn["authority_host"], tenant or conn["tenant_id"])


def graph_scope(conn):
    return [conn["graph_endpoint"] + "/.default"]


def app_token(conn, session, name="secret", tenant=None, scope=None):
    app = conn["apps"][name]
    client = msal.ConfidentialClientApplication(app["client_id"], client_credential=app["client_secret"],
                                                authority=authority(conn, tenant), http_client=session,
                                                instance_discovery=False)
    result = client.acquire_token_for_client(scope or graph_scope(conn))
    assert "access_token" in result, result
    return result["access_token"]


@pytest.fixture
def msal_kwargs(emulator, session):
    """Keyword arguments every MSAL application in these tests gets: TLS verified, no discovery."""
    return {"authority": authority(emulator), "http_client": session, "instance_discovery": False}


@pytest.fixture
def scope(emulator):
    return graph_scope(emulator)


@pytest.fixture
def get_app_token(emulator, session):
    return lambda **kw: app_token(emulator, session, **kw)


@pytest.fixture
def seeded(emu):
    emu.seed(seed_fixture())
    return emu


@pytest.fixture
def token(emulator, session):
    return app_token(emulator, session)


@pytest.fixture
def graph(emulator, session, token):
    """call(method, path, **kw) on the emulator's Graph endpoint with the secret app's token."""
    def call(method, path, auth=True, **kwargs):
        headers = dict(kwargs.pop("headers", {}))
        if auth:
            headers.setdefault("Authorization", "Bearer " + token)
        headers.setdefault("client-request-id", str(uuid.uuid4()))
        return session.request(method, emulator["graph_endpoint"] + path, headers=headers, timeout=kwargs.pop("timeout", 30), **kwargs)
    return call
