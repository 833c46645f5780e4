from django.shortcuts import render
from django.views.decorators.http import require_GET

from inventory.selectors import home_figures
from orders.models import Order, OrderStatus
from shipping.models import Parcel, ParcelStatus
from studio.roles import ALL_ROLES, SHIPPING_WORKERS, has_role, role_required


def shipping_figures() -> dict:
    """What waits for the packing area: orders to pack, orders in no wave, parcels to hand over."""
    return {
        "orders_to_pack": Order.objects.filter(
            status__in=[OrderStatus.ALLOCATED, OrderStatus.PICKING]
        ).count(),
        "orders_without_wave": Order.objects.filter(
            status=OrderStatus.ALLOCATED, wave_order__isnull=True
        ).count(),
        "parcels_to_hand_over": Parcel.objects.filter(status=ParcelStatus.PACKED).count(),
    }


@require_GET
@role_required(*ALL_ROLES)
def home(request):
    """Each role sees its own work first: tiles are chosen in the template by role, and only
    the figures a role's tiles show are computed."""
    figures = home_figures(user=request.user)
    if has_role(request.user, SHIPPING_WORKERS):
        figures |= shipping_figures()
    return render(request, "home.html", {"figures": figures})


def permission_denied(request, exception=None):
    return render(request, "403.html", status=403)
