# Copyright: graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Microsoft Graph and Entra ID emulator for tests: run `PYTHONPATH=tests python -m emulator`.

See docs/dev/architecture.md for the command line, the connection file and the control API.
"""
