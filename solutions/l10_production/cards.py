"""Exercise l10.3: card numbers out of text before it leaves the device.

A payment card number has 13 to 19 digits, and its last digit is a check
digit (the Luhn algorithm): from the right, double every second digit,
subtract 9 from any result above 9, add everything up; the total of a valid
number is a multiple of 10. ``4539 1488 0343 6467`` is valid;
``4539 1488 0343 6468`` is not.

People write card numbers with single spaces or dashes between groups of
digits. A redactor replaces each valid number with ``[CARD]`` and leaves
every other run of digits alone: an order number, a phone number, a number
that fails the check (redacting those would hide data the agent needs).
"""

import re


def luhn_ok(digits: str) -> bool:
    """Whether ``digits`` (only the characters 0-9, at least 2 of them) passes the Luhn check."""
    ### BEGIN SOLUTION
    if len(digits) < 2 or not digits.isascii() or not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0
    ### END SOLUTION


def redact_cards(text: str) -> str:
    """``text`` with every Luhn-valid card number replaced by ``[CARD]``.

    A run is as many digits as follow each other, where a single space or a
    single dash may stand between two digits; a run of 13 to 19 digits that
    passes the check is a card number, separators included:
    ``pay 4539-1488-0343-6467 now`` becomes ``pay [CARD] now``. A run is never
    split: ``12345678901234567890123`` (23 digits) holds no card number, and
    neither does ``4539 1488 0343 6467 2`` (17 digits that fail the check).
    """
    ### BEGIN SOLUTION
    def replace(m: re.Match) -> str:
        digits = re.sub(r"[ -]", "", m.group(0))
        return "[CARD]" if 13 <= len(digits) <= 19 and luhn_ok(digits) else m.group(0)

    return re.sub(r"[0-9](?:[ -]?[0-9])*", replace, text)
    ### END SOLUTION
