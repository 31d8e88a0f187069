# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keys, certificates and the emulator's own access tokens.

The emulator plays Entra ID: it signs access tokens with a key generated at start and validates
them on every Graph route the way Graph does (signature, lifetime, audience, tenant).
"""

import base64
import datetime
import hashlib
import threading
import time
import uuid

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from emulator import api

ACCESS_TOKEN_LIFETIME = 3599


def new_rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def self_signed_cert(key, common_name, days=365):
    """A certificate of the kind people upload to an app registration."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .sign(key, hashes.SHA256())
    )


def key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def thumbprints(cert):
    """(sha1 hex, sha256 hex) of the DER certificate, as Entra ID shows them."""
    der = cert.public_bytes(serialization.Encoding.DER)
    return hashlib.sha1(der).hexdigest(), hashlib.sha256(der).hexdigest()  # noqa: S324  (x5t is SHA-1 by definition)


def b64url_thumbprint(hex_digest):
    return base64.urlsafe_b64encode(bytes.fromhex(hex_digest)).rstrip(b"=").decode("ascii")


class TokenError(Exception):
    """A token Graph would refuse; the message is what Graph says."""


class TokenService:
    """Issues and validates the emulator's access tokens (RS256 JWTs)."""

    def __init__(self, issuer_base):
        self.issuer_base = issuer_base  # authority host; issuer is <base>/<tenant>/v2.0
        self.key = new_rsa_key()
        self.kid = uuid.uuid4().hex
        self._lock = threading.Lock()
        self._issued = set()
        self._clients = {}  # uti -> client_id
        self._expired = set()
        self._verified = {}  # token -> claims, once its signature checked out
        self._refresh = {}

    def issuer(self, tenant_id):
        return "%s/%s/v2.0" % (self.issuer_base, tenant_id)

    def jwks(self):
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        jwk.update({"kid": self.kid, "use": "sig", "alg": "RS256"})
        return {"keys": [jwk]}

    def sign(self, claims):
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid, "typ": "JWT"})

    def issue(self, tenant_id, audience, client_id, roles=None, scopes=None, user=None, lifetime=ACCESS_TOKEN_LIFETIME):
        """An access token; app tokens carry roles, delegated ones scp and the user."""
        now = int(time.time())
        uti = uuid.uuid4().hex
        claims = {
            "aud": audience, "iss": self.issuer(tenant_id), "iat": now, "nbf": now, "exp": now + lifetime,
            "tid": tenant_id, "appid": client_id, "azp": client_id, "uti": uti, "ver": "1.0",
        }
        if user is None:
            claims.update({"idtyp": "app", "oid": client_id, "sub": client_id})
            if roles:
                claims["roles"] = list(roles)  # Entra leaves the claim out when nothing was granted
        else:
            claims.update({
                "idtyp": "user", "scp": " ".join(scopes or []), "oid": user["id"], "sub": user["id"],
                "upn": user["userPrincipalName"], "name": user.get("displayName", ""),
            })
        with self._lock:
            self._issued.add(uti)
            self._clients[uti] = client_id
        return self.sign(claims), claims

    def id_token(self, tenant_id, client_id, user):
        now = int(time.time())
        return self.sign({
            "aud": client_id, "iss": self.issuer(tenant_id), "iat": now, "nbf": now, "exp": now + ACCESS_TOKEN_LIFETIME,
            "tid": tenant_id, "oid": user["id"], "sub": user["id"], "preferred_username": user["userPrincipalName"],
            "name": user.get("displayName", ""), "ver": "2.0",
        })

    def new_refresh_token(self, grant):
        """Refresh tokens are opaque to clients, as Entra ID's are."""
        token = base64.urlsafe_b64encode(uuid.uuid4().bytes + uuid.uuid4().bytes).rstrip(b"=").decode("ascii")
        with self._lock:
            self._refresh[token] = dict(grant)
        return token

    def redeem_refresh_token(self, token):
        with self._lock:
            return self._refresh.pop(token, None)

    def expire_all(self):
        with self._lock:
            self._expired |= self._issued

    def expire_client(self, client_id):
        """Every token issued so far to client_id is treated as expired (its secret was revoked)."""
        with self._lock:
            self._expired |= set(uti for uti, cid in self._clients.items() if cid == client_id)

    def reset(self):
        with self._lock:
            self._expired.clear()

    def validate(self, token, audience, tenant_id):
        """The Principal the token speaks for, or TokenError with Graph's wording."""
        if not token:
            raise TokenError("Access token is empty.")
        with self._lock:
            claims = self._verified.get(token)
        if claims is None:
            claims = self._verify_signature(token)
        return self._principal(claims, audience, tenant_id)

    def _verify_signature(self, token):
        """The claims of a token signed by us; remembered, as Graph's front end caches validated keys."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise TokenError("IDX14100: JWT is not well formed, there are no dots (.).") from exc
        if header.get("kid") != self.kid or header.get("alg") != "RS256":
            raise TokenError("Access token validation failure. Invalid signature.")
        try:
            claims = jwt.decode(token, self.key.public_key(), algorithms=["RS256"],
                                options={"verify_aud": False, "verify_exp": False, "verify_nbf": False})
        except jwt.PyJWTError as exc:
            raise TokenError("Access token validation failure. Invalid signature.") from exc
        with self._lock:
            if len(self._verified) >= 10000:
                self._verified.clear()
            self._verified[token] = claims
        return claims

    def _principal(self, claims, audience, tenant_id):
        now = time.time()
        with self._lock:
            revoked = claims.get("uti") in self._expired
        if revoked or claims.get("exp", 0) <= now:
            raise TokenError("Lifetime validation failed, the token is expired.")
        if claims.get("nbf", 0) > now + 300:
            raise TokenError("Lifetime validation failed, the token is not yet valid.")
        if claims.get("aud") not in (audience, audience + "/"):
            raise TokenError("Access token validation failure. Invalid audience.")
        if claims.get("tid") != tenant_id:
            raise TokenError("Access token validation failure. Token issued by another tenant.")
        if claims.get("idtyp") == "user":
            return api.Principal(kind="user", tenant_id=claims["tid"], client_id=claims["appid"],
                                 scopes=claims.get("scp", "").split(), user_id=claims.get("oid"), upn=claims.get("upn"))
        return api.Principal(kind="app", tenant_id=claims["tid"], client_id=claims["appid"], roles=list(claims.get("roles", [])))
