"""Which live session an order belongs to: the rule of time.

An order belongs to a live session when it was paid inside the session's window. A title in
a platform's export (直播间, 直播场次) names the session only if the order was paid inside that
session's window widened by a grace (``LIVE_SESSION_GRACE_HOURS``, 2 by default: buyers pay a
while after the stream ends); otherwise the window decides; otherwise none. So a title
repeated by a later session, or an export of last summer's stream, never pulls orders onto a
session they were not paid in — the mismatches are counted, for the import preview to list.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from orders.models import Channel, LiveSession

DEFAULT_GRACE_HOURS = 2


def session_grace() -> timedelta:
    """How long before its start and after its end a session still takes orders that name
    it (``LIVE_SESSION_GRACE_HOURS``)."""
    hours = getattr(settings, "LIVE_SESSION_GRACE_HOURS", DEFAULT_GRACE_HOURS)
    return timedelta(hours=float(hours))


def session_takes(session: LiveSession, paid_at: datetime, grace: timedelta) -> bool:
    """Whether an order paid at ``paid_at`` that names ``session`` belongs to it."""
    return session.starts_at - grace <= paid_at <= session.ends_at + grace


def session_window_text(session: LiveSession) -> str:
    """2026-12-03 19:30–22:30 (or –12-04 01:00 across midnight), in the studio's time zone."""
    start, end = timezone.localtime(session.starts_at), timezone.localtime(session.ends_at)
    tail = f"{end:%H:%M}" if start.date() == end.date() else f"{end:%m-%d %H:%M}"
    return f"{start:%Y-%m-%d %H:%M}–{tail}"


@dataclass(frozen=True)
class SessionMismatch:
    """Orders of a file that name a session but were paid on a day outside its window."""

    title: str
    paid_on: date
    orders: int
    window: str  # of the named session (the latest one, when several share the title)


class SessionFinder:
    """Finds the session of each order of one file, from two queries: the sessions the file
    names, and those whose windows meet the file's paid times."""

    def __init__(self, channel: Channel, pairs: list[tuple[datetime, str]]):
        self.grace = session_grace()
        self.unmatched: Counter[tuple[str, date]] = Counter()
        times = [paid_at for paid_at, _title in pairs if paid_at]
        titles = {title for _paid_at, title in pairs if title}
        sessions = LiveSession.objects.filter(channel=channel)
        named = list(sessions.filter(title__in=titles)) if titles else []
        windows = (
            list(sessions.filter(starts_at__lte=max(times), ends_at__gte=min(times)))
            if times
            else []
        )
        self.by_title: dict[str, list[LiveSession]] = {}
        for session in sorted(named, key=lambda s: (s.starts_at, s.pk), reverse=True):
            self.by_title.setdefault(session.title, []).append(session)
        self.windows = sorted(windows, key=lambda s: (s.starts_at, s.pk), reverse=True)

    def find(self, paid_at: datetime, title: str = "") -> LiveSession | None:
        if title and title in self.by_title:
            for session in self.by_title[title]:
                if session_takes(session, paid_at, self.grace):
                    return session
            self.unmatched[(title, timezone.localtime(paid_at).date())] += 1
        return window_session(self.windows, paid_at)

    def mismatches(self) -> list[SessionMismatch]:
        """Largest first."""
        return [
            SessionMismatch(
                title=title,
                paid_on=day,
                orders=count,
                window=session_window_text(self.by_title[title][0]),
            )
            for (title, day), count in sorted(
                self.unmatched.items(), key=lambda item: (-item[1], item[0])
            )
        ]


def window_session(sessions: list[LiveSession], paid_at: datetime) -> LiveSession | None:
    """Of ``sessions`` (latest-started first), the first whose window holds ``paid_at``."""
    for session in sessions:
        if session.starts_at <= paid_at <= session.ends_at:
            return session
    return None


def outside_window(grace: timedelta) -> Q:
    """Orders paid outside their session's window and its grace (a condition on Order)."""
    return Q(paid_at__lt=F("live_session__starts_at") - grace) | Q(
        paid_at__gt=F("live_session__ends_at") + grace
    )
