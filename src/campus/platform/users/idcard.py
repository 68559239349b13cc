"""Resident identity card numbers (居民身份证号码, GB 11643-1999): 18 characters, the last a
MOD 11-2 check character; characters 7–14 are the birth date, 17 is odd for men."""

from __future__ import annotations

import re
from datetime import date

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dX]$")


def check_char(first17: str) -> str:
    """The check character for the first 17 digits (ISO 7064 MOD 11-2)."""
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def problem_with(number: str) -> str | None:
    """Why ``number`` is not a well-formed identity number, in Chinese; None when it is."""
    number = number.strip().upper()
    if not _SHAPE.match(number):
        return "身份证号应为 18 位，前 17 位为数字，最后一位为数字或 X"
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return "身份证号中的出生日期不存在"
    if born.year < 1900 or born > date.today():
        return "身份证号中的出生日期不合理"
    if check_char(number[:17]) != number[17]:
        return "身份证号校验位不正确"
    return None


def birth_date_of(number: str) -> date:
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def gender_of(number: str) -> str:
    """GB/T 2261.1 gender code: 1 male, 2 female."""
    return "1" if int(number[16]) % 2 == 1 else "2"


def mask(number: str | None) -> str | None:
    """Show only the region and the last four characters: 110105********1234."""
    if not number:
        return number
    return number[:6] + "*" * (len(number) - 10) + number[-4:] if len(number) > 10 else "****"


def make(region: str, born: date, sequence: int, male: bool) -> str:
    """A well-formed number (for the demo university and tests): region + birth date + sequence."""
    seq = sequence % 100 * 10 + (sequence // 100 % 5) * 2 + (1 if male else 0)
    seq = seq % 1000
    if (seq % 2 == 1) != male:
        seq = (seq + 1) % 1000
    first17 = f"{region}{born:%Y%m%d}{seq:03d}"
    return first17 + check_char(first17)
