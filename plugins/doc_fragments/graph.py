# Copyright (c) graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:

    # Common connection and authentication options of every graphops.msgraph module.
    DOCUMENTATION = r"""
options:
  auth_method:
    description:
      - How to get a token for Microsoft Graph.
      - V(auto) picks the method from the credentials given (O(access_token), O(client_secret),
        O(client_certificate_path), O(federated_token_file), or O(username) with O(password)) and fails,
        naming the options, when none or more than one of them is set (environment variables count).
      - V(managed_identity) is never picked automatically; set it explicitly, with O(client_id) for a
        user-assigned identity.
      - V(password) uses the resource owner password grant of a public client app (O(client_id)); it does
        not work for accounts with multi-factor authentication.
    type: str
    default: auto
    choices: [auto, client_secret, certificate, federated, managed_identity, password, access_token]
  auth_source:
    description:
      - Where credentials not given as options come from, with the values of C(azure.azcollection)'s option of
        the same name.
      - V(auto) reads the environment variables (the C(azure-identity) family first, then the
        C(azure.azcollection) / AWX family), and when they hold no credential, the profile O(profile) (or the
        E(AZURE_PROFILE) environment variable, else V(default)) of C(~/.azure/credentials) if that file exists.
      - V(env) reads only the environment variables; V(credential_file) reads only C(~/.azure/credentials)
        (credentials in the environment are not used).
      - V(msi) is O(auth_method=managed_identity); O(client_id) or E(AZURE_CLIENT_ID) selects a user-assigned identity.
      - V(cli) uses the token of the Azure CLI's login (C(az account get-access-token --resource <Graph endpoint>),
        with C(--tenant) when O(tenant_id) is set); C(az) must be on the E(PATH) of the host that runs the module.
      - Options given to the task always win over every source. A variable that an option overrides with another
        value, or that this source does not read, is named in a warning (never its value).
      - When two environment variables give different values for the same option (for example E(AZURE_TENANT_ID)
        and E(AZURE_TENANT)), the task fails naming both.
    type: str
    default: auto
    choices: [auto, env, credential_file, msi, cli]
  profile:
    description:
      - A section of C(azure.azcollection)'s INI credential file C(~/.azure/credentials), whose keys C(client_id),
        C(secret), C(tenant), C(ad_user), C(password) and C(cloud_environment) fill the options not given to the task
        (C(subscription_id) has no use for Graph).
      - If not set, the value of the E(AZURE_PROFILE) environment variable is used, else V(default).
      - A profile that is named but missing fails the task, naming the sections the file has.
    type: str
  tenant_id:
    description:
      - The Microsoft Entra tenant (directory) id or a verified domain name.
      - If not set, the value of the E(AZURE_TENANT_ID) environment variable is used, else E(AZURE_TENANT).
    type: str
    aliases: [tenant]
  client_id:
    description:
      - The application (client) id of the app registration, or of a user-assigned managed identity.
      - If not set, the value of the E(AZURE_CLIENT_ID) environment variable is used.
    type: str
  client_secret:
    description:
      - A client secret of the app registration.
      - If not set, the value of the E(AZURE_CLIENT_SECRET) environment variable is used, else E(AZURE_SECRET).
    type: str
    aliases: [secret]
  client_certificate_path:
    description:
      - A certificate of the app registration with its private key, either one PEM file holding both or a
        PKCS#12 (C(.pfx)) file.
      - If not set, the value of the E(AZURE_CLIENT_CERTIFICATE_PATH) environment variable is used.
    type: path
  client_certificate_password:
    description:
      - The password of an encrypted PEM key or of the PKCS#12 file.
      - If not set, the value of the E(AZURE_CLIENT_CERTIFICATE_PASSWORD) environment variable is used.
    type: str
  federated_token_file:
    description:
      - A file holding a federated identity credential (a JWT from Kubernetes workload identity, GitHub
        Actions, and so on). It is read again on every token request, so rotation is picked up.
      - If not set, the value of the E(AZURE_FEDERATED_TOKEN_FILE) environment variable is used.
    type: path
  username:
    description:
      - The user principal name for O(auth_method=password).
      - If not set, the value of the E(AZURE_USERNAME) environment variable is used, else E(AZURE_AD_USER).
    type: str
    aliases: [ad_user]
  password:
    description:
      - The password for O(auth_method=password).
      - If not set, the value of the E(AZURE_PASSWORD) environment variable is used.
    type: str
  access_token:
    description:
      - A Graph access token obtained elsewhere. It is used as is; no token is requested and it is never cached.
      - Whether it is a delegated (user) token is read from its C(scp) claim, without verifying it.
      - If not set, the value of the E(MSGRAPH_ACCESS_TOKEN) environment variable is used.
    type: str
  cloud:
    description:
      - The Microsoft cloud. V(global) also covers GCC; V(usgov) is GCC High (L4); V(usgovdod) is DoD (L5);
        V(china) is operated by 21Vianet (Bookings is not available there).
      - C(azure.azcollection)'s names work too. V(AzureCloud) is V(global), V(AzureUSGovernment) is V(usgov) and
        V(AzureChinaCloud) is V(china). V(AzureUSGovernmentDoD) is V(usgovdod); C(azure.azcollection) has no name
        for it because DoD shares the login host of V(AzureUSGovernment).
      - If not set, the value of the E(MSGRAPH_CLOUD) environment variable is used, else E(AZURE_CLOUD_ENVIRONMENT)
        (either spelling, any case), else the cloud whose login host O(authority_host) is, else V(global).
    type: str
    choices: [global, usgov, usgovdod, china, AzureCloud, AzureUSGovernment, AzureUSGovernmentDoD, AzureChinaCloud]
    aliases: [cloud_environment]
  graph_endpoint:
    description:
      - Overrides the Graph host of O(cloud), as C(https://host[:port]) without a path. The token scope follows it.
      - Only C(https://) is accepted.
      - If not set, the value of the E(MSGRAPH_ENDPOINT) environment variable is used.
    type: str
  authority_host:
    description:
      - Overrides the Microsoft Entra login host of O(cloud), as C(https://host[:port]) or, as C(azure-identity)
        accepts it, a bare host such as C(login.microsoftonline.us).
      - Only C(https://) is accepted.
      - If not set, the value of the E(AZURE_AUTHORITY_HOST) environment variable is used.
    type: str
  api_version:
    description:
      - The Graph API version.
    type: str
    default: v1.0
    choices: [v1.0, beta]
  ca_path:
    description:
      - A PEM bundle of certificate authorities to trust for Graph and login hosts.
      - It wins over the E(REQUESTS_CA_BUNDLE) and E(CURL_CA_BUNDLE) environment variables.
      - When not set, those variables apply as they do for any C(requests) user (for example the
        CA of a TLS-inspecting proxy), and otherwise the C(certifi) bundle that C(requests) trusts (the
        system's trusted authorities when C(certifi) is not installed). Graph and login requests trust the same authorities.
    type: path
  validate_certs:
    description:
      - Whether to verify TLS certificates. Only turn this off for a throwaway test server.
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for each whole HTTP answer, not for each read; an answer not complete by then is a timeout.
    type: int
    default: 30
  retries:
    description:
      - How many times a throttled (429), unavailable (503, 504) or unanswered request is sent again.
      - A write whose outcome is unknown is only sent again after reading the item shows it did not take effect.
    type: int
    default: 3
  max_wait:
    description:
      - The most seconds one task spends waiting on C(Retry-After) and backoff in total. When a wait would go
        beyond it, the task fails with the last error instead of waiting.
    type: int
    default: 120
  token_cache_path:
    description:
      - A folder for the token cache, so the tasks of a play request a token once.
      - The cache holds one file per cloud, authority, tenant, client, user, auth method and credential (a
        wrong or rotated secret never uses another's token), with mode C(0600) in a folder with mode C(0700);
        wider modes are narrowed. It holds tokens, never client secrets or passwords.
      - A path that can not be used as that folder fails the task before any request.
      - Defaults to C(graphops.msgraph/tokens) under E(XDG_CACHE_HOME) or C(~/.cache).
      - An empty string turns the cache off.
      - If not set, the value of the E(MSGRAPH_TOKEN_CACHE) environment variable is used.
    type: path
requirements:
  - requests >= 2.25.0 (every request, MSAL's and Graph's, goes through one requests session)
  - msal >= 1.28.0 (not needed with O(auth_method=access_token))
notes:
  - Every request carries a fresh C(client-request-id); failures report it with Graph's C(request-id).
  - Secrets, passwords and tokens never appear in results, messages or the token cache file names.
  - A list, dictionary or boolean given for a text option (an id, a message, a credential) is refused before any
    request, naming the option, instead of being sent as its Python text.
"""
