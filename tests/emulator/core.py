# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator as one object: TLS material, tenant, apps, token service, Graph state, listeners."""

import json
import os
import secrets
import ssl
import sys
import threading
import uuid

import trustme

from emulator import apps, identity, server, tokens
from emulator.faults import FaultEngine
from emulator.record import Recorder
from emulator.runtime import Runtime

DEFAULT_SEED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "tenant.json")


def _graph_class():
    from emulator.graph import GraphService  # pylint: disable=import-outside-toplevel
    return GraphService


class Emulator:
    token_error = tokens.TokenError

    def __init__(self, host, port, state_dir, seeds, cloud="global", rtt_ms=0, service_ms=0, mailbox_concurrency=4):
        self.host = host
        self.state_dir = state_dir
        self.seed_files = list(seeds) if seeds else [DEFAULT_SEED]
        self.cloud = cloud
        self.tenant_id = str(uuid.uuid4())
        self.other_tenant_id = str(uuid.uuid4())
        self.recorder = Recorder()
        self.faults = FaultEngine()
        self.runtime = Runtime(self.recorder, self.faults, cloud, rtt_ms, service_ms, mailbox_concurrency)
        self._passwords = {}
        self._lock = threading.Lock()
        self.graph = None
        # Bind first: every URL (audience, issuer, endpoints) depends on the port, and a port that
        # is taken must fail before anything (the CA above all) is written to the state dir.
        self.main = server.TLSServer((host, port), self, None)
        self.context = self.main.context = self._tls_context()
        self.port = self.main.server_address[1]
        self.base_url = "https://%s:%d" % (host, self.port)
        self.graph_endpoint = self.base_url
        self.runtime.base_url = self.graph_endpoint
        self.tokens = tokens.TokenService(self.base_url)
        self.registry = apps.Registry(state_dir, self.tenant_id, self.other_tenant_id, self.base_url + "/_emulator/federation")
        self.identity = identity.Identity(self.registry, self.tokens, self.recorder, self.directory, self.base_url,
                                          self.graph_endpoint, (self.tenant_id, self.other_tenant_id))
        self.reset()

    def _tls_context(self):
        ca = trustme.CA(organization_name="graphops emulator CA")
        self.ca_path = os.path.join(self.state_dir, "ca.pem")
        ca.cert_pem.write_to_path(self.ca_path)
        leaf = ca.issue_cert(self.host, "localhost")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        leaf.configure_cert(context)
        return context

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self):
        """Serve on the one (ephemeral) port: Graph, identity, MSAL's user realm discovery
        (GET /common/userrealm/<username>), managed identity and the control API."""
        threading.Thread(target=self.main.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()

    def stop(self):
        self.main.shutdown()
        self.main.server_close()

    # --- state -------------------------------------------------------------------------------
    def reset(self):
        graph = _graph_class()(self.runtime, cloud=self.cloud)
        for path in self.seed_files:
            if os.path.exists(path):
                with open(path, encoding="utf-8") as handle:
                    graph.load(json.load(handle))
            elif path != DEFAULT_SEED:
                raise FileNotFoundError(path)
            else:
                sys.stderr.write("emulator: no default seed at %s\n" % path)
        with self._lock:
            self.graph = graph
        self.recorder.clear()
        self.faults.clear()
        self.runtime.reset()
        self.tokens.reset()
        for app in self.registry.apps.values():
            app.revoked = False

    def seed(self, fixture):
        self.graph.load(fixture)

    def directory(self):
        """The Graph layer's directory, with a password for every user (generated when the seed has none)."""
        directory = dict(self.graph.directory()) if self.graph is not None else {}
        users = []
        for user in directory.get("users", []):
            user = dict(user)
            if not user.get("password"):
                with self._lock:
                    user["password"] = self._passwords.setdefault(user["id"], secrets.token_urlsafe(12) + "!a1")
            users.append(user)
        directory["users"] = users
        return directory

    def connection(self):
        directory = self.directory()
        users = directory.get("users", [])
        named = {}
        for role in ("organizer", "attendee"):
            match = [u for u in users if role in (u.get("role"), u.get("alias"), u.get("key"))]
            if match:
                named[role] = match[0]
        rest = [u for u in users if u not in named.values()]
        for role in ("organizer", "attendee"):
            if role not in named and rest:
                named[role] = rest.pop(0)
        businesses = directory.get("businesses", [])
        groups = directory.get("groups", [])
        return {
            "graph_endpoint": self.graph_endpoint,
            "authority_host": self.base_url,
            "control_url": self.base_url + "/_emulator",
            "ca_path": self.ca_path,
            "cloud": self.cloud,
            "tenant_id": self.tenant_id,
            "other_tenant_id": self.other_tenant_id,
            "host": self.host,
            "port": self.port,
            "state_dir": self.state_dir,
            "apps": self.registry.conn_apps,
            "users": {k: {"upn": u.get("userPrincipalName"), "id": u.get("id"), "password": u.get("password")} for k, u in named.items()},
            "managed_identity": {"endpoint": self.base_url + "/msi/token", "header": self.registry.identity_header,
                                 "system_client_id": self.registry.system_identity.client_id,
                                 "user_assigned_client_id": self.registry.user_identity.client_id},
            "bookings": {"business_id": _id(businesses[0]) if businesses else None},
            "groups": {"team": _id(groups[0]) if groups else None},
        }


def _id(entry):
    return entry.get("id") if isinstance(entry, dict) else entry
