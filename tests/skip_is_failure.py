# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pytest plugin (loaded by the Makefile with -p): a skipped test fails the run.

A skipped test counted as passed hides a check that did not happen. A test that cannot run
here must fail and say why, not vanish into a green summary.
"""


def _skipped(config):
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    return reporter.stats.get("skipped", []) if reporter else []


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # pylint: disable=unused-argument
    skipped = _skipped(config)
    if skipped:
        terminalreporter.write_line("%d test(s) skipped: a skip fails this run (tests/skip_is_failure.py)" % len(skipped), red=True)


def pytest_sessionfinish(session, exitstatus):
    if exitstatus == 0 and _skipped(session.config):
        session.exitstatus = 1
