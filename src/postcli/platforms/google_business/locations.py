"""The locations a Google account manages, and which one an account posts to.

References:
  https://developers.google.com/my-business/reference/accountmanagement/rest/v1/accounts/list
      GET mybusinessaccountmanagement.googleapis.com/v1/accounts: {"accounts": [{"name":
      "accounts/{id}", "accountName", "type", ...}], "nextPageToken"}; at most 20 a page
  https://developers.google.com/my-business/reference/businessinformation/rest/v1/accounts.locations/list
      GET mybusinessbusinessinformation.googleapis.com/v1/{parent=accounts/*}/locations with a
      required readMask: {"locations": [{"name": "locations/{id}", "title", "storeCode",
      "metadata": {"mapsUri", "placeId", ...}}], "nextPageToken"}; at most 100 a page. A
      PERSONAL account lists the locations it owns, other account types every location they reach.

Local posts live under accounts/{accountId}/locations/{locationId} (the v4 API), so a location
is kept with the account it was listed under.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator

from postcli.platforms.base import PlatformRejected
from postcli.platforms.values import as_dict, as_str

if TYPE_CHECKING:
    from postcli.platforms.google_api import GoogleApi

READ_MASK = "name,title,storeCode,metadata"
ACCOUNT_PAGES = 5  # 20 accounts a page
LOCATION_PAGES = 10  # 100 locations a page, per account


@dataclass(frozen=True)
class Location:
    account: str  # accounts/{accountId}
    name: str  # locations/{locationId}
    title: str
    store_code: str | None = None
    maps_uri: str | None = None

    @property
    def id(self) -> str:
        return self.name.rsplit("/", 1)[-1]

    @property
    def parent(self) -> str:
        """Where its local posts live (v4): accounts/{accountId}/locations/{locationId}."""
        return f"{self.account}/{self.name}"

    @property
    def label(self) -> str:
        return self.title + (f" (store code {self.store_code})" if self.store_code else "")


def _pages(
    api: GoogleApi, url: str, what: str, key: str, params: dict[str, Any], pages: int
) -> Iterator[dict[str, Any]]:
    params = dict(params)
    for _ in range(pages):
        body = as_dict(api.call("GET", url, what, params=params))
        yield from (item for item in body.get(key) or [] if isinstance(item, dict))
        token = as_str(body.get("nextPageToken"))
        if not token:
            return
        params["pageToken"] = token


def list_locations(api: GoogleApi) -> list[Location]:
    """Every location the signed-in Google account manages, each once (the first account that lists it)."""
    accounts = [
        str(a["name"])
        for a in _pages(
            api,
            api.url("accounts", "/v1/accounts"),
            "listing your Business Profile accounts",
            "accounts",
            {"pageSize": 20},
            ACCOUNT_PAGES,
        )
        if (as_str(a.get("name")) or "").startswith("accounts/")
    ]
    found: dict[str, Location] = {}
    for account in accounts:
        for loc in _pages(
            api,
            api.url("information", f"/v1/{account}/locations"),
            f"listing the locations of {account}",
            "locations",
            {"readMask": READ_MASK, "pageSize": 100},
            LOCATION_PAGES,
        ):
            name = as_str(loc.get("name")) or ""
            if not name.startswith("locations/") or name in found:
                continue
            found[name] = Location(
                account=account,
                name=name,
                title=as_str(loc.get("title")) or name,
                store_code=as_str(loc.get("storeCode")),
                maps_uri=as_str(as_dict(loc.get("metadata")).get("mapsUri")),
            )
    return list(found.values())


def matches(location: Location, wanted: str) -> bool:
    """--location as an id, locations/ID, accounts/A/locations/ID or the location's title."""
    value = wanted.strip()
    if value in (location.id, location.name, location.parent):
        return True
    return bool(value) and value.casefold() == location.title.strip().casefold()


def pick(locations: list[Location], wanted: str | None, platform: str) -> Location:
    """The location to post to: the one named, the only one, or PlatformRejected listing them."""
    listing = "; ".join(f"{loc.id} ({loc.label})" for loc in locations)
    if not locations:
        raise PlatformRejected(
            "the signed-in Google account manages no Business Profile location",
            platform=platform,
            hint="sign in with the Google account that owns or manages the business (business.google.com)",
        )
    if wanted:
        found = [loc for loc in locations if matches(loc, wanted)]
        if len(found) == 1:
            return found[0]
        what = "several locations are" if found else "no location is"
        raise PlatformRejected(
            f"{what} named {wanted!r}; the Google account manages: {listing}",
            platform=platform,
            hint="pass --location with one of these ids",
        )
    if len(locations) == 1:
        return locations[0]
    raise PlatformRejected(
        f"the Google account manages several locations: {listing}",
        platform=platform,
        hint="pass --location ID to choose one",
    )
