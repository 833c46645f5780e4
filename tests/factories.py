"""factory_boy factories. Lots are never built directly: ``receive`` goes through the intake
service, so every lot in a test has its ledger like a real one."""

from datetime import date
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from inventory.models import Farmer, Grade, Location, Lot, Product, Sku, Storage
from inventory.services import IntakeRow, intake_record

PASSWORD = "shanhuo-test-pw"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if extracted:
            self.groups.add(*Group.objects.filter(name__in=extracted))
        self.save()


class FarmerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Farmer

    name = factory.Iterator(["朱大山", "王秀英", "李建国", "张桂兰", "刘德明", "陈玉梅"])
    village = "朱家坪村"
    county = "留坝县"
    phone = factory.Sequence(lambda n: f"138{n:08d}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ["name"]

    name = "蜜桃"
    category = "水果"
    shelf_life_days = 7
    storage = Storage.COLD


class GradeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Grade
        django_get_or_create = ["name"]

    name = "特级"
    rank = 0


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location
        django_get_or_create = ["code"]

    code = "A"
    name = "冷库 A"
    storage = Storage.COLD


class SkuFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sku
        django_get_or_create = ["merchant_code"]

    merchant_code = factory.Sequence(lambda n: f"SKU{n:04d}")
    name = "蜜桃 5斤礼盒"
    product = factory.SubFactory(ProductFactory)
    grade = factory.SubFactory(GradeFactory)
    net_kg = Decimal("2.500")
    price = Decimal("39.90")
    packaging_kg = Decimal("0.300")


def receive(
    *,
    kg: str | Decimal = "100",
    price: str | Decimal = "6.00",
    product: Product | None = None,
    grade: Grade | None = None,
    farmer: Farmer | None = None,
    harvest_date: date | None = None,
    location: Location | None = None,
    user=None,
    confirm_old_harvest: bool = False,
) -> Lot:
    """One lot received through the intake service (ledger row included). A harvest older
    than the product's shelf life needs ``confirm_old_harvest`` (a manager receives it)."""
    if confirm_old_harvest and user is None:
        user = UserFactory(username="intake-manager", roles=["manager"])
    delivery = intake_record(
        farmer=farmer or FarmerFactory(),
        product=product or ProductFactory(),
        rows=[
            IntakeRow(
                grade=grade or GradeFactory(), gross_kg=Decimal(kg), price_per_kg=Decimal(price)
            )
        ],
        harvest_date=harvest_date or timezone.localdate(),
        location=location or LocationFactory(),
        acting_user=user or UserFactory(username="intake-clerk", roles=["intake"]),
        confirm_old_harvest=confirm_old_harvest,
    )
    return delivery.lots.get()
