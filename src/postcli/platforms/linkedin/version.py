"""The LinkedIn API version every /rest/ call names (the `LinkedIn-Version: YYYYMM` header).

LinkedIn releases a version a month and serves each for at least a year, then answers it
with 426 NONEXISTENT_VERSION (learn.microsoft.com/en-us/linkedin/marketing/versioning,
.../marketing/integrations/migrations). DEFAULT_VERSION is one the docs serve pages for
(the Posts API's view li-lms-2026-05); `[apps.linkedin] version = "YYYYMM"` in config.toml
or POSTCLI_LINKEDIN_VERSION replaces it for every account.
"""

from __future__ import annotations

import re

from postcli.errors import BadSettings, PlatformRejected

DEFAULT_VERSION = "202605"
SETTING = "[apps.linkedin] version in the config file (or POSTCLI_LINKEDIN_VERSION)"
VERSIONS_PAGE = "https://learn.microsoft.com/en-us/linkedin/marketing/versioning"


class VersionSettingError(PlatformRejected, BadSettings):
    """The configured LinkedIn version is not one LinkedIn serves: fix the setting (exit 2).
    A PlatformRejected too, so a publish records it on its target and sends nothing."""


def check_version(value: str) -> str:
    """The one check of the setting: "YYYYMM" (a patch suffix ".NN" allowed), month 01-12."""
    text = value.strip()
    m = re.fullmatch(r"(20\d\d)(0[1-9]|1[0-2])(\.\d{1,2})?", text)
    if m is None:
        raise VersionSettingError(
            f'{SETTING} is {value!r}; LinkedIn versions look like "{DEFAULT_VERSION}" (YYYYMM).',
            platform="linkedin",
            hint=f"Set it to a version listed at {VERSIONS_PAGE}, or remove it for postcli's default.",
        )
    return text


def sunset(version: str, detail: str | None) -> VersionSettingError:
    """LinkedIn's 426: the version is no longer (or not yet) served."""
    return VersionSettingError(
        f"LinkedIn does not serve API version {version} (426 NONEXISTENT_VERSION"
        + (f": {detail}" if detail else "")
        + f"): it was sunset, or is not out yet; nothing was sent. Set a current one in {SETTING}.",
        platform="linkedin",
        hint=f"Versions and their sunset dates: {VERSIONS_PAGE} (postcli's default is {DEFAULT_VERSION}).",
    )
