# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Entra ID, as far as MSAL needs it: discovery, the v2.0 token endpoint, user realm discovery,
and an App Service style managed identity endpoint. Errors use Entra ID's exact body shape."""

import datetime
import time
import uuid

import jwt

from emulator import api
from emulator.apps import FEDERATION_AUDIENCE
from emulator.graph.permissions import KNOWN_SCOPES
from emulator.tokens import b64url_thumbprint

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
WELL_KNOWN_RESOURCES = ("https://management.azure.com", "https://vault.azure.net")
# Tenant aliases of the authority URL that name no tenant (RULES.md, "Tenants").
MULTI_TENANT = ("common", "organizations")
# OpenID Connect scopes: they shape the answer (refresh token, id token), never name a resource.
OIDC_SCOPES = ("openid", "profile", "email", "offline_access")


class AadError(Exception):
    def __init__(self, status, error, code, description):
        super().__init__(description)
        self.status, self.error, self.code, self.description = status, error, code, description


def _json(status, body, headers=None):
    out = {"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store, no-cache"}
    out.update(headers or {})
    return api.Response(status=status, body=body, headers=out)


class Identity:
    def __init__(self, registry, token_service, recorder, directory, base_url, graph_endpoint, tenants):
        self.registry = registry
        self.tokens = token_service
        self.recorder = recorder
        self.directory = directory  # callable -> the Graph layer's directory dict
        self.base_url = base_url
        self.graph_endpoint = graph_endpoint
        self.tenants = tenants

    # --- routing -----------------------------------------------------------------------------
    def handle(self, method, segments, query, headers, form):
        """An api.Response for an identity route, or None when the path is not one."""
        if segments[:1] == ["msi"] and segments[1:] == ["token"] and method == "GET":
            return self._managed_identity(query, headers)
        if len(segments) == 3 and segments[:2] == ["common", "userrealm"] and method == "GET":
            return self._user_realm(segments[2])
        if not segments:
            return None
        tenant, rest = segments[0], segments[1:]
        if rest == ["v2.0", ".well-known", "openid-configuration"] and method == "GET":
            return self._discovery(tenant)
        if rest == ["discovery", "v2.0", "keys"] and method == "GET":
            return _json(200, self.tokens.jwks())
        if rest == ["oauth2", "v2.0", "token"]:
            return self._token(tenant, method, headers, form)
        return None

    def _domains(self):
        """The tenant's verified domains: those of its users' sign-in names (contoso.example)."""
        return {u.get("userPrincipalName", "").rpartition("@")[2].lower() for u in self.directory().get("users", [])} - {""}

    def _tenant(self, name):
        """The tenant GUID an authority's tenant segment names (a GUID or a verified domain), None
        for common/organizations, or AadError invalid_tenant."""
        low = (name or "").lower()
        if low in MULTI_TENANT:
            return None
        for tenant in self.tenants:
            if tenant.lower() == low:
                return tenant
        if low in self._domains():
            return self.registry.tenant_id
        raise AadError(400, "invalid_tenant", 90002, "Tenant '%s' not found. Check to make sure you have the correct tenant ID and "
                       "are signing into the correct cloud." % name)

    def _discovery(self, tenant):
        try:
            home = self._tenant(tenant)
        except AadError as err:
            return self._error(err.status, err.error, err.code, err.description, {})
        # A domain resolves to its tenant's GUID in every endpoint; common/organizations keep
        # their alias and the issuer carries Entra's "{tenantid}" placeholder.
        base = "%s/%s" % (self.base_url, home or tenant)
        return _json(200, {
            "issuer": self.tokens.issuer(home or "{tenantid}"),
            "authorization_endpoint": base + "/oauth2/v2.0/authorize",
            "token_endpoint": base + "/oauth2/v2.0/token",
            "device_authorization_endpoint": base + "/oauth2/v2.0/devicecode",
            "end_session_endpoint": base + "/oauth2/v2.0/logout",
            "jwks_uri": base + "/discovery/v2.0/keys",
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "tenant_region_scope": "EU",
            "cloud_instance_name": "microsoftonline.com",
        })

    def _user_realm(self, username):
        domain = username.rpartition("@")[2]
        known = any(u.get("userPrincipalName", "").lower() == username.lower() for u in self.directory().get("users", []))
        body = {"ver": "1.0", "account_type": "Managed" if known else "Unknown", "domain_name": domain,
                "cloud_instance_name": "microsoftonline.com", "cloud_audience_urn": "urn:federation:MicrosoftOnline"}
        return _json(200, body)

    # --- errors and records ------------------------------------------------------------------------
    def _error(self, status, error, code, description, headers, grant_type=None, client_id=None):
        now = datetime.datetime.now(datetime.timezone.utc)
        stamp = now.strftime("%Y-%m-%d %H:%M:%SZ")
        trace_id, correlation_id = str(uuid.uuid4()), headers.get("client-request-id") or str(uuid.uuid4())
        full = "AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s" % (
            code, description, trace_id, correlation_id, now.strftime("%Y-%m-%d %H:%M:%S.%fZ"))
        self.recorder.token_request(grant_type, client_id, status, error)
        return _json(status, {"error": error, "error_description": full, "error_codes": [code], "timestamp": stamp,
                              "trace_id": trace_id, "correlation_id": correlation_id,
                              "error_uri": "%s/error?code=%d" % (self.base_url, code)})

    # --- the token endpoint -------------------------------------------------------------------------
    def _token(self, tenant, method, headers, form):
        grant_type, client_id = form.get("grant_type"), form.get("client_id")
        try:
            if method != "POST":
                raise AadError(400, "invalid_request", 900561, "The endpoint only accepts POST requests. Received a GET request.")
            home = self._tenant(tenant)
            if not client_id:
                raise AadError(400, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.")
            if home is None:
                home = self._multi_tenant_home(tenant, grant_type)
            app = self.registry.apps.get(client_id)
            if app is None or home not in app.tenants:
                raise AadError(400, "unauthorized_client", 700016,
                               "Application with identifier '%s' was not found in the directory '%s'." % (client_id, tenant))
            if grant_type == "client_credentials":
                body = self._client_credentials(home, app, form, tenant)
            elif grant_type == "password":
                body = self._password(home, app, form)
            elif grant_type == "refresh_token":
                body = self._refresh(home, app, form)
            else:
                raise AadError(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type '%s'." % grant_type)
        except AadError as err:
            return self._error(err.status, err.error, err.code, err.description, headers, grant_type, client_id)
        self.recorder.token_request(grant_type, client_id, 200, None)
        return _json(200, body)

    def _multi_tenant_home(self, alias, grant_type):
        """The tenant a common/organizations request lands in, or AadError (RULES.md, "Tenants").

        Client credentials name no user, so nothing tells Entra which tenant's app to use: the
        client credentials page asks for "GUID or domain-name format" and Entra refuses the aliases.
        The password grant takes organizations but not common (v2-oauth-ropc). Delegated flows
        land in the user's home tenant: every seeded user lives in the emulator's tenant."""
        if grant_type == "client_credentials":
            raise AadError(400, "invalid_request", 50059, "No tenant-identifying information found in either the request or implied "
                           "by any provided credentials.")
        if grant_type == "password" and alias.lower() == "common":
            raise AadError(400, "invalid_request", 9001023, "The grant type is not supported over the /common or /consumers endpoints. "
                           "Please use the /organizations or tenant-specific endpoint.")
        return self.registry.tenant_id

    def _resource(self, scope_param):
        scopes = (scope_param or "").split()
        resources = [s[:-len("/.default")] for s in scopes if s.endswith("/.default")]
        other = [s for s in scopes if not s.endswith("/.default") and s not in ("openid", "profile", "offline_access")]
        if len(resources) != 1 or other:
            raise AadError(400, "invalid_scope", 1002012, "The provided value for scope %s is not valid. Client credential flows must "
                           "have a scope value with /.default suffixed to the resource identifier (application ID URI)." % scope_param)
        resource = resources[0].rstrip("/")
        if resource != self.graph_endpoint and resource not in WELL_KNOWN_RESOURCES:
            raise AadError(400, "invalid_resource", 500011, "The resource principal named %s was not found in the tenant named %s."
                           % (resource, self.registry.tenant_id))
        return resource

    def _app_token(self, tenant, app, resource):
        # roles: the application permissions granted on that resource (omitted when none, as Entra does).
        roles = app.roles if resource == self.graph_endpoint else []
        token, claims = self.tokens.issue(tenant, resource, app.client_id, roles=roles)
        lifetime = claims["exp"] - int(time.time())
        return {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": token}

    def _client_credentials(self, tenant, app, form, url_tenant=None):
        if app.public:
            raise AadError(401, "invalid_client", 7000218,
                           "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
        resource = self._resource(form.get("scope"))
        if form.get("client_secret"):
            if app.secret is None or app.revoked or form["client_secret"] != app.secret:
                raise AadError(401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request "
                               "is the client secret value, not the client secret ID, for a secret added to app '%s'." % app.client_id)
        elif form.get("client_assertion"):
            if form.get("client_assertion_type") != ASSERTION_TYPE:
                raise AadError(400, "invalid_request", 50027, "Invalid client_assertion_type: %s." % form.get("client_assertion_type"))
            if app.federated_issuer:
                self._check_federated(app, form["client_assertion"])
            else:
                self._check_certificate((tenant, url_tenant or tenant), app, form["client_assertion"])
        else:
            raise AadError(401, "invalid_client", 7000218,
                           "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
        return self._app_token(tenant, app, resource)

    @staticmethod
    def _header(assertion):
        try:
            return jwt.get_unverified_header(assertion)
        except jwt.PyJWTError as exc:
            raise AadError(400, "invalid_request", 50027, "JWT token is invalid or malformed.") from exc

    @staticmethod
    def _time_error(claims):
        now = int(time.time())
        return AadError(401, "invalid_client", 700024, "Client assertion is not within its valid time range. Current time: %s, "
                        "assertion valid from %s, expiry time of assertion %s." % (
                            _iso(now), _iso(claims.get("nbf", claims.get("iat", 0))), _iso(claims.get("exp", 0))))

    def _check_certificate(self, tenants, app, assertion):
        header = self._header(assertion)
        # Compared without base64 padding: MSAL keeps the "=", the RFC says to drop it; Entra ID takes both.
        sha1 = str(header.get("x5t") or "").rstrip("=")
        sha256 = str(header.get("x5t#S256") or "").rstrip("=")
        registered = app.cert_sha1 and ((sha1 and sha1 == b64url_thumbprint(app.cert_sha1))
                                        or (sha256 and sha256 == b64url_thumbprint(app.cert_sha256)))
        if not registered:
            shown = sha1 or sha256 or ""
            raise AadError(401, "invalid_client", 700027, "Client assertion contains an invalid signature. [Reason - The key was not "
                           "found., Thumbprint of key used by client: '%s']" % shown)
        try:
            claims = jwt.decode(assertion, app.cert_public_key, algorithms=["RS256", "PS256"],
                                options={"verify_aud": False, "verify_exp": False, "verify_nbf": False, "verify_iat": False})
        except jwt.PyJWTError as exc:
            raise AadError(401, "invalid_client", 700027, "Client assertion contains an invalid signature. [Reason - The provided "
                           "signature value did not match the expected signature value.]") from exc
        if claims.get("iss") != app.client_id or claims.get("sub") != app.client_id:
            raise AadError(401, "invalid_client", 700021, "Client assertion application identifier doesn't match 'client_id' parameter.")
        # The token endpoint the client posted to, by its GUID or by the domain it was given.
        audiences = {"%s/%s/oauth2/%s" % (self.base_url, t, p) for t in tenants for p in ("v2.0/token", "token")}
        if claims.get("aud") not in audiences:
            raise AadError(401, "invalid_client", 700023, "Client assertion audience claim does not match Realm issuer. Review the "
                           "documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .")
        if not _within(claims):
            raise self._time_error(claims)

    def _check_federated(self, app, assertion):
        self._header(assertion)
        try:
            claims = jwt.decode(assertion, self.registry.federation_key.public_key(), algorithms=["RS256"],
                                options={"verify_aud": False, "verify_exp": False, "verify_nbf": False, "verify_iat": False})
        except jwt.PyJWTError as exc:
            raise AadError(400, "invalid_client", 700213, "Invalid signature on the presented assertion.") from exc
        if (claims.get("iss"), claims.get("sub"), claims.get("aud")) != (app.federated_issuer, app.federated_subject, FEDERATION_AUDIENCE):
            raise AadError(400, "invalid_request", 70021, "No matching federated identity record found for presented assertion. "
                           "Assertion Issuer: '%s'. Assertion Subject: '%s'. Assertion Audience: '%s'." % (
                               claims.get("iss"), claims.get("sub"), claims.get("aud")))
        if not _within(claims):
            raise self._time_error(claims)

    # --- delegated grants ------------------------------------------------------------------------------
    def _delegated_scopes(self, app, scope_param):
        """(resource, granted permission names) for a delegated request (RULES.md, "Scopes").

        Either ``<resource>/.default`` alone (every permission the app was consented for) or
        named permissions of one resource, ``<graph endpoint>/Group.ReadWrite.All`` (a bare name
        means Microsoft Graph), each granted only when consented (AADSTS65001 otherwise)."""
        named = [s for s in (scope_param or "").split() if s.lower() not in OIDC_SCOPES]
        if any(s.endswith("/.default") for s in named):
            if len(named) > 1:
                raise AadError(400, "invalid_scope", 70011, "The provided value for the input parameter 'scope' is not valid. The scope "
                               "%s is not valid. static scope limit exceeded." % scope_param)
            resource = self._resource(named[0])
            return resource, list(app.delegated_scopes) if resource == self.graph_endpoint else []
        if not named:
            raise AadError(400, "invalid_scope", 70011, "The provided value for the input parameter 'scope' is not valid. The scope "
                           "%s does not name a resource." % scope_param)
        pairs = [s.rsplit("/", 1) if "/" in s else (self.graph_endpoint, s) for s in named]
        resources = {r.rstrip("/") for r, _n in pairs}
        if len(resources) > 1:
            raise AadError(400, "invalid_request", 28000, "Provided value for the input parameter scope is not valid because it "
                           "contains more than one resource. Scope %s is not valid." % scope_param)
        resource = resources.pop()
        if resource != self.graph_endpoint:
            raise AadError(400, "invalid_resource", 500011, "The resource principal named %s was not found in the tenant named %s."
                           % (resource, self.registry.tenant_id))
        granted = []
        known = {s.lower(): s for s in KNOWN_SCOPES}
        for _resource, name in pairs:
            if name.lower() not in known:
                raise AadError(400, "invalid_scope", 70011, "The provided value for the input parameter 'scope' is not valid. The scope "
                               "%s is not valid." % name)
            if known[name.lower()] not in app.delegated_scopes:
                raise AadError(400, "invalid_grant", 65001, "The user or administrator has not consented to use the application with ID "
                               "'%s' named '%s'. Send an interactive authorization request for this user and resource."
                               % (app.client_id, app.name))
            granted.append(known[name.lower()])
        return resource, list(dict.fromkeys(granted))

    def _delegated(self, tenant, app, user, scope_param):
        requested = [s.lower() for s in (scope_param or "").split()]
        resource, granted = self._delegated_scopes(app, scope_param)
        # scp: the granted permissions, space-separated, plus the OpenID Connect scopes asked for
        # (Entra lists openid/profile/email there too); offline_access only earns a refresh token.
        scp = granted + [s for s in ("openid", "profile", "email") if s in requested and granted]
        token, claims = self.tokens.issue(tenant, resource, app.client_id, scopes=scp, user=user)
        lifetime = claims["exp"] - int(time.time())
        client_info = jwt.utils.base64url_encode(('{"uid":"%s","utid":"%s"}' % (user["id"], tenant)).encode("utf-8")).decode("ascii")
        body = {"token_type": "Bearer", "scope": " ".join("%s/%s" % (resource, s) for s in granted) or scope_param,
                "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": token,
                "id_token": self.tokens.id_token(tenant, app.client_id, user), "client_info": client_info}
        if "offline_access" in requested:
            body["refresh_token"] = self.tokens.new_refresh_token({"tenant": tenant, "client_id": app.client_id, "user_id": user["id"]})
        return body

    def _user(self, key, by="userPrincipalName"):
        for user in self.directory().get("users", []):
            if str(user.get(by, "")).lower() == str(key).lower():
                return user
        return None

    def _password(self, tenant, app, form):
        if not app.public and not form.get("client_secret"):
            raise AadError(401, "invalid_client", 7000218,
                           "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
        user = self._user(form.get("username", ""))
        if user is None:
            raise AadError(400, "invalid_grant", 50034, "The user account {EUII Hidden} does not exist in the %s directory. To sign "
                           "into this application, the account must be added to the directory." % tenant)
        if not form.get("password") or form.get("password") != user.get("password"):
            raise AadError(400, "invalid_grant", 50126, "Error validating credentials due to invalid username or password.")
        return self._delegated(tenant, app, user, form.get("scope"))

    def _refresh(self, tenant, app, form):
        grant = self.tokens.redeem_refresh_token(form.get("refresh_token") or "")
        if grant is None or grant["client_id"] != app.client_id or grant["tenant"] != tenant:
            raise AadError(400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.")
        user = self._user(grant["user_id"], by="id")
        if user is None:
            raise AadError(400, "invalid_grant", 50173, "The provided grant has expired due to it being revoked.")
        return self._delegated(tenant, app, user, form.get("scope"))

    # --- managed identity ------------------------------------------------------------------------------
    def _managed_identity(self, query, headers):
        def fail(status, message):
            self.recorder.token_request("managed_identity", query.get("client_id"), status, message)
            return _json(status, {"statusCode": status, "message": message, "correlationId": str(uuid.uuid4())})

        if headers.get("x-identity-header") != self.registry.identity_header:
            return fail(401, "The identity header is missing or does not match.")
        if query.get("api-version") != "2019-08-01":
            return fail(400, "The api-version '%s' could not be found." % query.get("api-version"))
        if query.get("mi_res_id") or query.get("object_id"):
            return fail(400, "Unable to load the proper Managed Identity.")
        identity = self.registry.managed_identity(query.get("client_id"))
        if identity is None:
            return fail(400, "Unable to load the proper Managed Identity.")
        resource = (query.get("resource") or "").rstrip("/")
        if resource.endswith("/.default"):
            resource = resource[:-len("/.default")]
        if resource != self.graph_endpoint and resource not in WELL_KNOWN_RESOURCES:
            return fail(500, "AADSTS500011: The resource principal named %s was not found in the tenant." % resource)
        roles = identity.roles if resource == self.graph_endpoint else []
        token, claims = self.tokens.issue(self.registry.tenant_id, resource, identity.client_id, roles=roles)
        self.recorder.token_request("managed_identity", identity.client_id, 200, None)
        return _json(200, {"access_token": token, "expires_on": str(claims["exp"]), "resource": query.get("resource"),
                           "token_type": "Bearer", "client_id": identity.client_id})


def _iso(epoch):
    return datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc).strftime("%m/%d/%Y %H:%M:%S")


def _within(claims):
    # Not-before gets five minutes of clock skew; expiry none, so an expired assertion is refused at once.
    now = time.time()
    return claims.get("exp", 0) > now and claims.get("nbf", claims.get("iat", 0)) - 300 <= now
