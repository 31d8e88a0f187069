# Copyright (c) graphops.msgraph contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The collection's version, for the User-Agent of every Graph and token request."""

from __future__ import annotations

# Keep in step with galaxy.yml (tests/unit/plugins/module_utils/test_version.py checks it).
COLLECTION_VERSION = "0.2.0"
USER_AGENT = "graphops.msgraph/" + COLLECTION_VERSION
