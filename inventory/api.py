"""The inventory REST API: master data, lots (with their write-off, count and move commands and
their ledger) and intake. Every view declares its roles (see ``core.permissions``); every
command calls one service."""

from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import APIRootView

from core.api import ProtectedDeleteMixin
from core.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent
from core.roles import STOCK_READERS, STOCK_WRITERS, Role
from inventory import selectors, services
from inventory.filters import (
    DeliveryFilter,
    FarmerFilter,
    LocationFilter,
    LotFilter,
    ProductFilter,
    SkuFilter,
)
from inventory.models import Farmer, Grade, Location, Lot, Product, Sku
from inventory.serializers import (
    DeliverySerializer,
    FarmerCreateSerializer,
    FarmerDetailSerializer,
    FarmerSerializer,
    GradeSerializer,
    IntakeCreateSerializer,
    LocationSerializer,
    LotCountSerializer,
    LotMoveSerializer,
    LotSerializer,
    LotWriteOffSerializer,
    ProductSerializer,
    SkuSerializer,
    StockMovementSerializer,
)

MANAGERS = frozenset({Role.MANAGER})
# Who sees a farmer's full phone number (one farmer at a time, never in a list).


class StudioAPIRootView(APIRootView):
    """The API's index page: links to every resource."""

    read_roles = STOCK_READERS


CONFLICT_RESPONSE = OpenApiResponse(description="Still referenced: deactivate it instead.")


def master_data_schema(resource: str):
    return extend_schema_view(
        list=extend_schema(summary=f"List {resource}"),
        retrieve=extend_schema(summary=f"One of the {resource}"),
        destroy=extend_schema(responses={204: None, 409: CONFLICT_RESPONSE}),
    )


class MasterDataViewSet(ProtectedDeleteMixin, viewsets.ModelViewSet):
    """Read by everyone who handles stock, changed by managers."""

    read_roles = STOCK_READERS
    write_roles = MANAGERS


# --- farmers ---------------------------------------------------------------------------------

# One farmer: the full phone only for intake staff and managers (FarmerDetailSerializer).
FARMER_VIEW = FarmerDetailSerializer


@extend_schema_view(
    list=extend_schema(
        summary="List farmers",
        description="Phone numbers are masked in lists (`masked_phone`).",
    ),
    retrieve=extend_schema(
        summary="One farmer",
        description="Intake staff and managers get the full `phone`; other roles get "
        "`masked_phone` only.",
        responses=FARMER_VIEW,
    ),
    create=extend_schema(
        summary="Register a farmer at the intake desk",
        request=FarmerCreateSerializer,
        responses={201: FarmerDetailSerializer},
    ),
    destroy=extend_schema(
        responses={204: None, 409: CONFLICT_RESPONSE},
        description="A farmer who has delivered cannot be deleted: deactivate them instead.",
    ),
)
class FarmerViewSet(ProtectedDeleteMixin, viewsets.ModelViewSet):
    queryset = Farmer.objects.all()
    filterset_class = FarmerFilter
    ordering_fields = ["name", "village", "created_at"]
    read_roles = STOCK_READERS
    write_roles = MANAGERS
    action_roles = {"create": STOCK_WRITERS}

    def get_serializer_class(self):
        if self.action == "create":
            return FarmerCreateSerializer
        if self.action == "list":
            return FarmerSerializer
        return FarmerDetailSerializer  # changes: managers only

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        farmer = services.farmer_create(**serializer.validated_data, acting_user=request.user)
        body = FarmerDetailSerializer(farmer, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)


# --- master data -----------------------------------------------------------------------------


@master_data_schema("products")
class ProductViewSet(MasterDataViewSet):
    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    filterset_class = ProductFilter
    ordering_fields = ["name", "category", "shelf_life_days"]


@master_data_schema("grades")
class GradeViewSet(MasterDataViewSet):
    queryset = Grade.objects.all()
    serializer_class = GradeSerializer
    filterset_fields = ["name"]
    ordering_fields = ["rank", "name"]


@master_data_schema("locations")
class LocationViewSet(MasterDataViewSet):
    queryset = Location.objects.all()
    serializer_class = LocationSerializer
    filterset_class = LocationFilter
    ordering_fields = ["code", "name"]


@master_data_schema("SKUs")
class SkuViewSet(MasterDataViewSet):
    queryset = Sku.objects.select_related("product", "grade").prefetch_related(
        "components__component"
    )
    serializer_class = SkuSerializer
    filterset_class = SkuFilter
    ordering_fields = ["merchant_code", "name", "price"]


