"""Vendor rules that need no database."""
from __future__ import annotations


def corporate_number_check_digit(base12: str) -> int:
    """Check digit of a 法人番号 (National Tax Agency rule): with P_n the n-th
    digit of the 12-digit base counted from the right and Q_n = 1 for odd n,
    2 for even n, the check digit is 9 − (Σ P_n × Q_n mod 9)."""
    total = sum(int(digit) * (1 if n % 2 else 2) for n, digit in enumerate(reversed(base12), start=1))
    return 9 - total % 9


def is_valid_corporate_number(value: str) -> bool:
    """13 digits whose first digit is the check digit of the other twelve."""
    return len(value) == 13 and value.isascii() and value.isdigit() \
        and int(value[0]) == corporate_number_check_digit(value[1:])
