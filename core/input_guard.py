"""One guard for input no field should ever take: checked once for every request, before
any view, so a new endpoint is covered without thinking of it.

- Text that cannot be stored: NUL (PostgreSQL refuses it in any text column), other control
  characters except tab, line feed and carriage return, and lone UTF-16 surrogates (which
  cannot be encoded as UTF-8) — in the path, any query parameter, any form field and any
  string of a JSON body (``core.middleware.BadInputMiddleware``).
- Dates out of the studio's range: a value that is exactly an ISO date or date-time
  (``2026-06-18``, ``2026-06-18T20:15:03+08:00``) must fall in MIN_YEAR..MAX_YEAR. Year 4
  would be stored, then shown with Shanghai's local mean time (+08:05:43); year 9999 breaks
  "the day after".
- Numbers and dates that overflow anyway (a count of days that runs past year 9999, an id
  larger than the database's integers) answer 400, not 500: ``BadInputMiddleware`` and
  ``core.api.exception_handler`` turn ``OverflowError`` and ``DataError`` into a 400.

A refusal names the field and says what is wrong, in the request's language.
"""

import re
from collections.abc import Iterator

from django.utils.translation import gettext as _

MIN_YEAR = 2000
MAX_YEAR = 2099
# C0 controls but tab, LF and CR; DEL; lone surrogates.
UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
ISO_DATE = re.compile(r"^[+-]?(\d{4,})-\d{1,2}-\d{1,2}(?:[T ][0-9:.]+(?:Z|[+-][0-9:]+)?)?$")


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be taken as it is, or None."""
    if UNSTORABLE.search(value):
        return _("holds a character that cannot be stored (NUL or another control character).")
    match = ISO_DATE.match(value)
    if match and not MIN_YEAR <= int(match.group(1)) <= MAX_YEAR:
        return _("%(value)s is out of range: dates from %(min)s to %(max)s are accepted.") % {
            "value": value[:40],
            "min": MIN_YEAR,
            "max": MAX_YEAR,
        }
    return None


def problems(data, path: str = "") -> Iterator[tuple[str, str]]:
    """(field, reason) for every string in ``data`` (nested dicts and lists, keys too)."""
    if isinstance(data, str):
        reason = text_problem(data)
        if reason:
            yield path or "non_field_errors", reason
    elif isinstance(data, dict):
        for key, value in data.items():
            name = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and UNSTORABLE.search(key):
                yield "non_field_errors", text_problem(key) or ""
                continue
            yield from problems(value, name)
    elif isinstance(data, list | tuple):
        for index, value in enumerate(data):
            yield from problems(value, f"{path}.{index}" if path else str(index))


def first_problem(data) -> tuple[str, str] | None:
    return next(problems(data), None)
