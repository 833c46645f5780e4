"""Query-string filters for the shipping API (django-filter)."""

from datetime import date, datetime, time, timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from core.filters import IdFilter
from shipping.models import Parcel, ParcelStatus, Wave, WaveStatus


def _day_start(day: date) -> datetime:
    """Midnight of ``day`` in the studio's time zone (Asia/Shanghai)."""
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


class ParcelFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(
        choices=ParcelStatus.choices, label=_("Status (repeat the parameter for several)")
    )
    carrier = filters.CharFilter(field_name="carrier__code", label=_("Carrier code"))
    wave = IdFilter(field_name="wave_id", label=_("Wave id"))
    order = IdFilter(field_name="order_id", label=_("Order id"))
    tracking_number = filters.CharFilter(label=_("Tracking number"))
    packed_after = filters.DateFilter(
        method="filter_packed_after", label=_("Packed on or after this day (Asia/Shanghai)")
    )
    packed_before = filters.DateFilter(
        method="filter_packed_before", label=_("Packed on or before this day (Asia/Shanghai)")
    )
    unprinted = filters.BooleanFilter(
        field_name="label_printed_at",
        lookup_expr="isnull",
        label=_("Label not printed yet (true) or printed (false)"),
    )

    class Meta:
        model = Parcel
        fields = [
            "status",
            "carrier",
            "wave",
            "order",
            "tracking_number",
            "packed_after",
            "packed_before",
            "unprinted",
        ]

    def filter_packed_after(self, queryset, name, value):
        return queryset.filter(packed_at__gte=_day_start(value))

    def filter_packed_before(self, queryset, name, value):
        return queryset.filter(packed_at__lt=_day_start(value + timedelta(days=1)))


class WaveFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=WaveStatus.choices, label=_("Status"))
    carrier = filters.CharFilter(field_name="carrier__code", label=_("Carrier code"))

    class Meta:
        model = Wave
        fields = ["status", "carrier"]
