"""The shipping REST API: carriers, waybill pools, waves, parcels, and the commands of the
packing floor (pack, labels, handover) and of the carriers (tracking updates). Every view
declares its roles (see ``core.permissions``); every command calls one service."""

import csv
import functools
import io

from django.db import IntegrityError
from django.db.models import Count, Prefetch, Q
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from core import api as core_api
from core.errors import DomainError
from core.idempotency import IDEMPOTENCY_KEY_PARAMETER, IdempotentCreateMixin, idempotent
from core.pdf import pdf_response
from core.roles import SHIPPING_READERS, SHIPPING_WORKERS, Role
from orders.models import Order
from shipping import services
from shipping.filters import ParcelFilter, WaveFilter
from shipping.labels import label_data, labels_data, render_labels
from shipping.models import Carrier, Parcel, ParcelItem, ReturnLine, TrackingEvent, WaveOrder
from shipping.selectors import WaveSelection, wave_candidates, wave_list
from shipping.serializers import (
    BatchResultSerializer,
    CarrierSerializer,
    HandoverSerializer,
    PackResultSerializer,
    PackSerializer,
    ParcelBriefSerializer,
    ParcelDetailSerializer,
    ParcelIdsSerializer,
    ParcelSerializer,
    ReshipSerializer,
    TrackingUpdatesSerializer,
    WaveCreateSerializer,
    WaveDetailSerializer,
    WaveSerializer,
    WaybillImportResultSerializer,
    WaybillImportSerializer,
    WaybillStockSerializer,
    absolute_url,
    label_path,
)

MANAGERS = frozenset({Role.MANAGER})
# Who sees one parcel's full phone and street address: those who pack and ship it.
# Refusals that are a clash with the data's state, not bad input: answered 409.
CONFLICT_CODES = frozenset(
    {"forbidden_transition", "not_packable", "pool_empty", "duplicate", "insufficient_stock"}
)
MAX_POOL_FILE_BYTES = 20 * 1024 * 1024

CONFLICT = OpenApiResponse(description="The parcel's or order's state forbids it.")
BAD_INPUT = OpenApiResponse(description="Invalid input, keyed by field.")
PDF = {(200, "application/pdf"): OpenApiTypes.BINARY}


def domain_error_response(exc: DomainError) -> Response:
    return core_api.domain_error_response(exc, conflict_codes=CONFLICT_CODES)


