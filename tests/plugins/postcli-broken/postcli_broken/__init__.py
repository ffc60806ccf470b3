"""A plugin whose import fails, as one with a missing dependency would."""

import a_library_that_is_not_installed  # noqa: F401

SPEC = None
