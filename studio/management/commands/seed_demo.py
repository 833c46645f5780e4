from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from studio import demo


class Command(BaseCommand):
    help = (
        "Load a demo studio (users, farmers, products, SKUs, locations, lots and their ledger). "
        "Running it again creates nothing new."
    )

    def handle(self, *args, **options):
        result = demo.seed()
        if result.created:
            self.stdout.write(self.style.SUCCESS(_("Demo data loaded.")))
        else:
            self.stdout.write(_("Demo data already present; the demo users were checked."))
        for name, count in result.counts.items():
            self.stdout.write(f"  {name}: {count}")
        self.stdout.write(
            _("Demo logins: %(users)s (password: %(password)s)")
            % {
                "users": ", ".join(username for username, *_rest in demo.USERS),
                "password": demo.DEMO_PASSWORD,
            }
        )
