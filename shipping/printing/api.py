"""Printers (managers keep them; packers see them) and print jobs (packers and managers list
them, send labels, send a failed job again or reprint a sent one)."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core import api as core_api
from core.errors import DomainError
from core.idempotency import IDEMPOTENCY_KEY_PARAMETER, IdempotentCreateMixin, idempotent
from core.roles import SHIPPING_WORKERS, Role
from shipping.models import Parcel, Printer
from shipping.printing.selectors import print_job_list
from shipping.printing.serializers import (
    PrinterSerializer,
    PrintJobAgainSerializer,
    PrintJobCreateSerializer,
    PrintJobSerializer,
)
from shipping.printing.services import labels_print, print_job_retry
from shipping.selectors import ParcelFilters, parcels_filtered

MANAGERS = frozenset({Role.MANAGER})
CONFLICT_CODES = frozenset({"not_failed"})
BAD_INPUT = OpenApiResponse(description="Invalid input, keyed by field.")


@extend_schema_view(
    list=extend_schema(summary="List printers"),
    retrieve=extend_schema(summary="One printer"),
    create=extend_schema(
        summary="Add a printer",
        description="A network printer (`host`, `port` 9100 by default) or a CUPS queue on the "
        "server (`cups_queue`), never both; its language (zpl, tspl), resolution (203, 300) "
        "and the label stock loaded (`label_size`).",
    ),
    destroy=extend_schema(
        description="A printer with print jobs cannot be deleted: deactivate it instead.",
        responses={204: None, 409: OpenApiResponse(description="The printer has print jobs.")},
    ),
)
class PrinterViewSet(IdempotentCreateMixin, core_api.ProtectedDeleteMixin, viewsets.ModelViewSet):
    queryset = Printer.objects.order_by("name")
    serializer_class = PrinterSerializer
    filterset_fields = ["is_active", "language"]
    ordering_fields = ["name"]
    read_roles = SHIPPING_WORKERS
    write_roles = MANAGERS


@extend_schema_view(
    list=extend_schema(
        summary="The print queue",
        description="Print jobs, newest first: state (queued, sent, failed), the printer's "
        "trouble in words when it failed, labels sent of the job's count, attempts.",
    ),
    retrieve=extend_schema(summary="One print job"),
)
class PrintJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = PrintJobSerializer
    filterset_fields = ["state", "printer"]
    ordering_fields = ["created_at"]
    read_roles = SHIPPING_WORKERS
    write_roles = SHIPPING_WORKERS

    def get_queryset(self):
        return print_job_list()

    @extend_schema(
        summary="Print labels",
        description="The labels of `parcels` (in that order) or of a `wave` (in wave order; "
        "`unprinted` for those not printed yet) to a printer. Up to 20 labels are sent "
        "before the answer, which then says `sent` or `failed`; a larger job answers "
        "`queued` and the task worker sends it.",
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request=PrintJobCreateSerializer,
        responses={201: PrintJobSerializer, 400: BAD_INPUT},
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = PrintJobCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        wave = data.get("wave")
        if wave is not None:
            filters = ParcelFilters(wave_code=wave.code, unprinted=data["unprinted"])
            parcels = list(parcels_filtered(filters).only("pk"))
        else:
            ids = data["parcels"]
            known = set(Parcel.objects.filter(pk__in=ids).values_list("pk", flat=True))
            unknown = [pk for pk in dict.fromkeys(ids) if pk not in known]
            if unknown:
                message = _("No parcel has the id %(ids)s.") % {
                    "ids": ", ".join(map(str, unknown[:20]))
                }
                return Response({"parcels": [message]}, status=status.HTTP_400_BAD_REQUEST)
            parcels = [Parcel(pk=pk) for pk in ids]
        try:
            job = labels_print(
                parcels=parcels, printer=data["printer"], acting_user=request.user, wave=wave
            )
        except DomainError as exc:
            return core_api.domain_error_response(exc, conflict_codes=CONFLICT_CODES)
        job = print_job_list().get(pk=job.pk)
        return Response(PrintJobSerializer(job).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Send a print job again",
        description="A failed job is sent again, from the label where the printer stopped "
        "(all of them to another `printer`); a sent job is reprinted as a new job. A job "
        "still queued is a 409.",
        request=PrintJobAgainSerializer,
        responses={
            200: PrintJobSerializer,
            400: BAD_INPUT,
            409: OpenApiResponse(description="The job is still queued."),
        },
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def again(self, request, pk=None):
        job = self.get_object()
        serializer = PrintJobAgainSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            sent = print_job_retry(
                job=job,
                acting_user=request.user,
                printer=serializer.validated_data.get("printer"),
            )
        except DomainError as exc:
            return core_api.domain_error_response(exc, conflict_codes=CONFLICT_CODES)
        return Response(PrintJobSerializer(print_job_list().get(pk=sent.pk)).data)
