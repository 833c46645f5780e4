"""``manage.py sync_platforms [--channel CODE] [--force]``: run the platform sync now, in the
foreground, for one channel or every channel with an enabled account (the task worker runs
the same sync by itself every ``PLATFORM_SYNC_SECONDS``)."""

from django.core.management.base import BaseCommand, CommandError

from orders.models import Channel
from orders.platforms.models import PlatformAccount
from orders.platforms.sync import platform_sync


class Command(BaseCommand):
    help = "Pull orders and after-sales from the platforms and push shipments, now."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--channel", help="A channel code; every enabled account if not given.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run streams that wait for their next attempt after a failure.",
        )

    def handle(self, *, channel: str | None, force: bool, **options) -> None:
        if channel:
            channels = list(Channel.objects.filter(code=channel))
            if not channels:
                raise CommandError(f"No channel {channel!r}.")
        else:
            channels = [
                account.channel
                for account in PlatformAccount.objects.filter(is_enabled=True).select_related(
                    "channel"
                )
            ]
        for each in channels:
            outcomes = platform_sync(each, force=force)
            if not outcomes:
                self.stdout.write(f"{each.code}: no enabled account, or another sync is running")
            for stream, outcome in outcomes.items():
                self.stdout.write(f"{each.code} {stream}: {outcome}")
