"""The orders REST API: orders (list, one order, create, and the cancel and allocate commands),
live sessions and channels. Every view declares its roles (see ``core.permissions``); every
command calls one service. Imports have their own API (``orders.import_api``)."""

from django.db import IntegrityError, transaction
from django.utils.translation import ngettext
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core import api as core_api
from core.errors import DomainError
from core.idempotency import IDEMPOTENCY_KEY_PARAMETER, IdempotentCreateMixin, idempotent
from core.roles import (
    LIVE_SESSION_WRITERS,
    ORDER_READERS,
    ORDER_WRITERS,
)
from orders import addresses, selectors, services
from orders.drafts import LineDraft, OrderDraft
from orders.filters import LiveSessionFilter, OrderFilter
from orders.models import LiveSession, Order
from orders.serializers import (
    AllocateResultSerializer,
    ChannelSerializer,
    LiveSessionSerializer,
    OrderAddressSerializer,
    OrderCancelSerializer,
    OrderCreateSerializer,
    OrderDetailSerializer,
    OrderSerializer,
)

# Who sees one order's full phone and street address: packers pack it, managers run the
# studio. Creators follow what sold and get the masked view.
# Domain errors that are not bad input but a clash with the data's current state.
CONFLICT_CODES = frozenset({"forbidden_transition", "duplicate"})

CONFLICT = OpenApiResponse(description="The order's state (or an existing order) forbids it.")
BAD_INPUT = OpenApiResponse(
    description='Invalid input, keyed by field; line errors by line: `{"lines": [{}, '
    '{"quantity": ["…"]}]}`.'
)


def domain_error_response(exc: DomainError) -> Response:
    """A clash with the current state (a forbidden transition, a duplicate order number) is a
    409; anything else a 400 keyed by field, line errors under ``lines`` by line index."""
    return core_api.domain_error_response(exc, conflict_codes=CONFLICT_CODES, rows_key="lines")


# The API never gives a recipient's full phone or street address: the packing station page
# and the label do (README "Who sees what").
ORDER_VIEW = OrderDetailSerializer


