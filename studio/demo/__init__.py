"""A believable demo studio: users, farmers, catalogue, locations, three weeks of stock and last
month's history, the orders of two livestreams, and parcels on their way.

``manage.py seed_demo`` calls :func:`seed`. The tables are in ``data``; each app's part of the
story has its module (``people``, ``inventory``, ``orders``, ``shipping``). Every change goes
through the services, so the demo ledger is a real one; what happened in the past is recorded
with the services' ``at=``. A fixed random seed makes the data the same every time; dates are
relative to today, so some peaches always expire soon.
"""

import random
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.models import StudioSettings
from inventory.models import Delivery, Farmer, Location, Lot, Product, Sku, StockMovement
from orders.models import LiveSession, Order, OrderStatus
from studio.demo.data import DEMO_PASSWORD, RANDOM_SEED, STUDIO_WEIGHT_UNIT, USERS
from studio.demo.inventory import (
    create_catalogue,
    create_farmers,
    create_history,
    create_locations,
    create_payments,
    demo_history_present,
    demo_present,
    receive_deliveries,
    record_stock_events,
)
from studio.demo.orders import (
    create_gift_box_orders,
    create_orders,
    demo_orders_present,
    settle_orders,
)
from studio.demo.people import ensure_users
from studio.demo.platforms import create_platform_states, demo_platforms_present
from studio.demo.shipping import create_shipping, demo_shipping_present, shipping_counts


@dataclass
class SeedResult:
    created: bool
    counts: dict[str, int] = field(default_factory=dict)


def counts() -> dict[str, int]:
    """What the studio holds, by what a person would call it."""
    return {
        _("farmers"): Farmer.objects.count(),
        _("products"): Product.objects.count(),
        _("SKUs"): Sku.objects.count(),
        _("locations"): Location.objects.count(),
        _("deliveries"): Delivery.objects.count(),
        _("lots"): Lot.objects.count(),
        _("ledger rows"): StockMovement.objects.count(),
        _("lots expiring within 2 days"): Lot.objects.expiring_within(2).count(),
        _("live sessions"): LiveSession.objects.count(),
        _("orders"): Order.objects.count(),
        _("back-ordered orders"): Order.objects.filter(status=OrderStatus.BACKORDERED).count(),
    }


def seed() -> SeedResult:
    """Build the demo studio once. A second run only makes sure the demo users can log in.
    A studio seeded before orders existed gets its livestream orders on the next run."""
    created = False
    with transaction.atomic():
        users = ensure_users()
        if not demo_present():
            rng = random.Random(RANDOM_SEED)
            StudioSettings(weight_unit=STUDIO_WEIGHT_UNIT).save()
            products, grades = create_catalogue()
            locations = create_locations()
            farmers = create_farmers(acting_user=users["intake"])
            # Last month first: its lots are sold out before this month's arrive.
            create_history(rng=random.Random(RANDOM_SEED + 3), users=users)
            deliveries = receive_deliveries(
                rng=rng,
                farmers=farmers,
                products=products,
                grades=grades,
                locations=locations,
                acting_user=users["intake"],
            )
            record_stock_events(
                deliveries=deliveries, locations=locations, acting_user=users["manager"]
            )
            created = True
        if not demo_orders_present():
            rng = random.Random(RANDOM_SEED + 1)
            orders = create_orders(rng=rng, acting_user=users["manager"], now=timezone.now())
            settle_orders(rng=rng, orders=orders, acting_user=users["manager"])
            create_gift_box_orders(rng=random.Random(RANDOM_SEED + 4), acting_user=users["manager"])
            created = True
        if not demo_shipping_present():
            create_shipping(rng=random.Random(RANDOM_SEED + 2), users=users)
            created = True
        if not demo_history_present():
            create_payments(users=users)
            created = True
        if not demo_platforms_present():
            create_platform_states(now=timezone.now(), acting_user=users["manager"])
            created = True
    return SeedResult(created=created, counts=counts() | shipping_counts())


__all__ = ["DEMO_PASSWORD", "USERS", "SeedResult", "counts", "seed"]
