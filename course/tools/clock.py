"""``get_current_time``: the first tool of the course (lesson 00)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .tool import tool


@tool
def get_current_time(timezone: str = "UTC") -> str:
    """Return the current date and time in a timezone, in ISO 8601 format.

    Args:
        timezone: An IANA timezone name such as "Europe/Paris" or "Asia/Tokyo".
    """
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown timezone {timezone!r}: use an IANA name such as 'Europe/Paris' or 'UTC'"
        ) from None
    return datetime.now(zone).isoformat(timespec="seconds")
