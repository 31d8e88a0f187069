# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reliability suite (issue 7): real playbooks against the emulator, judged through its record.

Fixtures: `runner` (a RecordingRunner: its runs also leave one JSON line per task, see
callback_plugins/task_record.py) and `ledger` (the cases a test tries, each with its own checks and
notification counts). After the run the suite prints one table: cases tried, passed, and
notifications sent versus expected, per group (pytest_terminal_summary below; with xdist the cases
travel to the controller in each test's user_properties).
"""

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from playbook_runner import RecordingRunner  # noqa: E402  pylint: disable=wrong-import-position
from reliability_support import Ledger  # noqa: E402  pylint: disable=wrong-import-position

PROPERTY = "reliability_cases"
GROUP_ORDER = ("faults", "throttle storm", "bad input", "secrets", "never twice", "scale")


@pytest.fixture
def ledger(request):
    led = Ledger()
    yield led
    request.node.user_properties.append((PROPERTY, [c.as_dict() for c in led.cases]))


@pytest.fixture
def runner(emu, tmp_path):
    """A RecordingRunner bound to the freshly reset session emulator."""
    return RecordingRunner(emu.conn, tmp_path)


# ------------------------------------------------------------------------------ the closing table

_COLLECTED = []


def pytest_runtest_logreport(report):
    if report.when != "teardown":
        return
    for key, value in report.user_properties:
        if key == PROPERTY:
            _COLLECTED.extend(value)


def _group_key(group):
    head = group.split(":")[0]
    return (GROUP_ORDER.index(head) if head in GROUP_ORDER else len(GROUP_ORDER), group)


def summary_rows(cases):
    """[(group, tried, passed, sent, expected)] in GROUP_ORDER, then a total row."""
    groups = {}
    for case in cases:
        row = groups.setdefault(case["group"], [0, 0, 0, 0])
        row[0] += 1
        row[1] += 1 if case["passed"] else 0
        row[2] += case["sent"]
        row[3] += case["expected"]
    rows = [(g,) + tuple(groups[g]) for g in sorted(groups, key=_group_key)]
    total = ("total",) + tuple(sum(r[i] for r in rows) for i in range(1, 5))
    return rows + [total]


def format_table(cases):
    lines = ["| group | cases tried | passed | notifications sent / expected |", "|---|---:|---:|---:|"]
    for group, tried, passed, sent, expected in summary_rows(cases):
        lines.append("| %s | %d | %d | %d / %d |" % (group, tried, passed, sent, expected))
    return lines


def pytest_terminal_summary(terminalreporter):
    if not _COLLECTED:
        return
    terminalreporter.write_sep("=", "reliability suite: cases tried, passed, notifications sent vs expected")
    for line in format_table(_COLLECTED):
        terminalreporter.write_line(line)
    failed = [c for c in _COLLECTED if not c["passed"]]
    for case in failed:
        terminalreporter.write_line("FAILED %s / %s: %s" % (case["group"], case["name"], "; ".join(case["problems"])[:400]),
                                    red=True)
