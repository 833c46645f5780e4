"""The transit table over the API: days to a province, per carrier or for any. Everyone who
reads orders may read it; managers change it. Provinces without a row follow the default from
the studio's province (``orders.transit``); ``effective`` lists all 34 as allocation reads
them."""

from django.db import transaction
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.roles import ORDER_READERS, ORDER_WRITERS
from orders.models import TransitTime
from orders.transit import studio_province, transit_overview, transit_time_delete, transit_time_set


class TransitTimeSerializer(serializers.ModelSerializer):
    updated_by = serializers.CharField(
        source="updated_by.get_username", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = TransitTime
        fields = ["id", "province", "carrier_code", "days", "updated_by", "updated_at"]
        read_only_fields = ["id", "updated_by", "updated_at"]
        # One row per province and carrier: a second is an update (the service upserts).
        validators = []


class ProvinceTransitSerializer(serializers.Serializer):
    province = serializers.CharField()
    short = serializers.CharField()
    days = serializers.IntegerField(help_text="What allocation uses with any carrier.")
    default_days = serializers.IntegerField(help_text="From the studio's province.")
    from_table = serializers.BooleanField(help_text="False: the default applies.")


class EffectiveTransitSerializer(serializers.Serializer):
    origin = serializers.CharField(help_text="The studio's province (STUDIO_PROVINCE).")
    provinces = ProvinceTransitSerializer(many=True)


@extend_schema_view(
    list=extend_schema(
        summary="List the transit table's rows",
        description="Rows that override the defaults; see `effective` for every province.",
    ),
    retrieve=extend_schema(summary="One row of the transit table"),
    create=extend_schema(
        summary="Set the days to a province",
        description="`province` in any form (新疆, 新疆维吾尔自治区); `carrier_code` a carrier's "
        "code or empty for any carrier. Setting an existing province and carrier updates it; "
        "days for any carrier equal to the default remove the row (answer 204).",
        responses={201: TransitTimeSerializer, 204: None},
    ),
    update=extend_schema(summary="Change a row", responses={200: TransitTimeSerializer, 204: None}),
    partial_update=extend_schema(
        summary="Change a row", responses={200: TransitTimeSerializer, 204: None}
    ),
    destroy=extend_schema(summary="Remove a row: the default applies again"),
)
class TransitTimeViewSet(viewsets.ModelViewSet):
    serializer_class = TransitTimeSerializer
    read_roles = ORDER_READERS
    write_roles = ORDER_WRITERS
    filterset_fields = ["province", "carrier_code"]
    ordering_fields = ["province", "carrier_code", "days"]

    def get_queryset(self):
        return TransitTime.objects.select_related("updated_by").order_by("province", "carrier_code")

    def _save(self, values: dict, *, status_code):
        row = transit_time_set(
            province=values["province"],
            carrier_code=values.get("carrier_code", ""),
            days=values["days"],
            acting_user=self.request.user,
        )
        if row is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(TransitTimeSerializer(row).data, status=status_code)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._save(serializer.validated_data, status_code=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        row = self.get_object()
        serializer = self.get_serializer(row, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        values = {
            "province": row.province,
            "carrier_code": row.carrier_code,
            "days": row.days,
            **serializer.validated_data,
        }
        with transaction.atomic():
            if (values["province"], values["carrier_code"]) != (row.province, row.carrier_code):
                transit_time_delete(row=row)  # moved to another province or carrier
            return self._save(values, status_code=status.HTTP_200_OK)

    def perform_destroy(self, instance):
        transit_time_delete(row=instance)

    @extend_schema(
        summary="Days to every province, as allocation reads them",
        description="All 34 province-level divisions with the days for any carrier: the "
        "table's row, else the default from the studio's province (`origin`).",
        responses=EffectiveTransitSerializer,
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def effective(self, request):
        overview, _carrier_rows = transit_overview()
        return Response(
            {
                "origin": studio_province(),
                "provinces": [
                    {
                        "province": item.province,
                        "short": item.short,
                        "days": item.days,
                        "default_days": item.default_days,
                        "from_table": item.row is not None,
                    }
                    for item in overview
                ],
            }
        )
