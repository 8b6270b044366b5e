"""Exercise l00.1: write a typed tool.

The decorator ``@tool`` (from :mod:`course.tools`) reads the signature and the
docstring below and turns them into the JSON schema the model sees. Your job is
the body: what the tool actually does.
"""

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from course.tools import tool


@tool
def get_current_time(timezone: str = "UTC") -> str:
    """Return the current date and time in a timezone, in ISO 8601 format.

    Args:
        timezone: An IANA timezone name such as "Europe/Paris" or "Asia/Tokyo".

    Returns:
        The time to the second with the zone's offset, such as "2026-12-01T17:50:04+09:00"
        (no fractions of a second).
    """
    ### BEGIN SOLUTION
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {timezone!r}: use an IANA name such as 'Europe/Paris'") from None
    return datetime.now(zone).isoformat(timespec="seconds")
    ### END SOLUTION
