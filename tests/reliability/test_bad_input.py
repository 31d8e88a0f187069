# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad input, as spreadsheets and other tools produce it: each value is refused with a message naming
the option, and nothing reaches the emulator (no Graph request, no token request, no discovery):
its HTTP record of the whole run stays empty.

Repeated ids are not bad input: they are cancelled once and each recipient notified once.
"""

import pytest

import reliability_support as rs
from playbook_runner import connection_defaults

MANY = 50000


def _connection(conn, **extra):
    """Explicit per-task connection options (no module_defaults, so a task can leave credentials out)."""
    args = {"graph_endpoint": conn["graph_endpoint"], "authority_host": conn["authority_host"], "ca_path": conn["ca_path"],
            "tenant_id": conn["tenant_id"], "client_id": conn["apps"]["secret"]["client_id"],
            "client_secret": conn["apps"]["secret"]["client_secret"]}
    args.update(extra)
    return {k: v for k, v in args.items() if v is not None}


def _character_cases(id_option):
    """Ids holding what no Graph id holds; one check (_ids.validate_id) serves both modules, so these
    are split between them (_booking_cases takes the even ones, _event_cases the odd ones)."""
    return [
        ("id with /", {id_option: "AAMkAD/../../users"}, id_option),
        ("id ..", {id_option: ".."}, id_option),
        ("id with ?", {id_option: "AAMkAD?$select=id"}, id_option),
        ("id with #", {id_option: "AAMkAD#x"}, id_option),
        ("id with %", {id_option: "AAMkAD%2F..%2F"}, id_option),
        ("id with a newline", {id_option: "AAMkAD\nX"}, id_option),
        ("id with a control character", {id_option: "AAMkAD\x01X"}, id_option),
        ("id with DEL", {id_option: "AAMkAD\x7fX"}, id_option),
        ("10,000-character id", {id_option: "A" * 10000}, id_option),
        ("blank id in a list", {id_option + "s": ["AAMkADok=", " "]}, id_option + "s"),
    ]


def _id_cases(id_option, selector):
    """(name, module args, option the message must name) for what each module validates itself."""
    return [
        ("empty id", {id_option: ""}, id_option),
        ("blank id", {id_option: "   "}, id_option),
        ("empty id in a list", {id_option + "s": ["AAMkADok=", ""]}, id_option + "s"),
        ("empty list", {id_option + "s": []}, id_option + "s"),
        ("list for an id", {id_option: ["AAMkADa=", "AAMkADb="]}, id_option),
        ("dict for an id", {id_option: {"id": "AAMkADa="}}, id_option),
        ("bool for an id", {id_option: True}, id_option),
        ("dict for the id list", {id_option + "s": {"a": 1}}, id_option + "s"),
        ("dict inside the id list", {id_option + "s": ["AAMkADa=", {"id": "x"}]}, id_option + "s[1]"),
        ("50,000 different ids", {id_option + "s": ["AAMkADmany%05d=" % n for n in range(MANY)]}, id_option + "s"),
        ("start that is not a date", {"match": {"start": "next Monday", "end": "2027-03-03T00:00:00Z"}}, "match.start"),
        ("end before start", {"match": {"start": "2027-03-03T00:00:00Z", "end": "2027-03-02T00:00:00Z"}}, "match.end"),
    ]


def _connection_cases(conn, tmp_path, selector):
    """Connection options: checked by the shared module wrapper, so each case runs through one module only
    (split between the two in _booking_cases and _event_cases)."""
    cert = conn["apps"]["certificate"]
    cert_app = {"client_secret": None, "client_id": cert["client_id"]}
    return [
        ("text for retries", dict(selector, retries="many"), "retries"),
        ("unknown cloud", dict(selector, cloud="mars"), "cloud"),
        ("http:// Graph endpoint", dict(selector, graph_endpoint="http://" + conn["graph_endpoint"].split("://")[1]),
         "graph_endpoint"),
        ("http:// authority host", dict(selector, authority_host="http://" + conn["authority_host"].split("://")[1]),
         "authority_host"),
        ("conflicting credentials", dict(selector, client_certificate_path=cert["pem_path"]), "client_certificate_path"),
        ("no credentials", dict(selector, client_secret=None), "client_secret"),
        ("secret without tenant", dict(selector, tenant_id=None), "tenant_id"),
        ("certificate file missing", dict(selector, client_certificate_path=str(tmp_path / "missing.pem"), **cert_app),
         "client_certificate_path"),
        ("certificate path is a folder", dict(selector, client_certificate_path=str(tmp_path), **cert_app),
         "client_certificate_path"),
        ("wrong certificate password", dict(selector, client_certificate_path=cert["pfx_path"],
                                            client_certificate_password="not-the-password", **cert_app),
         "client_certificate_password"),
    ]


def _booking_cases(conn, tmp_path):
    selector = {"appointment_id": "AAMkADok="}
    common = (_id_cases("appointment_id", selector) + _character_cases("appointment_id")[0::2]
              + _connection_cases(conn, tmp_path, selector)[0::2])
    cases = [(n, dict({"business_id": rs.BUSINESS}, **args), option) for n, args, option in common]
    cases += [
        ("business id with /", {"business_id": "contoso/../x", "appointment_id": "AAMkADok="}, "business_id"),
        ("dict for the business id", {"business_id": {"a": 1}, "appointment_id": "AAMkADok="}, "business_id"),
        ("list for the message", {"business_id": rs.BUSINESS, "appointment_id": "AAMkADok=", "cancellation_message": ["a"]},
         "cancellation_message"),
        ("Bookings in the china cloud", {"business_id": rs.BUSINESS, "appointment_id": "AAMkADok=", "cloud": "china"}, "cloud"),
    ]
    return cases


def _event_cases(conn, tmp_path):
    selector = {"event_id": "AAMkADok="}
    common = (_id_cases("event_id", selector) + _character_cases("event_id")[1::2]
              + _connection_cases(conn, tmp_path, selector)[1::2])
    cases = [(n, dict({"user": rs.ORGANIZER}, **args), option) for n, args, option in common]
    cases += [
        ("user with /", {"user": "adele/../megan", "event_id": "AAMkADok="}, "user"),
        ("user and group", {"user": rs.ORGANIZER, "group_id": "3d9f6a1b-2c4e-4f8a-b7d6-5e4c3b2a1f10", "event_id": "AAMkADok="},
         "group_id"),
        ("occurrence date that is not a date", {"user": rs.ORGANIZER, "occurrence": {"series_id": "AAMkADok=", "date": "2027-13-45"}},
         "occurrence.date"),
        ("list for the comment", {"user": rs.ORGANIZER, "event_id": "AAMkADok=", "comment": ["a"]}, "comment"),
        ("/me with an app token", {"event_id": "AAMkADok="}, "user"),
    ]
    return cases


@pytest.mark.parametrize("module", ["booking", "event"])
def test_bad_input_is_refused_naming_the_option_before_any_request(module, emu, runner, ledger, tmp_path):
    conn = emu.conn
    cases = _booking_cases(conn, tmp_path) if module == "booking" else _event_cases(conn, tmp_path)
    tasks = [{"name": name, rs.MODULES[module]: _connection(conn, **args), "ignore_errors": True} for name, args, _option in cases]
    play = runner.play(tasks)
    record = rs.Record(emu)
    for name, _args, option in cases:
        case = ledger.case("bad input: %s" % module, name)
        task = play[name]
        case.check(task is not None, "the task left no result")
        if task is None:
            continue
        message = task["result"].get("msg", "")
        case.check(task["status"] == "failed", "not refused: %s" % message[:300])
        case.check(option in message, "the message does not name %s: %s" % (option, message[:300]))
        reached = record.http_between(task["start"], task["end"])
        case.check(not reached, "requests reached the emulator: %s" % reached[:5])
    # And over the whole run, not only inside each task's time window: nothing at all.
    whole = ledger.case("bad input: %s" % module, "the whole run sent nothing")
    whole.check(not record.http, "the emulator received %d requests: %s" % (len(record.http), record.http[:5]))
    whole.check(not record.token_requests, "token requests: %s" % record.token_requests)
    whole.check(not record.notifications, "notifications: %s" % record.notifications[:5])
    whole.check(len(play.tasks) == len(cases), "only %d of %d tasks ran" % (len(play.tasks), len(cases)))
    ledger.verify()


@pytest.mark.parametrize("module", ["booking", "event"])
def test_repeated_ids_are_cancelled_once(module, emu, runner, ledger):
    items = rs.seed_items(emu, module, "Rep" + module[0], 2)
    first, second = items
    key = "appointment_ids" if module == "booking" else "event_ids"
    task = rs.cancel_task("repeated ids", module, items)
    task[rs.MODULES[module]][key] = [first.id, first.id, second.id, first.id, second.id]
    play = runner.play([task], module_defaults=connection_defaults(emu.conn))
    record = rs.Record(emu)
    case = ledger.case("bad input: %s" % module, "repeated ids (not refused: each cancelled once)")
    rs.check_first_run(case, record, play["repeated ids"], items, "ok")
    case.check(play["repeated ids"] and play["repeated ids"]["result"].get("cancelled") == [first.id, second.id],
               "cancelled should list each id once, in order")
    for item in items:
        case.check(len(record.cancels(item)) == 1, "%s: %d cancels sent" % (item.id, len(record.cancels(item))))
    rs.check_gone(case, emu, items)
    rs.count_notifications(case, record, items)
    ledger.verify()
