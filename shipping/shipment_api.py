"""The ship-back API: the channel's bulk-shipping file for its platform, and the files made."""

from datetime import datetime, time

from django.http import FileResponse, Http404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import domain_error_response
from core.errors import DomainError
from core.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent
from core.roles import SHIPPING_WORKERS
from shipping.selectors import shipment_reports
from shipping.serializers import (
    ShipmentExportResultSerializer,
    ShipmentExportSerializer,
    ShipmentReportSerializer,
    ShipmentRowSerializer,
)
from shipping.shipments import shipments_export


@extend_schema_view(
    list=extend_schema(
        summary="Ship-back reports",
        description="Files made for the platforms (and pushes through their APIs), newest first.",
    ),
    retrieve=extend_schema(summary="One ship-back report"),
)
class ShipmentReportViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = ShipmentReportSerializer
    read_roles = SHIPPING_WORKERS
    write_roles = SHIPPING_WORKERS
    filter_backends = []

    def get_queryset(self):
        return shipment_reports()

    @extend_schema(
        summary="Export a channel's ship-back file",
        description="Every parcel of the channel handed over and not reported yet (`again`: "
        "reported or not; `since`: handed over on or after that day) as its platform's "
        "bulk-shipping upload file (批量发货: 快手 and 抖店 in their layouts, other channels a "
        "documented CSV). The parcels and their orders are marked reported. The file is kept: "
        "`file_url` downloads it. Nothing waiting: 409.",
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request=ShipmentExportSerializer,
        responses={
            201: ShipmentExportResultSerializer,
            400: OpenApiResponse(description="Invalid input, keyed by field."),
            409: OpenApiResponse(description="No parcel is waiting to be reported."),
        },
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = ShipmentExportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        since = data["since"]
        try:
            export = shipments_export(
                channel=data["channel"],
                acting_user=request.user,
                since=timezone.make_aware(datetime.combine(since, time.min)) if since else None,
                again=data["again"],
                fmt=data["format"],
            )
        except DomainError as exc:
            return domain_error_response(exc, conflict_codes={"nothing_to_report"})
        body = {
            "report": ShipmentReportSerializer(export.report).data,
            "left_out": ShipmentRowSerializer(export.left_out, many=True).data,
        }
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="A ship-back file",
        responses={
            (200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): (
                OpenApiTypes.BINARY
            ),
            (200, "text/csv"): OpenApiTypes.BINARY,
        },
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def file(self, request, pk=None):
        report = self.get_object()
        if not report.file:
            raise Http404
        response = FileResponse(
            report.file.open("rb"),
            as_attachment=True,
            filename=report.file.name.rsplit("/", 1)[-1],
        )
        response["Cache-Control"] = "private, no-store"
        return response
