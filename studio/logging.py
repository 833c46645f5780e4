"""Logs as one JSON object per line on stdout, for production (``LOG_FORMAT=json``).

Every line has ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message`` and ``pid``; a
request line from gunicorn's access log (``gunicorn.access``) adds ``method``, ``path``,
``status``, ``duration_ms`` and ``bytes``; Django's request errors (``django.request``,
``django.security.*``) add ``method``, ``path`` and ``status``; an exception adds
``exception`` (the traceback). Query strings, user agents and client addresses are left out on
purpose: a search may carry a buyer's phone number.

This module imports nothing from Django, so gunicorn's master process can use it before Django
is set up (``studio/gunicorn.conf.py``).
"""

import json
import logging
from datetime import UTC, datetime

__all__ = ["JsonFormatter", "logging_config"]

PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"

# Attributes every LogRecord has; anything else on a record came in through ``extra=``.
_RECORD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys() | {"message", "asctime"}
)
# Attributes Django's loggers attach that are handled here or must not be dumped as they are.
_HANDLED_EXTRAS = frozenset({"request", "status_code", "server_time"})


def _request_fields(record: logging.LogRecord) -> dict:
    """Method, path and status of the request a Django log record is about, if any."""
    fields: dict = {}
    request = getattr(record, "request", None)
    path = getattr(request, "path", None)  # runserver's django.server passes a socket here
    if isinstance(path, str):
        fields["method"] = getattr(request, "method", None)
        fields["path"] = path
    status = getattr(record, "status_code", None)
    if isinstance(status, int):
        fields["status"] = status
    return fields


def _access_fields(record: logging.LogRecord) -> dict:
    """The request gunicorn's access logger describes: its atoms are the record's args."""
    atoms = record.args
    if not isinstance(atoms, dict):
        return {}

    def atom(key: str):
        value = atoms.get(key)
        if isinstance(value, str):  # gunicorn escapes double quotes for its text format
            value = value.replace('\\"', '"')
        return None if value in (None, "-") else value

    status = atom("s")
    micros = atom("D")
    sent = atom("B")
    return {
        "method": atom("m"),
        "path": atom("U"),
        "status": int(status) if str(status).isdigit() else status,
        "duration_ms": round(micros / 1000, 1) if isinstance(micros, int) else None,
        "bytes": sent if isinstance(sent, int) else None,
    }


class JsonFormatter(logging.Formatter):
    """One JSON object per log record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        if record.name == "gunicorn.access":
            entry |= _access_fields(record)
        else:
            entry |= _request_fields(record)
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and key not in _HANDLED_EXTRAS:
                entry.setdefault(key, value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def logging_config(*, fmt: str = "json", level: str = "INFO") -> dict:
    """``LOGGING`` for Django (and the base of gunicorn's ``logconfig_dict``): JSON lines on
    stdout, or ``fmt="plain"`` text on stderr (development, as Python's own default); SQL
    queries only from WARNING up."""
    json_lines = fmt == "json"
    formatter = {"()": "studio.logging.JsonFormatter"} if json_lines else {"format": PLAIN_FORMAT}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "stream": "ext://sys.stdout" if json_lines else "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            # django-axes logs every sign-in at INFO; failures and lockouts are warnings.
            "axes": {"level": "WARNING"},
        },
    }
