"""The studio the morning starts from, made through the ORM and the intake service in a process
where Django is set up against the same database as the server: the people (a manager, the
packers, the creators), the SKUs of the export, the live session, and stock for about 90 % of
what the good orders need, delivered by three farmers as lots of different harvest days (so
first-expiry-first-out has a choice to make)."""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from bench.import_orders import SESSION, SKUS, STARTS
from bench.peakday.export import PeakExport

KG = Decimal("0.001")
# Three farmers bring each product and grade: the oldest harvest first, so FEFO spreads the
# orders over lots.
DELIVERIES = [
    ("朱大山", "朱家坪村", 2, Decimal("0.5")),
    ("王秀英", "火烧店村", 1, Decimal("0.3")),
    ("李建国", "闸口石村", 0, Decimal("0.2")),
]
PACKAGING_KG = Decimal("0.300")


@dataclass
class Studio:
    password: str
    manager: str
    packers: list[str]
    creators: list[str]
    live_session_id: int
    # merchant code -> kg a unit adds to the parcel (net + packaging)
    unit_weight: dict[str, Decimal] = field(default_factory=dict)
    stock_kg: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    lots: int = 0


def create_studio(
    export: PeakExport,
    *,
    packers: int,
    creators: int,
    password: str,
    stock_share: Decimal = Decimal("0.9"),
) -> Studio:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from inventory.models import Grade, Location, Product, Sku, Storage
    from inventory.services import IntakeRow, farmer_create, intake_record
    from orders.models import Channel, LiveSession

    User = get_user_model()
    hashed = make_password(password)  # once: hashing costs a good part of a second

    def people(prefix: str, role: str, count: int) -> list[str]:
        # "peak-manager", or numbered: "peak-packer-01", "peak-packer-02", …
        names = (
            [prefix]
            if not prefix.endswith("-")
            else [f"{prefix}{n:02d}" for n in range(1, count + 1)]
        )
        User.objects.bulk_create([User(username=name, password=hashed) for name in names])
        group = Group.objects.get(name=role)
        group.user_set.add(*User.objects.filter(username__in=names))
        return names

    studio = Studio(
        password=password,
        manager=people("peak-manager", "manager", 1)[0],
        packers=people("peak-packer-", "packer", packers),
        creators=people("peak-creator-", "creator", creators),
        live_session_id=0,
    )
    manager = User.objects.get(username=studio.manager)

    location = Location.objects.create(code="PEAK-A", name="冷库 A", storage=Storage.COLD)
    for code, name, product, grade, kg, price, _weight in SKUS:
        Sku.objects.create(
            merchant_code=code,
            name=name,
            product=Product.objects.get_or_create(
                name=product, defaults={"shelf_life_days": 30, "storage": Storage.COLD}
            )[0],
            grade=Grade.objects.get_or_create(name=grade)[0],
            net_kg=Decimal(kg),
            price=Decimal(price),
            packaging_kg=PACKAGING_KG,
            weight_tolerance_kg=Decimal("0.200"),
        )
        studio.unit_weight[code] = Decimal(kg) + PACKAGING_KG

    kuaishou = Channel.objects.get(code="kuaishou")
    zone = timezone.get_current_timezone()
    session = LiveSession.objects.create(
        channel=kuaishou,
        title=SESSION,
        host="阿秀",
        starts_at=STARTS.replace(tzinfo=zone),
        ends_at=(STARTS + timedelta(hours=6)).replace(tzinfo=zone),
    )
    studio.live_session_id = session.pk

    today = timezone.localdate()
    farmers = [
        (farmer_create(name=name, village=village, acting_user=manager), days, share)
        for name, village, days, share in DELIVERIES
    ]
    for product in Product.objects.filter(skus__merchant_code__in=studio.unit_weight).distinct():
        grades = Grade.objects.filter(skus__product=product).distinct().order_by("pk")
        wanted = {
            grade: (export.demand_kg.get((product.name, grade.name), 0) * stock_share).quantize(KG)
            for grade in grades
        }
        for farmer, days_ago, share in farmers:
            rows = [
                IntakeRow(
                    grade=grade,
                    gross_kg=(kg * share).quantize(KG),
                    price_per_kg=Decimal("6.00"),
                )
                for grade, kg in wanted.items()
                if (kg * share).quantize(KG) > 0
            ]
            if rows:
                intake_record(
                    farmer=farmer,
                    product=product,
                    rows=rows,
                    harvest_date=today - timedelta(days=days_ago),
                    location=location,
                    acting_user=manager,
                )
                studio.lots += len(rows)
        for grade, kg in wanted.items():
            studio.stock_kg[(product.name, grade.name)] = sum(
                ((kg * share).quantize(KG) for _f, _d, share in farmers), Decimal(0)
            )
    return studio
