"""Reshipment (补发): units of an order's line sent again in a new parcel, without a new
platform order (``shipping.services.parcel_reship``). Packers and managers."""

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_http_methods

from core.errors import DomainError
from core.roles import SHIPPING_WORKERS, role_required
from orders.models import Order, OrderLine
from shipping.models import Carrier
from shipping.services import parcel_reship
from shipping.station_forms import WeightField


class ReshipForm(forms.Form):
    line = forms.TypedChoiceField(label=pgettext_lazy("order line", "Line"), coerce=int)
    units = forms.IntegerField(label=gettext_lazy("Units to send again"), min_value=1)
    carrier = forms.ModelChoiceField(
        label=gettext_lazy("Carrier"), queryset=Carrier.objects.all(), empty_label=None
    )
    weight_kg = WeightField(label=gettext_lazy("Weight (kg)"))
    tracking_number = forms.CharField(
        label=gettext_lazy("Tracking number (empty: the next from the pool)"),
        max_length=40,
        required=False,
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200)

    def __init__(self, *args, lines=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["line"].choices = [
            (line.pk, f"{line.sku.name} × {line.quantity}") for line in lines
        ]


@require_http_methods(["GET", "POST"])
@role_required(*SHIPPING_WORKERS)
def reship(request, pk: int):
    order = get_object_or_404(Order.objects.select_related("channel"), pk=pk)
    lines = list(OrderLine.objects.filter(order=order).select_related("sku"))
    form = ReshipForm(request.POST or None, lines=lines, initial={"units": 1})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            parcel = parcel_reship(
                order=order,
                line=next(line for line in lines if line.pk == data["line"]),
                units=data["units"],
                carrier=data["carrier"],
                weight_kg=data["weight_kg"],
                tracking_number=data["tracking_number"],
                reason=data["reason"],
                acting_user=request.user,
            )
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(
                request,
                _("Parcel %(number)s reships order %(order)s: print its label and hand it over.")
                % {"number": parcel.tracking_number, "order": order.external_no},
            )
            return redirect("orders:detail", pk=order.pk)
    return render(
        request,
        "shipping/reship.html",
        {"order": order, "form": form},
        status=400 if form.errors else 200,
    )


urlpatterns = [path("reship/<int:pk>/", reship, name="reship")]
