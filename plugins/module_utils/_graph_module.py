# Copyright (c) graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The module wrapper: common options merged into every module's argument spec, the client built
lazily after the options are checked, and one failure formatter (after amazon.aws's
AnsibleAWSModule and fail_json_aws). Composition, not inheritance: gm.module is the AnsibleModule.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import traceback

from ansible.module_utils.basic import AnsibleModule, _load_params, env_fallback, missing_required_lib

from ansible_collections.graphops.msgraph.plugins.module_utils._clouds import API_VERSIONS, CLOUD_CHOICES, resolve_cloud
from ansible_collections.graphops.msgraph.plugins.module_utils._credential_sources import (
    AUTH_METHODS, AUTH_SOURCES, resolve, select_auth_method)
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_auth import build_credential
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_client import GraphClient
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_errors import (
    AuthenticationError, ConfigurationError, GraphError, GraphLayerError, InvalidInputError, redact)
from ansible_collections.graphops.msgraph.plugins.module_utils import _permissions as permissions
from ansible_collections.graphops.msgraph.plugins.module_utils._graph_session import HAS_REQUESTS, REQUESTS_IMPORT_ERROR, new_session
from ansible_collections.graphops.msgraph.plugins.module_utils._mailbox_lock import (
    ControllerGone, ControllerWatch, MailboxLock, describe_unfinished)
from ansible_collections.graphops.msgraph.plugins.module_utils._version import USER_AGENT


def graph_argument_spec():
    """The common options, documented once in plugins/doc_fragments/graph.py.

    No env_fallback: the environment (both AZURE_* families) and azure.azcollection's credential file
    are read by _credential_sources.resolve(), which remembers where each value came from.
    """
    return dict(
        auth_method=dict(type="str", default="auto", choices=["auto"] + list(AUTH_METHODS)),
        auth_source=dict(type="str", default="auto", choices=list(AUTH_SOURCES)),
        profile=dict(type="str"),
        tenant_id=dict(type="str", aliases=["tenant"]),
        client_id=dict(type="str"),
        client_secret=dict(type="str", no_log=True, aliases=["secret"]),
        client_certificate_path=dict(type="path"),
        client_certificate_password=dict(type="str", no_log=True),
        federated_token_file=dict(type="path"),
        username=dict(type="str", aliases=["ad_user"]),
        password=dict(type="str", no_log=True),
        access_token=dict(type="str", no_log=True),
        cloud=dict(type="str", choices=list(CLOUD_CHOICES), aliases=["cloud_environment"]),
        graph_endpoint=dict(type="str"),
        authority_host=dict(type="str"),
        api_version=dict(type="str", default="v1.0", choices=list(API_VERSIONS)),
        ca_path=dict(type="path"),
        validate_certs=dict(type="bool", default=True),
        timeout=dict(type="int", default=30),
        retries=dict(type="int", default=3),
        max_wait=dict(type="int", default=120),
        token_cache_path=dict(type="path", no_log=False, fallback=(env_fallback, ["MSGRAPH_TOKEN_CACHE"])),
    )


# What Ansible quietly turns into text for a str or path option: a list becomes "['a', 'b']", a dict
# "{'a': 1}", a bool "True". Such a value is a templating or spreadsheet accident, and as an id it
# would reach Graph as a real-looking path segment, so it is refused instead. Numbers stay accepted:
# their text is exactly what was written.
_NOT_TEXT = (list, tuple, set, dict, bool)


def wrong_types(spec, raw, prefix=""):
    """[(option, type name)] for each str/path option, or str element of a list option, given a non-text value.

    raw are the module parameters as the controller sent them, before AnsibleModule converted them.
    """
    found = []
    if not isinstance(raw, dict):
        return found
    for name, option in spec.items():
        value = raw.get(name)
        if value is None:
            continue
        kind = option.get("type", "str")
        label = prefix + name
        if kind in ("str", "path") and isinstance(value, _NOT_TEXT):
            found.append((label, type(value).__name__))
        elif kind == "list" and option.get("elements") in ("str", "path") and isinstance(value, (list, tuple)):
            found.extend(("%s[%d]" % (label, index), type(element).__name__)
                         for index, element in enumerate(value) if isinstance(element, _NOT_TEXT))
        elif kind == "dict" and option.get("options") and isinstance(value, dict):
            found.extend(wrong_types(option["options"], value, label + "."))
    return found


def build_verify(params):
    """The verify value for the requests session: the ca_path bundle, True, or False when validate_certs is off."""
    ca_path = params.get("ca_path")
    if params.get("validate_certs") is False:
        if ca_path:
            raise ConfigurationError("ca_path and validate_certs=false contradict each other", option="ca_path")
        return False
    if ca_path:
        if not os.path.isfile(ca_path) or not os.access(ca_path, os.R_OK):
            raise ConfigurationError("ca_path: {0} is not a readable file".format(ca_path), option="ca_path")
        return ca_path
    return True


