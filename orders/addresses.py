"""Orders' addresses on the national divisions: the reading of a draft's address where drafts
are built (import rows, the API, the demo), and the manager's correction of an address that
could not be read. The reading itself is ``core.regions``.

A draft's address arrives as the platform's columns, or in one piece (the whole address in
the detail). ``address_normalise_draft`` makes province, city and district canonical, sets
the 6-digit ``adcode`` and how far the address was read (``address_status``); what could not
be read stays in the detail, and the text as received in ``raw_address``. Nothing is guessed:
an address that fits several places, or none, waits in the managers' review list
(``orders_address_review``) until ``order_address_correct`` settles it.
"""

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from core.errors import DomainError
from core.regions import NEEDS_REVIEW, AddressMatch, Place, normalise
from orders.lifecycle import BACKLOG, lock_orders
from orders.models import Order, OrderEvent
from orders.rollup import rollup_orders_added, rollup_orders_removed


def address_read(*, province: str, city: str, district: str, detail: str) -> Place:
    """The address read onto the divisions (``core.regions.normalise``)."""
    return normalise(province=province, city=city, district=district, detail=detail)


def address_normalise_draft(draft) -> None:
    """Read an ``OrderDraft``'s address in place (see the module's docstring). A draft read
    once (its ``address_status`` set) is left as it is, so every place that builds or saves
    drafts may call this."""
    if draft.address_status:
        return
    if not draft.raw_address:
        parts = (draft.province, draft.city, draft.district, draft.address_detail)
        draft.raw_address = " ".join(part for part in parts if part)[:400]
    place = address_read(
        province=draft.province,
        city=draft.city,
        district=draft.district,
        detail=draft.address_detail,
    )
    draft.province, draft.city, draft.district = place.province, place.city, place.district
    draft.address_detail = place.detail
    draft.adcode = place.adcode
    draft.address_status = place.status


def orders_address_review() -> QuerySet[Order]:
    """Orders whose address could not be read to its district (or at all), newest payment
    first: what managers check by hand."""
    return Order.objects.filter(address_status__in=NEEDS_REVIEW).order_by("-paid_at", "-id")


@transaction.atomic
def order_address_correct(
    *, order: Order, province: str, city: str = "", district: str = "", detail: str, acting_user
) -> Order:
    """Set an order's region and street by hand. The region must name a province of the
    national divisions (canonical names are stored, whatever form was typed); the address is
    then *confirmed by hand* even where no district could be named, and the order's history
    records who did it (an event that keeps the status). Refused once the order has shipped,
    been cancelled or refunded. Locks the order."""
    locked = lock_orders([order.pk]).get(order.pk)
    if locked is None:
        raise DomainError(_("This order no longer exists."), field="order")
    if locked.status not in BACKLOG:  # on its way, delivered, cancelled: its address is history
        raise DomainError(
            _("Order %(order)s is %(status)s: its address can no longer change.")
            % {"order": locked.external_no, "status": locked.get_status_display()},
            field="status",
            code="forbidden_transition",
        )
    detail = (detail or "").strip()
    if not detail:
        raise DomainError(_("The street address is missing."), field="address_detail")
    columns = address_read(province=province, city=city, district=district, detail="")
    if not columns.province:
        raise DomainError(
            _("“%(text)s” is no province of the national divisions.")
            % {"text": " ".join(part for part in (province, city, district) if part)},
            field="province",
        )
    if columns.detail:
        # A city or district that is not in the province typed: say so rather than store it.
        raise DomainError(
            _("“%(text)s” is not a city or district of %(province)s.")
            % {"text": columns.detail, "province": columns.province},
            field="district" if district else "city",
        )
    place = address_read(
        province=columns.province,
        city=columns.city,
        district=columns.district,
        detail=detail,
    )
    if len(place.detail) > Order._meta.get_field("address_detail").max_length:
        raise DomainError(_("The street address is too long."), field="address_detail")
    rollup_orders_removed([locked.pk])  # the daily roll-up counts by province: out…
    locked.province, locked.city, locked.district = place.province, place.city, place.district
    locked.address_detail = place.detail
    locked.adcode = place.adcode
    locked.address_status = AddressMatch.CONFIRMED
    locked.save(
        update_fields=[
            "province",
            "city",
            "district",
            "address_detail",
            "adcode",
            "address_status",
            "updated_at",
        ]
    )
    rollup_orders_added([locked.pk])  # …and in under the corrected one
    OrderEvent.objects.create(
        order=locked,
        from_status=locked.status,
        to_status=locked.status,
        acting_user=acting_user,
        note=(_("Address confirmed: %(region)s") % {"region": place.region or place.province})[
            :200
        ],
    )
    for name in ("province", "city", "district", "address_detail", "adcode", "address_status"):
        setattr(order, name, getattr(locked, name))
    return locked