@extend_schema_view(
    list=extend_schema(
        summary="List orders",
        description="Newest payment first. Phones are masked (`masked_phone`) and addresses "
        "stop at the district (with its national `adcode`); lines are summarised. "
        "`?address_review=true` lists addresses to check by hand. `status` may be repeated "
        "(`?status=new&status=backordered`); `paid_after`/`paid_before` are whole days in "
        "Asia/Shanghai, both included.",
    ),
    retrieve=extend_schema(
        summary="One order",
        description="Lines with their allocations (lot, kg, farmer) and the events timeline. "
        "Packers and managers get the full `phone`, `address_detail` and `raw_address`; "
        "creators get `masked_phone` and the district only.",
        responses=ORDER_VIEW,
    ),
)
class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    filterset_class = OrderFilter
    ordering_fields = ["paid_at", "created_at", "goods_total", "external_no"]
    read_roles = ORDER_READERS
    write_roles = ORDER_WRITERS
    action_roles = {
        "create": ORDER_WRITERS,
        "cancel": ORDER_WRITERS,
        "allocate": ORDER_WRITERS,
        "reallocate": ORDER_WRITERS,
        "address": ORDER_WRITERS,
    }

    def get_queryset(self):
        if self.action == "list":
            return selectors.order_list()
        if self.action == "retrieve":
            return selectors.order_detail()
        return Order.objects.all()

    def get_serializer_class(self):
        if self.action == "list":
            return OrderSerializer
        if self.action == "create":
            return OrderCreateSerializer
        if self.action == "cancel":
            return OrderCancelSerializer
        if self.action == "address":
            return OrderAddressSerializer
        return self.detail_serializer_class()

    def detail_serializer_class(self):
        return OrderDetailSerializer

    def _order_body(self, order: Order) -> dict:
        order = selectors.order_detail().get(pk=order.pk)
        serializer = self.detail_serializer_class()
        return serializer(order, context=self.get_serializer_context()).data

    @extend_schema(
        summary="Create an order",
        description="Saves the order with its lines and, unless `allocate` is false, reserves "
        "its kilograms first expiry first: the order comes back `allocated`, or `backordered` "
        "when stock is short (it is allocated automatically when stock arrives). An order "
        "number the channel already has is a 409.",
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request=OrderCreateSerializer,
        responses={201: OrderDetailSerializer, 400: BAD_INPUT, 409: CONFLICT},
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = OrderCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        draft = OrderDraft(
            external_no=data["external_no"],
            recipient_name=data["recipient_name"],
            phone=data["phone"],
            phone_masked_by_platform=data["phone_masked_by_platform"],
            province=data["province"],
            city=data["city"],
            district=data["district"],
            address_detail=data["address_detail"],
            buyer_note=data["buyer_note"],
            paid_at=data["paid_at"],
            shipping_fee=data["shipping_fee"],
            live_session=data["live_session"],
            lines=[
                LineDraft(sku=line["sku"], quantity=line["quantity"], unit_price=line["unit_price"])
                for line in data["lines"]
            ],
        )
        channel = data["channel"]
        try:
            with transaction.atomic():
                [order] = services.orders_create(
                    channel=channel, drafts=[draft], acting_user=request.user
                )
                if data["allocate"]:
                    services.order_allocate(order=order, acting_user=request.user)
        except DomainError as exc:
            return domain_error_response(exc)
        except IntegrityError:
            # Another request saved the same order number between the check and the insert.
            if not Order.objects.filter(channel=channel, external_no=draft.external_no).exists():
                raise
            return domain_error_response(
                services.DuplicateOrder(number=draft.external_no, channel=channel)
            )
        return Response(self._order_body(order), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Cancel an order",
        description="Before packing only; what the order had reserved goes back to its lots. "
        "A packed, shipped or already cancelled order is a 409 naming both states.",
        request=OrderCancelSerializer,
        responses={200: OrderDetailSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def cancel(self, request, pk=None):
        order = self.get_object()
        serializer = OrderCancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            services.order_cancel(
                order=order, acting_user=request.user, note=serializer.validated_data["note"]
            )
        except DomainError as exc:
            return domain_error_response(exc)
        return Response(self._order_body(order))

    @extend_schema(
        summary="Correct an order's address",
        description="For an address that could not be read onto the national divisions "
        '(`address_status` `"partial"` or `"unmatched"`; `?address_review=true` lists them): '
        "the region in any form (浙江 or 浙江省) and the street. The region must name a "
        "province, and a city and district of it when given; the address is then "
        '`"confirmed"`. A shipped, cancelled or refunded order is a 409.',
        request=OrderAddressSerializer,
        responses={200: OrderDetailSerializer, 400: BAD_INPUT, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def address(self, request, pk=None):
        order = self.get_object()
        serializer = OrderAddressSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            addresses.order_address_correct(
                order=order,
                province=data["province"],
                city=data["city"],
                district=data["district"],
                detail=data["address_detail"],
                acting_user=request.user,
            )
        except DomainError as exc:
            return domain_error_response(exc)
        return Response(self._order_body(order))

    @extend_schema(
        summary="Allocate an order",
        description="Reserves every line's kilograms first expiry first among the lots that "
        "still arrive fresh (transit days to the order's province + the product's days of "
        'life on arrival), all lines or none. `result` is `"allocated"`, or `"backordered"` '
        "when stock is short; the order's `backorder_reason` then says what it waits for "
        '("没有能新鲜送达新疆的蜜桃（特级）批次：需 4 天"). Only new and back-ordered orders can '
        "be allocated; any other state is a 409 naming both states.",
        request=None,
        responses={200: AllocateResultSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def allocate(self, request, pk=None):
        order = self.get_object()
        try:
            allocated = services.order_allocate(order=order, acting_user=request.user)
        except DomainError as exc:
            return domain_error_response(exc)
        return Response(
            {
                "result": "allocated" if allocated else "backordered",
                "order": self._order_body(order),
            }
        )

    @extend_schema(
        summary="Allocate an order again from fresh stock",
        description="For an allocated or picking order that holds produce of an expired lot "
        "(the pick list and the station refuse it): what it holds goes back and every line "
        "is reserved again from lots that still arrive fresh. All or nothing: when fresh "
        "stock is short the order keeps what it held and the answer is a 400 saying what it "
        "lacks. An order in any other state is a 409.",
        request=None,
        responses={200: OrderDetailSerializer, 400: BAD_INPUT, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def reallocate(self, request, pk=None):
        order = self.get_object()
        try:
            services.order_reallocate(order=order, acting_user=request.user)
        except DomainError as exc:
            return domain_error_response(exc)
        return Response(self._order_body(order))


LIVE_SESSION_IN_USE = OpenApiResponse(description="The live session has orders.")


@extend_schema_view(
    list=extend_schema(
        summary="List live sessions",
        description="Newest first, each with `order_count` (all its orders) and `gross_sales` "
        "(goods total of its orders not cancelled or refunded).",
    ),
    retrieve=extend_schema(summary="One live session"),
    create=extend_schema(summary="Plan a live session"),
    destroy=extend_schema(
        summary="Delete a live session",
        description="Only a session without orders can be deleted.",
        responses={204: None, 409: LIVE_SESSION_IN_USE},
    ),
)
class LiveSessionViewSet(IdempotentCreateMixin, viewsets.ModelViewSet):
    serializer_class = LiveSessionSerializer
    filterset_class = LiveSessionFilter
    ordering_fields = ["starts_at", "ends_at", "title", "order_count", "gross_sales"]
    read_roles = ORDER_READERS
    write_roles = LIVE_SESSION_WRITERS

    def get_queryset(self):
        return selectors.live_session_list()

    def _reload(self, serializer):
        # The answer carries the order count and sales, which only the selector annotates.
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def perform_create(self, serializer):
        serializer.save()
        self._reload(serializer)

    def perform_update(self, serializer):
        serializer.save()
        self._reload(serializer)

    @transaction.atomic
    def perform_destroy(self, instance):
        locked = LiveSession.objects.select_for_update().get(pk=instance.pk)
        count = locked.orders.count()
        if count:
            raise core_api.Conflict(
                ngettext(
                    "“%(session)s” has %(count)d order and cannot be deleted.",
                    "“%(session)s” has %(count)d orders and cannot be deleted.",
                    count,
                )
                % {"session": locked, "count": count}
            )
        locked.delete()


@extend_schema_view(list=extend_schema(summary="List sales channels"))
class ChannelViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    queryset = selectors.channel_list()
    serializer_class = ChannelSerializer
    filterset_fields = ["is_active"]
    ordering_fields = ["code", "name"]
    read_roles = ORDER_READERS
