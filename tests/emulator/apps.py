# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The app registrations and managed identities the emulator's tenant holds.

Everything is generated at start with random ids and secrets, so no test can come to depend on a
fixed credential, and credential files are written to the state directory for clients to use.
"""

import os
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import List, Optional

import jwt
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

from emulator import tokens

WRITE_ROLES = ["Bookings.ReadWrite.All", "Calendars.ReadWrite"]
READ_ROLES = ["Bookings.Read.All", "Calendars.Read"]
# What the public app was admin-consented for: Bookings and calendars, and group calendars
# (delegated only). /.default grants them all; named scopes are granted one by one.
DELEGATED_SCOPES = ["BookingsAppointment.ReadWrite.All", "Calendars.ReadWrite", "Group.ReadWrite.All"]
FEDERATION_AUDIENCE = "api://AzureADTokenExchange"
FEDERATION_SUBJECT = "system:serviceaccount:automation:ansible-runner"


@dataclass
class App:
    name: str
    client_id: str
    roles: List[str] = field(default_factory=list)
    delegated_scopes: List[str] = field(default_factory=list)
    secret: Optional[str] = None
    public: bool = False
    cert_sha1: Optional[str] = None
    cert_sha256: Optional[str] = None
    cert_public_key: object = None
    federated_issuer: Optional[str] = None
    federated_subject: Optional[str] = None
    tenants: List[str] = field(default_factory=list)
    revoked: bool = False  # its secret deleted (POST /_emulator/apps/revoke): every secret it sends is wrong


@dataclass
class ManagedIdentity:
    name: str
    client_id: str
    roles: List[str] = field(default_factory=list)


def _secret():
    # Shaped like an Entra ID secret value: 40 characters with a "~" in it.
    return secrets.token_urlsafe(27)[:36] + "~" + secrets.token_hex(2)[:3]


class Registry:
    """Apps, managed identities and the federation issuer key."""

    def __init__(self, state_dir, tenant_id, other_tenant_id, federation_issuer):
        self.state_dir = state_dir
        self.tenant_id = tenant_id
        self.federation_issuer = federation_issuer
        self.federation_key = tokens.new_rsa_key()
        self.apps = {}
        self.conn_apps = {}
        both = [tenant_id, other_tenant_id]
        self._add_secret_app("secret", WRITE_ROLES, both)  # multi-tenant: lets tests get another tenant's token
        self._add_secret_app("readonly", READ_ROLES, [tenant_id])
        self._add_certificate_app()
        self._add_federated_app()
        public = App("public", str(uuid.uuid4()), delegated_scopes=list(DELEGATED_SCOPES), public=True, tenants=[tenant_id])
        self.apps[public.client_id] = public
        self.conn_apps["public"] = {"client_id": public.client_id}
        self.identity_header = secrets.token_hex(16)
        self.system_identity = ManagedIdentity("system", str(uuid.uuid4()), list(WRITE_ROLES))
        self.user_identity = ManagedIdentity("user", str(uuid.uuid4()), list(WRITE_ROLES))

    def _add_secret_app(self, name, roles, tenants):
        app = App(name, str(uuid.uuid4()), roles=list(roles), secret=_secret(), tenants=list(tenants))
        self.apps[app.client_id] = app
        self.conn_apps[name] = {"client_id": app.client_id, "client_secret": app.secret}

    def _add_certificate_app(self):
        key = tokens.new_rsa_key()
        cert = tokens.self_signed_cert(key, "ansible-graphops")
        sha1, sha256 = tokens.thumbprints(cert)
        app = App("certificate", str(uuid.uuid4()), roles=list(WRITE_ROLES), cert_sha1=sha1, cert_sha256=sha256,
                  cert_public_key=cert.public_key(), tenants=[self.tenant_id])
        self.apps[app.client_id] = app
        pem_path = os.path.join(self.state_dir, "cert-and-key.pem")
        self._write(pem_path, tokens.cert_pem(cert) + tokens.key_pem(key))
        password = secrets.token_urlsafe(12)
        pfx = pkcs12.serialize_key_and_certificates(b"ansible-graphops", key, cert, None,
                                                    BestAvailableEncryption(password.encode("utf-8")))
        pfx_path = os.path.join(self.state_dir, "cert.pfx")
        self._write(pfx_path, pfx)
        self.conn_apps["certificate"] = {"client_id": app.client_id, "pem_path": pem_path, "pfx_path": pfx_path,
                                         "pfx_password": password, "thumbprint": sha1}

    def _add_federated_app(self):
        app = App("federated", str(uuid.uuid4()), roles=list(WRITE_ROLES), federated_issuer=self.federation_issuer,
                  federated_subject=FEDERATION_SUBJECT, tenants=[self.tenant_id])
        self.apps[app.client_id] = app
        token_file = os.path.join(self.state_dir, "federated.jwt")
        # A workload's projected token; long-lived so a test session never sees it expire.
        self._write(token_file, self.federated_assertion(app.client_id, 7 * 24 * 3600).encode("ascii"))
        self.conn_apps["federated"] = {"client_id": app.client_id, "token_file": token_file,
                                       "issuer": self.federation_issuer, "subject": FEDERATION_SUBJECT}

    @staticmethod
    def _write(path, data):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)

    def federated_assertion(self, client_id, lifetime):
        """What an external identity provider (a CI system, Kubernetes) would hand the workload."""
        app = self.apps.get(client_id)
        subject = app.federated_subject if app and app.federated_subject else FEDERATION_SUBJECT
        now = int(time.time())
        claims = {"iss": self.federation_issuer, "sub": subject, "aud": FEDERATION_AUDIENCE,
                  "iat": min(now, now + int(lifetime)) - 1, "nbf": min(now, now + int(lifetime)) - 1,
                  "exp": now + int(lifetime), "jti": str(uuid.uuid4())}
        return jwt.encode(claims, self.federation_key, algorithm="RS256", headers={"kid": "federation"})

    def managed_identity(self, client_id):
        if not client_id:
            return self.system_identity
        for identity in (self.system_identity, self.user_identity):
            if identity.client_id == client_id:
                return identity
        return None
