"""Settings read from the environment at run time, with errors that name the variable."""

import os


def whole_days(name: str, default: int, zero_means: str = "") -> int:
    """The environment variable `name` as whole days, 0 or more; `default` when it is unset or empty. Anything else is
    a `ValueError` naming the variable, its default and, when given, what 0 means (`zero_means`)."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    if not (text.isascii() and text.isdigit()):
        meaning = f"; 0 {zero_means}" if zero_means else ""
        raise ValueError(f"{name} must be a whole number of days of at least 0 (default {default}{meaning}), "
                         f"not {text!r}")
    return int(text)
