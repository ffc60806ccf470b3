"""What a Google Business Profile local post may be, and its body (the LocalPost resource).

References:
  https://developers.google.com/my-business/reference/rest/v4/accounts.locations.localPosts
      (LocalPost: summary, topicType STANDARD|EVENT|OFFER, callToAction {actionType, url},
      event {title, schedule {startDate, startTime, endDate, endTime}} "required for topic
      types EVENT and OFFER", offer {couponCode, redeemOnlineUrl, termsConditions},
      media[] where "sourceUrl is the only supported data field"; callToAction is "ignored
      for topic type OFFER"; a CALL button's url "should be left unset")
  https://developers.google.com/my-business/content/posts-data (event, call-to-action and
      offer post examples)

Cheap to import: the spec's check_post runs it at `post create`, before anything is stored;
the adapter runs it again before sending (a post stored by an older postcli).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Mapping
from urllib.parse import urlsplit

from postcli.errors import InvalidInput

TYPES = ("STANDARD", "EVENT", "OFFER")
CTAS = ("BOOK", "ORDER", "SHOP", "LEARN_MORE", "SIGN_UP", "CALL")
EVENT_KEYS = ("event_title", "event_start", "event_end")
OFFER_KEYS = ("coupon", "terms")
# Not in the API reference: the Business Profile help's limit for a post's text, which
# third-party tools that post through the API repeat (docs/platforms/google-business.md).
MAX_SUMMARY = 1500
_WHEN = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ](\d{1,2}):(\d{2}))?$")


@dataclass(frozen=True)
class When:
    day: date
    hour: int | None = None
    minute: int | None = None

    @property
    def moment(self) -> datetime:
        return datetime(self.day.year, self.day.month, self.day.day, self.hour or 0, self.minute or 0)

    def date_json(self) -> dict[str, int]:
        return {"year": self.day.year, "month": self.day.month, "day": self.day.day}

    def time_json(self) -> dict[str, int] | None:
        if self.hour is None:
            return None
        return {"hours": self.hour, "minutes": self.minute or 0, "seconds": 0, "nanos": 0}


def parse_when(key: str, value: str) -> When:
    """YYYY-MM-DD or YYYY-MM-DD HH:MM (the location's own clock: Date and TimeOfDay carry no zone)."""
    found = _WHEN.match(value.strip())
    try:
        if found is None:
            raise ValueError
        day = date.fromisoformat(found.group(1))
        if found.group(2) is None:
            return When(day)
        hour, minute = int(found.group(2)), int(found.group(3))
        if not (0 <= hour <= 23 and 0 <= minute <= 59):
            raise ValueError
        return When(day, hour, minute)
    except ValueError:
        raise InvalidInput(
            f"--field google-business.{key}={value!r} is not a date (YYYY-MM-DD) or a date and time "
            "(YYYY-MM-DD HH:MM).",
            hint="Times are the business's local time, e.g. 2025-10-31 09:00.",
        ) from None


def problems(link: str | None, fields: Mapping[str, Any]) -> list[str]:
    """Everything wrong with a post's fields and link, as sentences; [] when it can be sent."""
    kind = str(fields.get("type") or "STANDARD")
    cta = fields.get("cta")
    found: list[str] = []
    if kind == "OFFER" and cta:
        found.append(
            "an OFFER post has no button (Google ignores callToAction for offers): leave out google-business.cta; "
            "--link is the offer's redeem link."
        )
    elif cta == "CALL" and link:
        found.append("the CALL button calls the business's phone number and takes no link: leave out --link.")
    elif cta and cta != "CALL" and not link:
        found.append(f"the {cta} button needs a link: add --link URL.")
    if kind in ("EVENT", "OFFER"):
        missing = [k for k in EVENT_KEYS if not fields.get(k)]
        if missing:
            found.append(
                f"an {kind} post needs " + ", ".join(f"google-business.{k}" for k in missing) + " (Google requires "
                "an event title and schedule for events and offers)."
            )
    else:
        extra = [k for k in (*EVENT_KEYS, *OFFER_KEYS) if fields.get(k)]
        if extra:
            found.append(
                ", ".join(f"google-business.{k}" for k in extra) + " is for EVENT or OFFER posts: add "
                "--field google-business.type=EVENT (or OFFER)."
            )
    if kind == "EVENT" and any(fields.get(k) for k in OFFER_KEYS):
        found.append("google-business.coupon and .terms are for OFFER posts: use --field google-business.type=OFFER.")
    if fields.get("event_start") and fields.get("event_end"):
        try:
            start = parse_when("event_start", str(fields["event_start"]))
            end = parse_when("event_end", str(fields["event_end"]))
        except InvalidInput as exc:
            found.append(exc.message)
        else:
            if end.moment < start.moment:
                found.append("google-business.event_end is before event_start.")
    if link is not None:
        parts = urlsplit(link.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            found.append(f"--link {link!r} is not an http(s) URL.")
    return found


def check_post(title: str | None, link: str | None, fields: Mapping[str, Any]) -> None:
    """The spec's check_post: InvalidInput (exit 2) naming every problem, before anything is stored."""
    found = problems(link, fields)
    if found:
        raise InvalidInput(
            "Google Business Profile: " + " ".join(found),
            hint="`postcli platforms google-business` lists the fields and what each takes.",
        )


def local_post(text: str, link: str | None, fields: Mapping[str, Any], image_url: str | None) -> dict[str, Any]:
    """The LocalPost to create. A --link without a button gets LEARN_MORE (the only place a
    standard or event post shows a link); on an OFFER it is the offer's redeemOnlineUrl."""
    kind = str(fields.get("type") or "STANDARD")
    body: dict[str, Any] = {"topicType": kind, "summary": text}
    cta = fields.get("cta") or ("LEARN_MORE" if link and kind != "OFFER" else None)
    if cta:
        body["callToAction"] = {"actionType": cta} if cta == "CALL" else {"actionType": cta, "url": link}
    if kind in ("EVENT", "OFFER"):
        start = parse_when("event_start", str(fields["event_start"]))
        end = parse_when("event_end", str(fields["event_end"]))
        schedule: dict[str, Any] = {"startDate": start.date_json(), "endDate": end.date_json()}
        if start.time_json() is not None:
            schedule["startTime"] = start.time_json()
        if end.time_json() is not None:
            schedule["endTime"] = end.time_json()
        body["event"] = {"title": str(fields["event_title"]), "schedule": schedule}
    if kind == "OFFER":
        offer = {
            "couponCode": fields.get("coupon"),
            "redeemOnlineUrl": link,
            "termsConditions": fields.get("terms"),
        }
        body["offer"] = {k: v for k, v in offer.items() if v}
    if image_url:
        body["media"] = [{"mediaFormat": "PHOTO", "sourceUrl": image_url}]
    return body