def check_numbers(params):
    for name, low in (("timeout", 1), ("retries", 0), ("max_wait", 0)):
        value = params.get(name)
        if value is not None and value < low:
            raise ConfigurationError("{0} must be at least {1}".format(name, low), option=name)


class GraphModule:
    """Wraps AnsibleModule for the Graph modules (see docs/dev/architecture.md, section 2)."""

    def __init__(self, argument_spec=None, mutually_exclusive=None, required_one_of=None, required_together=None,
                 required_if=None, required_by=None, supports_check_mode=True, mailbox_concurrency=4):
        spec = graph_argument_spec()
        spec.update(argument_spec or {})
        self.module = AnsibleModule(
            argument_spec=spec,
            mutually_exclusive=mutually_exclusive or [],
            required_one_of=required_one_of or [],
            required_together=required_together or [],
            required_if=required_if or [],
            required_by=required_by or {},
            supports_check_mode=supports_check_mode,
        )
        self._refuse_wrong_types(spec)
        self.params = self.module.params
        self.check_mode = self.module.check_mode
        self.mailbox_concurrency = mailbox_concurrency
        self._cloud = None
        self._sources = None
        self._session = None
        self._credential = None
        self._client = None
        self.permission = None  # (area, access) of _permissions.PERMISSIONS, set by check_permissions()

    # ------------------------------------------------------------------ options

    def _refuse_wrong_types(self, spec):
        """Fail, before any request, when a list, dict or bool was given where text is expected."""
        try:
            raw = _load_params()  # the parameters as sent, read again: AnsibleModule has converted its copy
        except Exception:  # pylint: disable=broad-exception-caught
            return  # not readable again (an unusual runner): AnsibleModule's own type checks still apply
        found = wrong_types(spec, raw)
        if found:
            self.module.fail_json(msg="; ".join("{0} must be a string, got a {1}".format(option, kind) for option, kind in found))

    @property
    def sources(self):
        """The connection values completed from the environment and credential file, with their origins."""
        if self._sources is None:
            try:
                self._sources = resolve(self.params, os.environ)
            except ConfigurationError as exc:
                self.fail_graph(exc, "Invalid connection options")
            if self._sources.unused:
                # Names only, never values: set but not used is reported, never silent (issue 19).
                self.module.warn("Set but not used: {0}".format(", ".join(self._sources.unused)))
        return self._sources

    @property
    def cloud_settings(self):
        """Effective CloudSettings (name, authority_host, graph_endpoint, scope, bookings)."""
        if self._cloud is None:
            resolved = self.sources.params
            try:
                self._cloud = resolve_cloud(resolved.get("cloud"), resolved.get("graph_endpoint"),
                                            resolved.get("authority_host"), origins=self.sources.origins)
            except ConfigurationError as exc:
                self.fail_graph(exc, "Invalid connection options")
        return self._cloud

    @property
    def cloud(self):
        return self.cloud_settings.name

    def credential(self):
        """The validated credential (token provider); fails the task before any request when options can not work."""
        if self._credential is None:
            try:
                check_numbers(self.params)
                verify = build_verify(self.params)
                sources = self.sources
                method = select_auth_method(sources.params, sources)
                if not HAS_REQUESTS:
                    self.module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)
                if method not in ("access_token", "azure_cli") and importlib.util.find_spec("msal") is None:
                    # MSAL is imported when a token is first needed; say now that it is missing.
                    self.module.fail_json(msg=missing_required_lib("msal"))
                # One requests session for the run: MSAL's requests and Graph's go through it alike.
                self._session = new_session(verify, self.params["timeout"], USER_AGENT, self.cloud_settings.authority_host)
                self._credential = build_credential(sources.params, cloud=self.cloud_settings, verify=verify,
                                                    timeout=self.params["timeout"], user_agent=USER_AGENT,
                                                    session=self._session, sources=sources)
            except ConfigurationError as exc:
                self.fail_graph(exc, "Invalid connection options")
        return self._credential

    def client(self):
        """The GraphClient, built once; validates auth, cloud and endpoint options first (no request)."""
        if self._client is None:
            credential = self.credential()
            self._client = GraphClient(
                self.cloud_settings.graph_endpoint, self.params["api_version"], credential,
                verify=credential.verify, timeout=self.params["timeout"], retries=self.params["retries"],
                max_wait=self.params["max_wait"], user_agent=USER_AGENT,
                mailbox_concurrency=self.mailbox_concurrency, session=self._session)
        return self._client

    def is_delegated(self):
        """True when the token will speak for a user (password, or an access_token with scp), known without a request."""
        return self.credential().is_delegated()

    def check_permissions(self, area, access, msg, result):
        """Fail before any Graph request when the token carries none of the permissions of (area, access).

        The token's roles / scp are read from its payload (issue 17); getting the token is the only
        request, to the identity platform, and a failure there is reported as msg would report it.
        Returns a note for the result when the token is opaque (nothing could be checked), else None.
        """
        self.permission = (area, access)
        with self.graph_step(msg, result):
            token = self.credential().get_token()
        if permissions.token_claims(token) is None:
            return permissions.OPAQUE_NOTE
        text = permissions.missing_message(area, access, token)
        if text:
            self.module.fail_json(msg=text, required_permissions=permissions.needed(area, access),
                                  **dict(result, changed=False))
        return None

    def forbidden_hint(self, error):
        """error; a 403 gets the permissions of the action check_permissions() was given (see _permissions)."""
        if self.permission is not None and getattr(error, "status", None) == 403:
            permissions.annotate_forbidden(error, self.permission[0], self.permission[1], self.credential().is_delegated())
        return error

    # ------------------------------------------------------------------ one writer per mailbox

    @contextlib.contextmanager
    def writer(self, mailbox, doing, result):
        """Outside check mode, hold the controller's lock on mailbox while the block reads and cancels,
        and stop the client's writes once the process that started the task is gone (issue 16,
        docs/dev/architecture.md "One writer per mailbox"). Check mode writes nothing: no lock.

        A lock not obtained within max_wait fails the task (nothing sent) naming its holder; a
        previous run that did not finish is reported as a warning and in result["previous_run"].
        """
        if self.check_mode:
            yield None
            return
        client = self.client()
        lock = MailboxLock(self.cloud_settings.graph_endpoint, mailbox, self.module._name)
        try:
            lock.acquire(self.params["max_wait"], doing)
        except GraphLayerError as exc:
            self.fail_graph(exc, "Nothing sent", **result)
        previous = lock.previous_unfinished()
        if previous:
            self.module.warn(describe_unfinished(previous))
            result["previous_run"] = dict((k, previous.get(k)) for k in ("pid", "host", "started", "state", "stopped_because"))
            result["previous_run"]["cancel_sent"] = (previous.get("cancel_sent") or [])[-100:]
        watch = ControllerWatch()

        def before_write(keys):
            gone = watch.gone()
            if gone is not None:
                why = ("stopped before sending %d more cancel(s): process %d, which started this task (ansible-playbook or "
                       "its worker), is gone" % (len(keys), gone))
                lock.record(state="stopped", stopped_because=why)
                raise ControllerGone(why)
            lock.record(cancel_sent=keys)  # written ahead: the trace lists every cancel that may have been sent

        client.before_write = before_write
        try:
            yield lock
        finally:
            client.before_write = None
            stopped = isinstance(client.stopped, ControllerGone)
            lock.release(state="stopped" if stopped else "finished")

    # ------------------------------------------------------------------ failures

    def fail_input(self, exc, **result):
        """Fail the task for an InvalidInputError: its message, which names the option, is the message.

        When the option's value came from the environment or the credential file, the message says so
        ("cloud came from AZURE_CLOUD_ENVIRONMENT"): the task's own options do not show it.
        """
        result.setdefault("changed", False)
        msg = str(exc)
        origin = self._sources.origins.get(exc.option) if self._sources is not None and exc.option else None
        if origin and not origin.startswith("option "):
            msg = "{0} ({1} came from {2})".format(msg, exc.option, origin)
        self.module.fail_json(msg=msg, **result)

    def validated(self, check, *args, **result):
        """Return check(*args); an InvalidInputError fails the task through fail_input() with result."""
        try:
            return check(*args)
        except InvalidInputError as exc:
            self.fail_input(exc, **result)

    @contextlib.contextmanager
    def graph_step(self, msg, result):
        """Run a step that talks to Graph: an InvalidInputError (known only once Graph answered) fails
        through fail_input(), anything else through fail_graph(exc, msg), both with result as it is then."""
        try:
            yield
        except InvalidInputError as exc:
            self.fail_input(exc, **result)
        except Exception as exc:  # a GraphError, or an unexpected failure (transport, bug): one formatter for all
            self.fail_graph(exc, msg, **result)

    def fail_graph(self, exc, msg, **result):
        """Fail the task: '<msg>: HTTP 403 ErrorAccessDenied: ... (request-id ..., client-request-id ...)'.

        result keys (changed, items done so far, ...) are returned alongside error=exc.to_dict().
        """
        if isinstance(exc, GraphLayerError):
            detail = str(self.forbidden_hint(exc))
            result["error"] = exc.to_dict()
        else:
            detail = redact("{0}: {1}".format(type(exc).__name__, exc))
            result["error"] = {"type": type(exc).__name__, "message": detail}
        if isinstance(exc, ConfigurationError) and exc.option:
            result["error"]["option"] = exc.option
        result.setdefault("changed", False)
        exception = None
        if not isinstance(exc, ConfigurationError):
            exception = redact("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
        text = "{0}: {1}".format(msg, detail) if msg else detail
        if exception:
            self.module.fail_json(msg=text, exception=exception, **result)
        self.module.fail_json(msg=text, **result)


__all__ = ["GraphModule", "graph_argument_spec", "GraphError", "AuthenticationError", "ConfigurationError"]