# --- lots ------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List lots", description="First expiry first, by default."),
    retrieve=extend_schema(summary="One lot, by its code"),
)
class LotViewSet(viewsets.ReadOnlyModelViewSet):
    """Lots are read here; their kilograms change only through the commands below, each of
    which calls one service and answers with the lot as it is afterwards."""

    serializer_class = LotSerializer
    lookup_field = "code"
    filterset_class = LotFilter
    ordering_fields = ["expiry_date", "received_at", "on_hand_kg"]
    read_roles = STOCK_READERS
    write_roles = STOCK_WRITERS
    action_roles = {
        "write_off": STOCK_WRITERS,
        "count": STOCK_WRITERS,
        "move": STOCK_WRITERS,
        "movements": STOCK_READERS,
        "expired": MANAGERS,
    }

    def get_queryset(self):
        return selectors.lot_list().select_related("delivery")

    def _lot_response(self, lot: Lot) -> Response:
        lot = self.get_queryset().get(pk=lot.pk)
        return Response(LotSerializer(lot, context=self.get_serializer_context()).data)

    def _command_input(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @extend_schema(
        summary="Expired stock to write off",
        description="Lots past their expiry date that still hold kilograms, first expired "
        "first. They are never allocated, picked or packed: write off `available_kg` with "
        "`POST /api/lots/{code}/write-off/`; `reserved_kg` is still held by orders, which a "
        "manager allocates again from fresh stock (`POST /api/orders/{id}/reallocate/`).",
        responses=LotSerializer(many=True),
    )
    @action(detail=False, methods=["get"], filter_backends=[])
    def expired(self, request):
        page = self.paginate_queryset(selectors.expired_lots().select_related("delivery"))
        serializer = LotSerializer(page, many=True, context=self.get_serializer_context())
        return self.get_paginated_response(serializer.data)

    @extend_schema(
        summary="Write off spoiled or damaged kilograms",
        request=LotWriteOffSerializer,
        responses=LotSerializer,
    )
    @action(detail=True, methods=["post"], url_path="write-off", filter_backends=[])
    def write_off(self, request, code=None):
        lot = self.get_object()
        data = self._command_input(LotWriteOffSerializer)
        lot = services.lot_write_off(
            lot=lot, kg=data["kg"], reason=data["reason"], acting_user=request.user
        )
        return self._lot_response(lot)

    @extend_schema(
        summary="Record a stock count",
        description="Sets the lot's on-hand to the counted kilograms; the difference goes "
        "to the ledger as a count adjustment.",
        request=LotCountSerializer,
        responses=LotSerializer,
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def count(self, request, code=None):
        lot = self.get_object()
        data = self._command_input(LotCountSerializer)
        lot = services.lot_adjust(
            lot=lot, counted_kg=data["counted_kg"], reason=data["reason"], acting_user=request.user
        )
        return self._lot_response(lot)

    @extend_schema(
        summary="Move the lot to another location",
        description="`location` is the location's id (as in `/api/locations/`), not its code.",
        request=LotMoveSerializer,
        responses=LotSerializer,
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def move(self, request, code=None):
        lot = self.get_object()
        data = self._command_input(LotMoveSerializer)
        lot = services.lot_move(
            lot=lot, location=data["location"], note=data["note"], acting_user=request.user
        )
        return self._lot_response(lot)

    @extend_schema(
        summary="The lot's stock ledger",
        responses=StockMovementSerializer(many=True),
    )
    @action(
        detail=True,
        methods=["get"],
        filter_backends=[],
        serializer_class=StockMovementSerializer,
    )
    def movements(self, request, code=None):
        lot = self.get_object()
        page = self.paginate_queryset(selectors.lot_history(lot=lot))
        serializer = StockMovementSerializer(page, many=True)
        return self.get_paginated_response(serializer.data)


# --- intake ----------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List deliveries, newest first, with their lots"),
    retrieve=extend_schema(summary="One delivery with its lots"),
    create=extend_schema(
        summary="Record a farmer's delivery",
        description="Creates one lot per row (usually one per grade), each with its intake "
        "ledger row. Nothing is saved if any row is invalid; row errors come back as "
        '`{"rows": [{}, {"gross_kg": ["…"]}]}`.',
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request=IntakeCreateSerializer,
        responses={201: DeliverySerializer},
    ),
)
class IntakeViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = DeliverySerializer
    filterset_class = DeliveryFilter
    ordering_fields = ["received_at", "code"]
    read_roles = STOCK_READERS
    write_roles = STOCK_WRITERS

    def get_queryset(self):
        return selectors.delivery_with_lots()

    def get_serializer_class(self):
        if self.action == "create":
            return IntakeCreateSerializer
        return DeliverySerializer

    @idempotent
    def create(self, request, *args, **kwargs):
        """A scale's client that lost the answer sends the delivery again with the same
        ``Idempotency-Key``: the first answer comes back and no second delivery is made."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        delivery = services.intake_record(
            farmer=data["farmer"],
            product=data["product"],
            harvest_date=data["harvest_date"],
            location=data["location"],
            note=data["note"],
            rows=[services.IntakeRow(**row) for row in data["rows"]],
            acting_user=request.user,
            confirm_old_harvest=data["confirm_old_harvest"],
        )
        delivery = self.get_queryset().get(pk=delivery.pk)
        body = DeliverySerializer(delivery, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)
