"""What the scale said against what each box should have weighed: the weight-variance list a
manager reads, by SKU and by packer, and the boxes packed outside the band with the reason the
packer gave. A page (``shipping:weight_variance``) and an API (``/api/weight-variance/``)."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django import forms
from django.db.models import Avg, Count, ExpressionWrapper, F, Max, Q, QuerySet
from django.db.models import DecimalField as DecimalExpression
from django.db.models.functions import Abs
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.roles import WEIGHT_VARIANCE_READERS, role_required
from shipping.models import Parcel, ParcelItem

KG_OUT = DecimalExpression(max_digits=12, decimal_places=3)
OUTSIDE = ~Q(weight_warning="")
KG_STEP = Decimal("0.001")


def _variance(prefix: str = ""):
    return ExpressionWrapper(F(f"{prefix}weight_kg") - F(f"{prefix}expected_kg"), KG_OUT)


def _weighed(since: datetime) -> QuerySet[Parcel]:
    """Parcels packed since then whose expected weight is known."""
    return Parcel.objects.filter(packed_at__gte=since, expected_kg__isnull=False)


def variance_by_packer(since: datetime) -> list[dict]:
    """Per packer: boxes, boxes outside the band, of those confirmed with a reason, the mean
    and the mean absolute difference (kg), the largest difference."""
    rows = (
        _weighed(since)
        .annotate(variance=_variance())
        .values("packed_by__username", "packed_by__first_name")
        .annotate(
            parcels=Count("pk"),
            outside=Count("pk", filter=OUTSIDE),
            mean_kg=Avg("variance"),
            mean_abs_kg=Avg(Abs("variance")),
            largest_kg=Max(Abs("variance")),
        )
        .order_by("-outside", "-mean_abs_kg", "packed_by__username")
    )
    return [_rounded(row) for row in rows]


def variance_by_sku(since: datetime) -> list[dict]:
    """Per SKU: the boxes holding it, how many of those were outside the band, and their mean
    and mean absolute difference (a box of several SKUs counts for each)."""
    rows = (
        ParcelItem.objects.filter(parcel__in=_weighed(since))
        .values("parcel_id", "line__sku__merchant_code", "line__sku__name")
        .distinct()
        .annotate(variance=_variance("parcel__"))
    )
    by_sku: dict[str, dict] = {}
    for row in rows:
        code = row["line__sku__merchant_code"]
        entry = by_sku.setdefault(
            code, {"merchant_code": code, "sku": row["line__sku__name"], "variances": []}
        )
        entry["variances"].append(row["variance"])
    outside = set(
        _weighed(since).filter(OUTSIDE).values_list("pk", flat=True)
    )  # a few hundred ids at most: the boxes flagged
    flagged: dict[str, int] = {}
    for row in rows:
        if row["parcel_id"] in outside:
            code = row["line__sku__merchant_code"]
            flagged[code] = flagged.get(code, 0) + 1
    result = []
    for code, entry in by_sku.items():
        values = entry.pop("variances")
        result.append(
            _rounded(
                {
                    **entry,
                    "parcels": len(values),
                    "outside": flagged.get(code, 0),
                    "mean_kg": sum(values) / len(values),
                    "mean_abs_kg": sum(abs(v) for v in values) / len(values),
                    "largest_kg": max(abs(v) for v in values),
                }
            )
        )
    return sorted(result, key=lambda r: (-r["outside"], -r["mean_abs_kg"], r["merchant_code"]))


def outside_band(since: datetime, limit: int = 50) -> QuerySet[Parcel]:
    """The latest boxes packed outside the band, with the reason the packer gave."""
    return (
        _weighed(since)
        .filter(OUTSIDE)
        .select_related("carrier", "packed_by", "order")
        .annotate(variance=_variance())
        .order_by("-packed_at", "-pk")[:limit]
    )


def _rounded(row: dict) -> dict:
    for key in ("mean_kg", "mean_abs_kg", "largest_kg"):
        if row.get(key) is not None:
            row[key] = row[key].quantize(KG_STEP)
    return row


class VarianceForm(forms.Form):
    days = forms.IntegerField(
        label=_("Days"), min_value=1, max_value=366, required=False, initial=30
    )

    def since(self) -> datetime:
        days = (self.cleaned_data.get("days") if self.is_valid() else None) or 30
        return timezone.now() - timedelta(days=days)


@dataclass
class Variance:
    days: int
    by_sku: list[dict]
    by_packer: list[dict]
    outside: list[Parcel]


def variance(form: VarianceForm) -> Variance:
    since = form.since()
    days = (form.cleaned_data.get("days") if form.is_valid() else None) or 30
    return Variance(
        days, variance_by_sku(since), variance_by_packer(since), list(outside_band(since))
    )


# --- page ------------------------------------------------------------------------------------


@require_GET
@role_required(*WEIGHT_VARIANCE_READERS)
def weight_variance(request):
    """Managers: where the scale disagrees with what the boxes should weigh."""
    form = VarianceForm(request.GET or None)
    if request.GET and not form.is_valid():
        return render(
            request, "shipping/weight_variance.html", {"form": form, "report": None}, status=400
        )
    return render(
        request,
        "shipping/weight_variance.html",
        {"form": form, "report": variance(form)},
    )


urlpatterns = [path("weights/", weight_variance, name="weight_variance")]


# --- API -------------------------------------------------------------------------------------


class _SkuRow(serializers.Serializer):
    merchant_code = serializers.CharField()
    sku = serializers.CharField()
    parcels = serializers.IntegerField()
    outside = serializers.IntegerField()
    mean_kg = serializers.DecimalField(max_digits=12, decimal_places=3)
    mean_abs_kg = serializers.DecimalField(max_digits=12, decimal_places=3)
    largest_kg = serializers.DecimalField(max_digits=12, decimal_places=3)


class _PackerRow(serializers.Serializer):
    packer = serializers.CharField(source="packed_by__username")
    name = serializers.CharField(source="packed_by__first_name")
    parcels = serializers.IntegerField()
    outside = serializers.IntegerField()
    mean_kg = serializers.DecimalField(max_digits=12, decimal_places=3)
    mean_abs_kg = serializers.DecimalField(max_digits=12, decimal_places=3)
    largest_kg = serializers.DecimalField(max_digits=12, decimal_places=3)


class _OutsideRow(serializers.Serializer):
    id = serializers.IntegerField()
    tracking_number = serializers.CharField()
    carrier = serializers.CharField(source="carrier.code")
    order_no = serializers.CharField(source="order.external_no")
    packed_by = serializers.CharField(source="packed_by.username")
    packed_at = serializers.DateTimeField()
    weight_kg = serializers.DecimalField(max_digits=12, decimal_places=3)
    expected_kg = serializers.DecimalField(max_digits=12, decimal_places=3)
    variance_kg = serializers.DecimalField(source="variance", max_digits=12, decimal_places=3)
    weight_reason = serializers.CharField()


class VarianceSerializer(serializers.Serializer):
    days = serializers.IntegerField()
    by_sku = _SkuRow(many=True)
    by_packer = _PackerRow(many=True)
    outside = _OutsideRow(many=True)


class WeightVarianceView(APIView):
    read_roles = WEIGHT_VARIANCE_READERS

    @extend_schema(
        summary="Weight variance",
        description="Managers only. Over the last `days` days (30 by default, at most 366): "
        "per SKU and per packer, the boxes weighed, how many were outside the expected band, "
        "the mean, mean absolute and largest difference between weighed and expected kg; and "
        "the latest 50 boxes packed outside the band with the packer's reason.",
        parameters=[OpenApiParameter("days", int, description="How many days back.")],
        responses={200: VarianceSerializer},
    )
    def get(self, request):
        form = VarianceForm(request.query_params)
        if not form.is_valid():
            return Response(form.errors, status=400)
        return Response(VarianceSerializer(variance(form)).data)


api_urlpatterns = [
    path("weight-variance/", WeightVarianceView.as_view(), name="weight_variance_api"),
]
