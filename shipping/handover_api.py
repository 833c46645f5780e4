"""Handover batches over the API (packers and managers): start one for a carrier, scan
tracking numbers into it (each number gets its own result), close it, fetch its manifest."""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from core import api as core_api
from core.errors import DomainError
from core.roles import SHIPPING_WORKERS
from shipping import selectors, services
from shipping.api import BAD_INPUT, PDF, PDFRenderer, _refused, _result
from shipping.handover_views import batch_manifest_response
from shipping.models import HandoverBatch
from shipping.serializers import MAX_BATCH, BatchResultSerializer, _carrier_field

CONFLICT_CODES = frozenset({"forbidden_transition", "already_handed_over", "closed"})


class HandoverBatchSerializer(serializers.ModelSerializer):
    carrier = _carrier_field()
    carrier_name = serializers.CharField(source="carrier.name", read_only=True)
    started_by = serializers.CharField(source="started_by.username", read_only=True)
    closed_by = serializers.CharField(
        source="closed_by.username", read_only=True, allow_null=True, default=None
    )
    parcel_count = serializers.IntegerField(read_only=True)
    is_open = serializers.BooleanField(read_only=True)

    class Meta:
        model = HandoverBatch
        fields = [
            "id",
            "code",
            "carrier",
            "carrier_name",
            "courier_name",
            "started_at",
            "started_by",
            "closed_at",
            "closed_by",
            "is_open",
            "parcel_count",
        ]
        read_only_fields = ["code", "started_at", "closed_at"]


class HandoverScanSerializer(serializers.Serializer):
    tracking_numbers = serializers.ListField(
        child=serializers.CharField(max_length=40), allow_empty=False, max_length=MAX_BATCH
    )


@extend_schema_view(
    list=extend_schema(
        summary="List handover batches",
        description="Newest first; `open=true` lists the open ones (any packer may carry one "
        "on), `open=false` the closed ones.",
        parameters=[OpenApiParameter("open", OpenApiTypes.BOOL, required=False)],
    ),
    retrieve=extend_schema(summary="One handover batch"),
    create=extend_schema(
        summary="Start a handover batch",
        description="For a carrier's pickup (`carrier` is its code), with the courier's name.",
        responses={201: HandoverBatchSerializer, 400: BAD_INPUT},
    ),
)
class HandoverBatchViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = HandoverBatchSerializer
    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    read_roles = SHIPPING_WORKERS
    write_roles = SHIPPING_WORKERS
    action_roles = {"scan": SHIPPING_WORKERS, "close": SHIPPING_WORKERS}
    filter_backends = []

    def get_queryset(self):
        wanted = self.request.query_params.get("open", "").lower()
        return selectors.handover_batches(
            open_=(wanted == "true") if wanted in {"true", "false"} else None
        )

    def perform_create(self, serializer):
        data = serializer.validated_data
        batch = services.handover_batch_start(
            carrier=data["carrier"],
            courier_name=data.get("courier_name", ""),
            acting_user=self.request.user,
        )
        serializer.instance = self.get_queryset().get(pk=batch.pk)

    @extend_schema(
        summary="Scan parcels into a batch",
        description="Each tracking number is handed over on its own: the parcel becomes "
        "shipped and joins the batch. A parcel already handed over is `refused` with "
        '`code: "already_handed_over"` and a detail naming its batch; a closed batch '
        "refuses every number (`closed`).",
        request=HandoverScanSerializer,
        responses={200: BatchResultSerializer, 400: BAD_INPUT},
    )
    @action(detail=True, methods=["post"], pagination_class=None)
    def scan(self, request, code=None):
        batch = get_object_or_404(HandoverBatch.objects.select_related("carrier"), code=code)
        serializer = HandoverScanSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        results = []
        for number in serializer.validated_data["tracking_numbers"]:
            try:
                parcel = services.handover_scan(
                    tracking_number=number, batch=batch, acting_user=request.user
                )
            except DomainError as exc:
                results.append(_refused(number, exc))
            else:
                results.append(_result(number, "shipped", parcel.status))
        return Response({"results": results})

    @extend_schema(
        summary="Close a batch",
        description="No more scans go into it; its parcels stay shipped. Closing it again "
        "changes nothing.",
        request=None,
        responses={200: HandoverBatchSerializer},
    )
    @action(detail=True, methods=["post"], pagination_class=None)
    def close(self, request, code=None):
        batch = get_object_or_404(HandoverBatch, code=code)
        try:
            services.handover_batch_close(batch=batch, acting_user=request.user)
        except DomainError as exc:  # pragma: no cover - closing never refuses today
            return core_api.domain_error_response(exc, conflict_codes=CONFLICT_CODES)
        batch = self.get_queryset().get(pk=batch.pk)
        return Response(HandoverBatchSerializer(batch).data, status=status.HTTP_200_OK)

    @extend_schema(
        summary="A batch's manifest",
        description="The A4 manifest listing every parcel of the batch, for both signatures.",
        responses=PDF,
    )
    @action(
        detail=True,
        methods=["get"],
        renderer_classes=[JSONRenderer, PDFRenderer],
        pagination_class=None,
    )
    def manifest(self, request, code=None):
        batch = get_object_or_404(
            HandoverBatch.objects.select_related("carrier", "started_by"), code=code
        )
        return batch_manifest_response(batch)
