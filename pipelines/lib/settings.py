"""Settings read from the environment at run time, with errors that name the variable."""

import os


def whole_days(name: str, default: int, zero_means: str = "") -> int:
    """The environment variable `name` as whole days, 0 or more; `default` when it is unset or empty. Anything else is
    a `ValueError` naming the variable, its default and, when given, what 0 means (`zero_means`)."""
    meaning = f"; 0 {zero_means}" if zero_means else ""
    return _whole_number(name, default, 0, None, f"a whole number of days of at least 0 (default {default}{meaning})")


def whole_count(name: str, default: int, least: int, unit: str) -> int:
    """The environment variable `name` as a whole number of `unit` (``runs``), `least` or more; `default` when it is
    unset or empty. Anything else is a `ValueError` naming the variable, the least number and its default."""
    return _whole_number(name, default, least, None,
                         f"a whole number of {unit} of at least {least} (default {default})")


def whole_percent(name: str, default: int, hundred_means: str = "") -> int:
    """The environment variable `name` as a whole percent from 1 to 100; `default` when it is unset or empty. Anything
    else is a `ValueError` naming the variable, its default and, when given, what 100 means (`hundred_means`)."""
    meaning = f"; 100 {hundred_means}" if hundred_means else ""
    return _whole_number(name, default, 1, 100, f"a whole percent from 1 to 100 (default {default}{meaning})")


def _whole_number(name: str, default: int, least: int, most: int | None, expected: str) -> int:
    """The environment variable `name` as a whole number from `least` to `most` (None: no bound); `default` when it is
    unset or empty. Anything else is a `ValueError` saying the variable must be `expected`, and what it is."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    number = int(text) if text.isascii() and text.isdigit() else None
    if number is None or number < least or (most is not None and number > most):
        raise ValueError(f"{name} must be {expected}, not {text!r}")
    return number