class PDFRenderer(BaseRenderer):
    """Lets a client ask for ``Accept: application/pdf``; the PDF itself is sent as it is."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        return JSONRenderer().render(data)


# --- carriers and waybill pools --------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List carriers"),
    retrieve=extend_schema(summary="One carrier"),
    destroy=extend_schema(
        description="A carrier with parcels or waybill numbers cannot be deleted: deactivate "
        "it instead.",
        responses={204: None, 409: CONFLICT},
    ),
)
class CarrierViewSet(IdempotentCreateMixin, core_api.ProtectedDeleteMixin, viewsets.ModelViewSet):
    queryset = Carrier.objects.order_by("code")
    serializer_class = CarrierSerializer
    filterset_fields = ["is_active"]
    ordering_fields = ["code", "name"]
    read_roles = SHIPPING_READERS
    write_roles = MANAGERS


def _numbers_from_file(upload) -> list[str]:
    """The first column of each line of a text or CSV file, UTF-8 or GB18030 (as Excel saves
    it in China). A first line without a digit is a header and is skipped."""
    if upload.size > MAX_POOL_FILE_BYTES:
        raise DomainError(_("The file is too large."), field="file")
    raw = upload.read()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise DomainError(_("The file is not a text file."), field="file")
    try:
        rows = [row[0] if row else "" for row in csv.reader(io.StringIO(text))]
    except csv.Error:  # a NUL, or a "line" longer than any waybill number could be
        raise DomainError(
            _("The file is not a list of waybill numbers, one per line."), field="file"
        ) from None
    if rows and not any(ch.isdigit() for ch in rows[0]):
        rows = ["", *rows[1:]]  # keeps line numbers in errors as the file counts them
    return rows


@extend_schema_view(
    list=extend_schema(
        summary="Waybill numbers per carrier",
        description="For each carrier, how many imported waybill numbers are free and how many "
        "were taken.",
    ),
)
class WaybillPoolViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = WaybillStockSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    pagination_class = None
    filter_backends = []
    read_roles = SHIPPING_READERS
    write_roles = SHIPPING_WORKERS

    def get_queryset(self):
        return Carrier.objects.annotate(
            free=Count("waybills", filter=Q(waybills__taken_at__isnull=True)),
            taken=Count("waybills", filter=Q(waybills__taken_at__isnull=False)),
        ).order_by("code")

    @extend_schema(
        summary="Import waybill numbers",
        description="The numbers a carrier issued to the studio, as a JSON list (`numbers`) "
        "or an uploaded text/CSV file (`file`, one number per line). Numbers already known "
        "are skipped, so importing the same file twice adds nothing.",
        request={
            "application/json": WaybillImportSerializer,
            "multipart/form-data": WaybillImportSerializer,
        },
        responses={201: WaybillImportResultSerializer, 400: BAD_INPUT},
    )
    def create(self, request, *args, **kwargs):
        serializer = WaybillImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        carrier = data["carrier"]
        try:
            if data.get("file"):
                numbers = _numbers_from_file(data["file"])
                file_name = data["file"].name[:200]
            else:
                numbers, file_name = data["numbers"], ""
            pool, added, skipped = services.waybill_pool_import(
                carrier=carrier, numbers=numbers, file_name=file_name, acting_user=request.user
            )
        except DomainError as exc:
            return domain_error_response(exc)
        body = {"pool": pool.pk, "carrier": carrier.code, "added": added, "skipped": skipped}
        return Response(body, status=status.HTTP_201_CREATED)


# --- waves -----------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List waves", description="Newest first, with order counts."),
    retrieve=extend_schema(summary="One wave", description="With its orders in pick order."),
)
class WaveViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    filterset_class = WaveFilter
    ordering_fields = ["created_at", "code"]
    read_roles = SHIPPING_READERS
    write_roles = SHIPPING_WORKERS

    def get_queryset(self):
        waves = wave_list(with_parcel_count=True)
        if self.action == "retrieve":
            orders = WaveOrder.objects.select_related("order").order_by("position")
            waves = waves.prefetch_related(Prefetch("wave_orders", queryset=orders))
        return waves

    def get_serializer_class(self):
        if self.action == "retrieve":
            return WaveDetailSerializer
        if self.action == "create":
            return WaveCreateSerializer
        return WaveSerializer

    @extend_schema(
        summary="Make a wave",
        description="Allocated orders in no wave yet move to picking together: either the "
        "orders listed in `orders`, or those matching the filters (live session, channel, "
        "SKU, province), oldest payment first, at most `limit`. Orders that do not qualify "
        "are left out; when none does, 400.",
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request=WaveCreateSerializer,
        responses={201: WaveDetailSerializer, 400: BAD_INPUT},
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = WaveCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        carrier = data["carrier"]
        if data.get("orders"):
            orders = list(Order.objects.filter(pk__in=data["orders"]))
            selection = {"orders": sorted(set(data["orders"]))}
        else:
            chosen = WaveSelection(
                live_session_id=data["live_session"].pk if data["live_session"] else None,
                channel_id=data["channel"].pk if data["channel"] else None,
                merchant_code=data["sku"].strip(),
                province=data["province"].strip(),
                carrier_id=carrier.pk if carrier else None,
                limit=data["limit"],
            )
            orders = list(wave_candidates(chosen)[: chosen.limit])
            selection = chosen.as_json()
        try:
            wave = services.wave_create(
                orders=orders,
                acting_user=request.user,
                carrier=carrier,
                selection=selection,
                note=data["note"],
            )
        except DomainError as exc:
            return domain_error_response(exc)
        self.action = "retrieve"
        wave = self.get_queryset().get(pk=wave.pk)
        return Response(WaveDetailSerializer(wave).data, status=status.HTTP_201_CREATED)


# --- parcels ---------------------------------------------------------------------------------

# The API never gives a recipient's full phone or street address: the packing station page
# and the label do (README "Who sees what").
PARCEL_VIEW = ParcelDetailSerializer


def parcel_list_queryset():
    return Parcel.objects.select_related(
        "carrier", "wave", "order", "order__channel", "packed_by"
    ).order_by("-packed_at", "-id")


def parcel_detail_queryset():
    items = ParcelItem.objects.select_related("line__sku", "lot__farmer").prefetch_related(
        Prefetch("returns", queryset=ReturnLine.objects.order_by("id"))
    )
    events = TrackingEvent.objects.select_related("acting_user").order_by("occurred_at", "id")
    return parcel_list_queryset().prefetch_related(
        Prefetch("items", queryset=items.order_by("id")), Prefetch("events", queryset=events)
    )


@functools.cache
def _brief_parcels() -> ParcelBriefSerializer:
    """One brief-parcel serializer for every answer: a model serializer builds its fields anew
    for each instance otherwise (most of its cost). It keeps nothing between parcels."""
    return ParcelBriefSerializer()


def pack_result(packed: services.PackResult, context: dict, *, minimal: bool = False) -> dict:
    """The pack's answer, from the objects ``parcel_pack`` returns, with no query: the parcel
    comes with its carrier, wave, order (and channel), packer, items (their SKUs, lots and
    farmers) and its one tracking event. ``minimal``: the brief parcel instead (a third of the
    web worker's time for the answer; ``bench/pack.py``)."""
    parcel = packed.parcel
    if minimal:
        shown = _brief_parcels().to_representation(parcel)
    else:
        shown = ParcelDetailSerializer(parcel, context=context).data
    return {
        "parcel": shown,
        "warnings": packed.warnings,
        "label_url": absolute_url(context.get("request"), label_path(parcel)),
    }


def _result(number: str, result: str, parcel_status: str | None, **extra) -> dict:
    return {"tracking_number": number, "result": result, "status": parcel_status, **extra}


def _refused(number: str, exc: DomainError) -> dict:
    parcel = Parcel.objects.filter(tracking_number=number.strip()).only("status").first()
    return _result(
        number, "refused", parcel.status if parcel else None, code=exc.code, detail=exc.message
    )


def _number_on_another_parcel(number: str):
    """The 400 for a tracking number another request put on a parcel a moment earlier (the
    parcel's unique number refused this one)."""
    return domain_error_response(
        DomainError(
            _("Tracking number %(number)s is already on another parcel.") % {"number": number},
            field="tracking_number",
            code="duplicate",
        )
    )


@extend_schema_view(
    list=extend_schema(
        summary="List parcels",
        description="Newest first. The recipient's phone is masked (`masked_phone`) and the "
        "address stops at the district. `status` may be repeated; `packed_after`/"
        "`packed_before` are whole days in Asia/Shanghai, both included; `unprinted=true` "
        "lists parcels whose label was never printed.",
    ),
    retrieve=extend_schema(
        summary="One parcel",
        description="With its items (SKU, lot, farmer, kg, kg returned) and tracking events. "
        "Packers and managers also get the full `phone` and `address_detail`.",
        responses=PARCEL_VIEW,
    ),
)
class ParcelViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    filterset_class = ParcelFilter
    ordering_fields = ["packed_at", "tracking_number", "weight_kg"]
    read_roles = SHIPPING_READERS
    write_roles = SHIPPING_WORKERS
    action_roles = {
        "pack": SHIPPING_WORKERS,
        "reship": SHIPPING_WORKERS,
        "label": SHIPPING_WORKERS,
        "labels": SHIPPING_WORKERS,
        "handover": SHIPPING_WORKERS,
    }

    def get_queryset(self):
        if self.action == "retrieve":
            return parcel_detail_queryset()
        return parcel_list_queryset()

    def get_serializer_class(self):
        if self.action == "retrieve":
            return self.detail_serializer_class()
        return ParcelSerializer

    def detail_serializer_class(self):
        return ParcelDetailSerializer

    @extend_schema(
        summary="Pack an order",
        description="What the station's Pack button does: the order's allocated kilograms go "
        "into a new parcel (with `merge`, other orders to the same recipient and address "
        "too), leave the ledger as shipped out, and the order becomes packed. The tracking "
        "number is the scanned one, or the carrier's next free waybill number. With `items`, "
        "only those units go into this box and the order stays picking until its last box; "
        "boxes are numbered `sequence`/`parcel_count`. A weight outside the expected band is "
        "400 (`weight_outside_band`) unless `weight_reason` says why; an unusual number only "
        "adds a warning. An order that "
        "is not allocated (or already packed) and an empty waybill pool are 409. With "
        "`Prefer: return=minimal` the parcel in the answer is brief: its id, carrier, numbers, "
        "status, weights, box number and order.",
        parameters=[IDEMPOTENCY_KEY_PARAMETER, core_api.PREFER_PARAMETER],
        request=PackSerializer,
        responses={201: PackResultSerializer, 400: BAD_INPUT, 409: CONFLICT},
    )
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    @idempotent
    def pack(self, request):
        serializer = PackSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            packed = services.parcel_pack(
                order=data["order"],
                carrier=data["carrier"],
                weight_kg=data["weight_kg"],
                tracking_number=data["tracking_number"],
                sorting_code=data["sorting_code"],
                merge=data["merge"],
                items=data["items"],
                weight_reason=data["weight_reason"],
                parcel_count=data["parcel_count"],
                acting_user=request.user,
            )
        except DomainError as exc:
            return domain_error_response(exc)
        except IntegrityError:
            # Another request put the same tracking number on a parcel a moment earlier.
            return _number_on_another_parcel(data["tracking_number"])
        minimal = core_api.prefers_minimal(request)
        response = Response(
            pack_result(packed, self.get_serializer_context(), minimal=minimal),
            status=status.HTTP_201_CREATED,
        )
        return core_api.minimal_applied(response) if minimal else response

    @extend_schema(
        summary="Reship a line (补发)",
        description="Units of one line of an order that has left (packed or later) go out "
        "again in a new parcel of the same order, without a new platform order: taken from "
        "the lots that expire first and shipped out of the ledger; the order's status stays. "
        "An order not packed yet, or stock short, is a 409.",
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request=ReshipSerializer,
        responses={201: ParcelDetailSerializer, 400: BAD_INPUT, 409: CONFLICT},
    )
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    @idempotent
    def reship(self, request):
        serializer = ReshipSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            parcel = services.parcel_reship(
                order=data["order"],
                line=data["line"],
                units=data["units"],
                carrier=data["carrier"],
                weight_kg=data["weight_kg"],
                tracking_number=data["tracking_number"],
                reason=data["reason"],
                acting_user=request.user,
            )
        except DomainError as exc:
            return domain_error_response(exc)
        except IntegrityError:
            # Another request put the same tracking number on a parcel a moment earlier.
            return _number_on_another_parcel(data["tracking_number"])
        parcel = parcel_detail_queryset().get(pk=parcel.pk)
        body = ParcelDetailSerializer(parcel, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="A parcel's label",
        description="The shipping label as a PDF at the carrier's label size. The first fetch "
        "marks the label printed.",
        responses=PDF,
    )
    @action(
        detail=True,
        methods=["get"],
        renderer_classes=[JSONRenderer, PDFRenderer],
        filter_backends=[],
    )
    def label(self, request, pk=None):
        parcel = self.get_object()
        pdf = render_labels([label_data(parcel)])
        services.parcel_labels_printed(parcel_ids=[parcel.pk])
        return pdf_response(pdf, f"label-{parcel.tracking_number}.pdf")

    @extend_schema(
        summary="Labels of many parcels",
        description="One PDF, one label per page, in the order of `ids`; each label at its "
        "carrier's size. Marks them printed. An unknown id is a 400 naming it.",
        request=ParcelIdsSerializer,
        responses={**PDF, 400: BAD_INPUT},
    )
    @action(
        detail=False,
        methods=["post"],
        renderer_classes=[JSONRenderer, PDFRenderer],
        filter_backends=[],
        pagination_class=None,
    )
    def labels(self, request):
        serializer = ParcelIdsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ids = list(dict.fromkeys(serializer.validated_data["ids"]))
        known = set(Parcel.objects.filter(pk__in=ids).values_list("pk", flat=True))
        unknown = [pk for pk in ids if pk not in known]
        if unknown:
            message = _("No parcel has the id %(ids)s.") % {
                "ids": ", ".join(map(str, unknown[:20]))
            }
            return Response({"ids": [message]}, status=status.HTTP_400_BAD_REQUEST)
        pdf = render_labels(labels_data([Parcel(pk=pk) for pk in ids]))
        services.parcel_labels_printed(parcel_ids=ids)
        return pdf_response(pdf, f"labels-{len(ids)}.pdf")

    @extend_schema(
        summary="Hand parcels over to the carrier",
        description="Each tracking number scanned at the carrier's pickup: the parcel becomes "
        "shipped. Every number gets its own result; one refused number (unknown, or a "
        'parcel already handed over: `code: "already_handed_over"`, with the batch it went '
        "in) does not stop the others. `/api/handovers/` keeps the scans as a batch.",
        request=HandoverSerializer,
        responses={200: BatchResultSerializer, 400: BAD_INPUT},
    )
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def handover(self, request):
        serializer = HandoverSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        carrier = serializer.validated_data["carrier"]
        results = []
        for number in serializer.validated_data["tracking_numbers"]:
            try:
                parcel = services.handover_scan(
                    tracking_number=number, carrier=carrier, acting_user=request.user
                )
            except DomainError as exc:
                results.append(_refused(number, exc))
            else:
                results.append(_result(number, "shipped", parcel.status))
        return Response({"results": results})


class TrackingViewSet(viewsets.GenericViewSet):
    """Carriers' tracking updates (a carrier integration posts with a packer's or manager's
    token)."""

    serializer_class = TrackingUpdatesSerializer
    filter_backends = []
    pagination_class = None
    read_roles = SHIPPING_READERS
    write_roles = SHIPPING_WORKERS

    @extend_schema(
        summary="Tracking updates",
        description="Each update moves its parcel (shipped → delivered or exception, exception "
        "→ shipped or delivered) with a tracking event. Sending the same update again changes "
        'nothing (`"unchanged"`); a move the parcel cannot make is `"refused"` with '
        '`code: "forbidden_transition"`. Each update is applied on its own.',
        request=TrackingUpdatesSerializer,
        responses={200: BatchResultSerializer, 400: BAD_INPUT},
    )
    def create(self, request, *args, **kwargs):
        serializer = TrackingUpdatesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        results = []
        for update in serializer.validated_data["updates"]:
            number = update["tracking_number"]
            try:
                parcel, changed = services.tracking_update(
                    tracking_number=number,
                    status=update["status"],
                    occurred_at=update["time"],
                    description=update["description"],
                    carrier=update["carrier"],
                    source=TrackingEvent.Source.API,
                    acting_user=request.user,
                )
            except DomainError as exc:
                results.append(_refused(number, exc))
            else:
                results.append(
                    _result(number, "applied" if changed else "unchanged", parcel.status)
                )
        return Response({"results": results})
