"""The public trace page a buyer opens by scanning the QR code on the parcel: who grew what is
inside, where and when. No login; nothing about the buyer (name, phone, address, order
number) is ever on it, and an unknown token is a plain 404."""

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from core.throttling import TraceThrottle, throttled
from inventory.models import Farmer
from shipping.models import Parcel, ParcelItem


@dataclass(frozen=True)
class TraceRow:
    """One lot of one product in the parcel, as a buyer may see it."""

    product: str
    grade: str
    lot_code: str
    village: str
    county: str
    grower: str  # the farmer's name if they consented, else "<village> farmer"
    harvest_date: date
    storage: str


def grower_name(farmer: Farmer) -> str:
    """The farmer's name where they agreed to show it; otherwise only their village."""
    if farmer.trace_consent:
        return farmer.name
    return _("%(village)s farmer") % {"village": farmer.village}


def trace_rows(parcel: Parcel) -> list[TraceRow]:
    """The parcel's products, one row per product, grade and lot (items of the same lot in
    several lines are shown once)."""
    rows: dict[tuple, TraceRow] = {}
    for item in parcel.items.all():
        lot = item.lot
        key = (lot.product_id, lot.grade_id, lot.pk)
        rows.setdefault(
            key,
            TraceRow(
                product=lot.product.name,
                grade=lot.grade.name,
                lot_code=lot.code,
                village=lot.farmer.village,
                county=lot.farmer.county,
                grower=grower_name(lot.farmer),
                harvest_date=lot.harvest_date,
                storage=lot.product.storage,
            ),
        )
    return list(rows.values())


@require_GET
@throttled(TraceThrottle)
def trace_parcel(request, token: str):
    items = ParcelItem.objects.select_related("lot__product", "lot__grade", "lot__farmer").order_by(
        "id"
    )
    parcel = get_object_or_404(
        Parcel.objects.only("pk", "packed_at", "status", "trace_token").prefetch_related(
            Prefetch("items", queryset=items)
        ),
        trace_token=token,
    )
    response = render(
        request,
        "shipping/trace.html",
        {
            "rows": trace_rows(parcel),
            "packed_at": parcel.packed_at,
            "studio_name": settings.STUDIO_NAME,
            "studio_phone": settings.STUDIO_PHONE,
            "studio_address": settings.STUDIO_ADDRESS,
        },
    )
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


# Open to anyone with the link: the URL-walking role test accepts views marked public.
trace_parcel.public = True
