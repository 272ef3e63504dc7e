"""Certificate numbers: unguessable, readable aloud, and self-checking.

A number is 15 random symbols of Crockford's base 32 (75 bits from :mod:`secrets`) and
one check symbol, shown in four groups of four: ``7K3M-9QXD-2HPA-4RTC``.

- Crockford's alphabet leaves out I, L, O and U, so nothing reads as 1 or 0, and when
  someone types I or L we read 1, O we read 0 (https://www.crockford.com/base32.html).
- The check symbol is Luhn mod N over that alphabet (N = 32): every single mistyped
  symbol changes it, and so does every swap of two neighbours except the one pair of
  symbols whose values are 0 and 31 (``0`` and ``Z``). A board clerk who mistypes a number
  therefore hears "that number has a typing mistake", not "no such certificate".
- 75 random bits: guessing a valid number takes about 2^74 tries on average, and
  ``/verify/`` is rate-limited besides.
"""

from __future__ import annotations

import secrets

from lms_core.errors import InvalidInput, Problem

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VALUES = {symbol: value for value, symbol in enumerate(ALPHABET)}
# Crockford: read the look-alikes as the digits they resemble.
_ALIASES = str.maketrans({"I": "1", "L": "1", "O": "0"})
BODY_LENGTH = 15
GROUP = 4
LENGTH = BODY_LENGTH + 1


class NumberMistyped(InvalidInput):
    """The number is malformed or its check symbol does not match."""


def check_symbol(body: str) -> str:
    """Luhn mod N (N = 32) over ``body``; the symbol that makes the whole number valid."""
    n = len(ALPHABET)
    total = 0
    factor = 2
    for symbol in reversed(body):
        addend = factor * _VALUES[symbol]
        total += addend // n + addend % n
        factor = 1 if factor == 2 else 2
    return ALPHABET[(n - total % n) % n]


def new_number() -> str:
    """A fresh random number, formatted in groups; uniqueness is the database's job."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))
    return format_number(body + check_symbol(body))


def format_number(compact: str) -> str:
    return "-".join(compact[i : i + GROUP] for i in range(0, len(compact), GROUP))


def normalise(text: str) -> str:
    """The canonical form of a typed number, or :class:`NumberMistyped` saying what is wrong.

    Case, spaces and hyphens do not matter; I/L and O are read as 1 and 0.
    """
    compact = "".join(text.split()).replace("-", "").upper().translate(_ALIASES)
    where = "certificate number"
    hint = "A certificate number has 16 letters and digits, like 7K3M-9QXD-2HPA-4RTC."
    if len(compact) != LENGTH:
        raise NumberMistyped(
            f"{text.strip()!r} is not a certificate number.",
            [Problem(f"it has {len(compact)} letters and digits, not {LENGTH}", where, hint)],
        )
    wrong = sorted({symbol for symbol in compact if symbol not in _VALUES})
    if wrong:
        raise NumberMistyped(
            f"{text.strip()!r} is not a certificate number.",
            [Problem(f"it contains {', '.join(wrong)}, which never appear in one", where, hint)],
        )
    if check_symbol(compact[:-1]) != compact[-1]:
        raise NumberMistyped(
            f"{format_number(compact)} has a typing mistake: its last character (the check "
            "character) does not match the others.",
            [
                Problem(
                    "the check character does not match",
                    where,
                    "Compare each character with the printed certificate; 0 and Z, or two "
                    "neighbouring characters swapped, are the usual slips.",
                )
            ],
        )
    return format_number(compact)


def is_well_formed(text: str) -> bool:
    try:
        normalise(text)
    except NumberMistyped:
        return False
    return True
