"""Numbers written with digits, read out as words (English and Mandarin)."""

from __future__ import annotations

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
         "fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_ORDINAL = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
            "nine": "ninth", "twelve": "twelfth"}
_ZH_DIGITS = "零一二三四五六七八九"


def _below_1000(n: int) -> list[str]:
    words: list[str] = []
    if n >= 100:
        words += [_ONES[n // 100], "hundred"]
        n %= 100
        if n:
            words.append("and")
    if n >= 20:
        words.append(_TENS[n // 10])
        if n % 10:
            words.append(_ONES[n % 10])
    elif n or not words:
        words.append(_ONES[n])
    return words


def number_words_en(digits: str, *, ordinal: bool = False) -> list[str]:
    """English words for a run of digits: ``"2"`` → ``["two"]``, ``"1999"`` → nineteen ninety nine.

    Four-digit numbers from 1100 to 1999 and 2010 to 2099 are read as years; more than nine
    digits are read digit by digit. ``ordinal`` gives "first", "twenty second", ...
    """
    n = int(digits)
    if len(digits) > 9 or (digits.startswith("0") and len(digits) > 1):
        words = [_ONES[int(d)] for d in digits]
    elif 1100 <= n <= 1999 or 2010 <= n <= 2099:
        hi, lo = divmod(n, 100)
        words = _below_1000(hi) + (["hundred"] if lo == 0 else (["oh"] if lo < 10 else []) + _below_1000(lo))
    else:
        words = []
        for value, name in ((1_000_000, "million"), (1000, "thousand")):
            if n >= value:
                words += _below_1000(n // value) + [name]
                n %= value
        if n or not words:
            words += _below_1000(n)
    if ordinal:
        last = words[-1]
        if last in _ORDINAL:
            words[-1] = _ORDINAL[last]
        elif last.endswith("y"):
            words[-1] = last[:-1] + "ieth"
        else:
            words[-1] = last + "th"
    return words


def number_zh(digits: str) -> str:
    """Chinese numerals for a run of digits: ``"21"`` → ``"二十一"``; long runs digit by digit."""
    n = int(digits)
    if len(digits) > 4 or (digits.startswith("0") and len(digits) > 1):
        return "".join(_ZH_DIGITS[int(d)] for d in digits)
    if n < 10:
        return _ZH_DIGITS[n]
    out = ""
    zero = False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十")):
        d, n = divmod(n, value)
        if d:
            if zero:
                out += "零"
            out += ("" if (value == 10 and d == 1 and not out) else _ZH_DIGITS[d]) + unit
            zero = False
        elif out:
            zero = True
    if n:
        out += ("零" if zero else "") + _ZH_DIGITS[n]
    return out
