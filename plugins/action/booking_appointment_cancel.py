# Copyright (c) graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action for the booking_appointment_cancel module: see plugins/plugin_utils/_module_action.py."""
from __future__ import annotations

from ansible_collections.graphops.msgraph.plugins.plugin_utils._module_action import ActionModule  # noqa: F401  pylint: disable=unused-import
