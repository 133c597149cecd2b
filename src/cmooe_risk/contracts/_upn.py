"""Unique Pupil Numbers (UPNs): format and check letter.

A UPN is 13 characters: a check letter, the 3-digit LA code, the 4-digit DfE
establishment number, 2 digits for the year of allocation and a 3-character
serial (the last may be a letter in a temporary UPN). The check letter is
found by weighting characters 2 to 13 by 2 to 13, summing, and taking the sum
modulo 23 as an index into the alphabet without I, O and S (DfE, "A guide to
the UPN"). Letters in position 13 take their index in that same alphabet; we
have not been able to verify that detail for temporary UPNs.
"""

from __future__ import annotations

__all__ = ["UPN_ALPHABET", "UPN_PATTERN", "upn_check_letter", "upn_check_sql"]

UPN_ALPHABET = "ABCDEFGHJKLMNPQRTUVWXYZ"
UPN_PATTERN = "[A-HJ-NP-RT-Z][0-9]{11}[0-9A-HJ-NP-RT-Z]"


def _value(char: str) -> int:
    return int(char) if char.isdigit() else UPN_ALPHABET.index(char)


def upn_check_letter(body: str) -> str:
    """Check letter for the last 12 characters of a UPN."""
    if len(body) != 12:
        raise ValueError(f"a UPN body has 12 characters, got {len(body)}: {body!r}")
    total = sum(weight * _value(char) for weight, char in zip(range(2, 14), body, strict=True))
    return UPN_ALPHABET[total % 23]


def upn_check_sql(column: str) -> str:
    """SQL expression: the check letter the UPN in ``column`` should start with."""
    terms = []
    for position in range(2, 14):
        char = f"substr({column}, {position}, 1)"
        value = (
            f"CASE WHEN {char} BETWEEN '0' AND '9' THEN CAST({char} AS INTEGER) "
            f"ELSE strpos('{UPN_ALPHABET}', {char}) - 1 END"
        )
        terms.append(f"{position} * ({value})")
    return f"substr('{UPN_ALPHABET}', (({' + '.join(terms)}) % 23) + 1, 1)"
