"""The import API: upload an export (a dry-run preview comes back), save a column mapping,
commit, follow the progress, read the bad rows as JSON or CSV. Managers only, as the pages.
Every command calls one function of ``orders.importers.service``."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from core.errors import DomainError
from core.roles import ORDER_WRITERS
from orders.importers import service
from orders.importers.presets import FIELD_LABELS, IGNORE
from orders.models import Channel, ImportBatch, ImportMode, ImportRowError, ImportStatus

WRONG_STATE = OpenApiResponse(description="The import is not in a state that allows this.")


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class ImportBatchSerializer(serializers.ModelSerializer):
    channel = serializers.SlugRelatedField(slug_field="code", read_only=True)
    uploaded_by = serializers.CharField(source="uploaded_by.get_username", read_only=True)
    percent = serializers.IntegerField(source="progress_percent", read_only=True)

    class Meta:
        model = ImportBatch
        fields = [
            "id",
            "channel",
            "file_name",
            "sha256",
            "uploaded_by",
            "created_at",
            "finished_at",
            "status",
            "mode",
            "preset",
            "encoding",
            "rows_total",
            "rows_done",
            "percent",
            "created_count",
            "duplicate_count",
            "invalid_count",
            "skipped_count",
            "attempts",
            "message",
        ]
        read_only_fields = fields


class ImportUploadSerializer(serializers.Serializer):
    channel = serializers.SlugRelatedField(
        slug_field="code", queryset=Channel.objects.filter(is_active=True)
    )
    file = serializers.FileField(help_text="The platform's export: CSV or XLSX.")


class ImportMappingSerializer(serializers.Serializer):
    mapping = serializers.DictField(
        child=serializers.ChoiceField(choices=[IGNORE, *FIELD_LABELS], allow_blank=True),
        help_text='{"header as in the file": "field", …}; "" ignores a column. Fields: '
        + ", ".join(FIELD_LABELS),
    )


class ImportCommitSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=ImportMode.choices, default=ImportMode.KEEP_GOOD)


class ImportRowErrorSerializer(serializers.ModelSerializer):
    class Meta:
        model = ImportRowError
        fields = ["row_number", "column", "reason", "raw"]
        read_only_fields = fields


def _preview_body(batch: ImportBatch) -> dict:
    body = {"import": service.status_json(batch)}
    if batch.status == ImportStatus.UPLOADED:
        columns, _samples = service.batch_columns(batch)
        body |= {
            "needs_mapping": True,
            "missing_fields": columns.missing,
            "unknown_headers": columns.unknown,
            "mapping": columns.as_choices(),
        }
        return body
    errors = batch.errors.all()[: service.PREVIEW_ERRORS]
    body |= {
        "needs_mapping": False,
        "errors": ImportRowErrorSerializer(errors, many=True).data,
        "sample": [
            {
                "external_no": order.external_no,
                "state": order.state,
                "recipient_name": order.recipient_name,
                "masked_phone": order.masked_phone,
                "place": order.place,
                "paid_at": order.paid_at.isoformat() if order.paid_at else None,
                "lines": order.lines,
                "goods_total": str(order.total) if order.total is not None else None,
                "live_session": order.live_session,
            }
            for order in service.preview_sample(batch)
        ],
    }
    return body


def _refusal(error: DomainError) -> Response:
    if error.code == "wrong_state":
        return Response(
            {"detail": error.message, "code": error.code}, status=status.HTTP_409_CONFLICT
        )
    return Response(error.as_dict(), status=status.HTTP_400_BAD_REQUEST)


@extend_schema_view(
    list=extend_schema(summary="List order imports", description="Newest first."),
    retrieve=extend_schema(
        summary="An import's status and progress",
        description="Poll this while an import runs: `rows_done` of `rows_total`, then how "
        "many of its orders were allocated or back-ordered. `resuming` is true when the "
        "process running it stopped and a task worker resumes it where it stopped; "
        "`resumable` when it failed and may be resumed (POST `resume`).",
        responses=OpenApiTypes.OBJECT,
    ),
)
class ImportBatchViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """An uploaded order export and what became of it."""

    queryset = ImportBatch.objects.select_related("channel", "uploaded_by")
    serializer_class = ImportBatchSerializer
    filterset_fields = ["status", "channel"]
    ordering_fields = ["created_at"]
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    read_roles = ORDER_WRITERS
    write_roles = ORDER_WRITERS

    def retrieve(self, request, pk=None):
        return Response(service.status_json(self.get_object()))

    @extend_schema(
        summary="Upload an export and preview it (a dry run)",
        description="Nothing but the import itself is saved. The answer holds the counts, the "
        "first 20 bad rows and a sample of 10 parsed orders; or, when some needed columns are "
        "not recognised, `needs_mapping` with the headers: then POST a mapping.",
        request={"multipart/form-data": ImportUploadSerializer},
        responses={201: OpenApiTypes.OBJECT, 400: OpenApiResponse(description="Bad file.")},
    )
    def create(self, request):
        serializer = ImportUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            batch = service.import_upload(
                channel=serializer.validated_data["channel"],
                uploaded=serializer.validated_data["file"],
                acting_user=request.user,
            )
        except DomainError as error:
            return _refusal(error)
        return Response(_preview_body(batch), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Say which column holds which field, and preview again",
        description="The mapping is saved on the channel and used for its next exports.",
        request=ImportMappingSerializer,
        responses={200: OpenApiTypes.OBJECT, 409: WRONG_STATE},
    )
    @action(detail=True, methods=["post"])
    def mapping(self, request, pk=None):
        batch = self.get_object()
        serializer = ImportMappingSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            batch = service.import_map_columns(
                batch=batch, choices=serializer.validated_data["mapping"], acting_user=request.user
            )
        except DomainError as error:
            return _refusal(error)
        return Response(_preview_body(batch))

    @extend_schema(
        summary="Import a previewed file",
        description="`keep_good` imports the good orders and lists the bad rows; "
        "`all_or_nothing` imports nothing when any row is bad. Small files are done when "
        "this answers (200); larger ones are queued (202): poll the import.",
        request=ImportCommitSerializer,
        responses={200: OpenApiTypes.OBJECT, 202: OpenApiTypes.OBJECT, 409: WRONG_STATE},
    )
    @action(detail=True, methods=["post"])
    def commit(self, request, pk=None):
        batch = self.get_object()
        serializer = ImportCommitSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            batch = service.import_commit(
                batch=batch, mode=serializer.validated_data["mode"], acting_user=request.user
            )
        except DomainError as error:
            return _refusal(error)
        finished = batch.status in service.FINISHED
        return Response(
            service.status_json(batch),
            status=status.HTTP_200_OK if finished else status.HTTP_202_ACCEPTED,
        )

    @extend_schema(
        summary="Resume a failed import",
        description="An import that failed after it was committed (an error, or its process "
        "stopped `LEASE_MAX_ATTEMPTS` times) is queued for the task worker again: the orders "
        "it wrote are kept and recognised, the rest are written, and the orders waiting for "
        "stock are allocated first paid first served. Answers 202: poll the import. An "
        "import that stopped is resumed by the task worker without asking (its status says "
        "`resuming`).",
        request=None,
        responses={202: OpenApiTypes.OBJECT, 409: WRONG_STATE},
    )
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        batch = self.get_object()
        try:
            batch = service.import_resume(batch=batch, acting_user=request.user)
        except DomainError as error:
            return _refusal(error)
        return Response(service.status_json(batch), status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="The import's bad rows",
        description="Row number (the header is row 1), column, reason and the row as read.",
        responses=ImportRowErrorSerializer(many=True),
    )
    @action(detail=True, methods=["get"])
    def errors(self, request, pk=None):
        batch = self.get_object()
        page = self.paginate_queryset(batch.errors.all())
        return self.get_paginated_response(ImportRowErrorSerializer(page, many=True).data)

    @extend_schema(
        summary="The import's bad rows as a CSV file",
        description="UTF-8 with BOM: the original columns plus 错误, 行号 and 列; cells that "
        "would start a formula begin with an apostrophe.",
        responses={(200, "text/csv"): OpenApiTypes.BINARY},
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="errors-csv",
        url_name="errors-csv",
        renderer_classes=[CSVRenderer, JSONRenderer],
    )
    def errors_csv(self, request, pk=None):
        batch = self.get_object()
        response = HttpResponse(service.errors_csv(batch), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="import-{batch.pk}-errors.csv"'
        return response
