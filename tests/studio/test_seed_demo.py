from decimal import Decimal

from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.db.models import Count
from django.test import RequestFactory

from core.roles import user_roles
from inventory.models import Delivery, Farmer, Lot, Product, Sku, StockMovement
from inventory.selectors import stock_mismatches
from orders.platforms.models import PlatformAccount, SyncState
from orders.platforms.sync import accounts_due


def _counts():
    return {
        model.__name__: model.objects.count()
        for model in (get_user_model(), Farmer, Product, Sku, Delivery, Lot, StockMovement)
    }


def test_seed_demo_builds_a_studio_once(db):
    # given an empty database
    # when the demo is loaded twice
    call_command("seed_demo", verbosity=0)
    first = _counts()
    call_command("seed_demo", verbosity=0)

    # then the second run created nothing
    assert _counts() == first
    assert first["Farmer"] == 20
    assert first["Lot"] >= 35
    assert Delivery.objects.filter(lots__isnull=False).distinct().count() >= 20


def test_seed_demo_users_log_in_with_their_roles(db):
    # given the demo is loaded
    call_command("seed_demo", verbosity=0)

    # then each demo user logs in with the demo password and holds its role
    for username in ("intake", "packer", "creator", "manager"):
        user = authenticate(
            RequestFactory().post("/accounts/login/"), username=username, password="shanhuo123"
        )
        assert user is not None, username
        assert user_roles(user) == {username}
        assert not user.is_superuser
    assert get_user_model().objects.get(username="manager").is_staff
    assert not get_user_model().objects.get(username="packer").is_staff


def test_seed_demo_repairs_a_changed_demo_password(db):
    # given the demo is loaded and someone changed the packer's password
    call_command("seed_demo", verbosity=0)
    packer = get_user_model().objects.get(username="packer")
    packer.set_password("something-else-entirely")
    packer.save()

    # when the demo is loaded again
    call_command("seed_demo", verbosity=0)

    # then the demo password works again
    assert (
        authenticate(
            RequestFactory().post("/accounts/login/"), username="packer", password="shanhuo123"
        )
        is not None
    )


def test_seed_demo_stock_matches_its_ledger_and_looks_real(db):
    # given the demo is loaded
    call_command("seed_demo", verbosity=0)

    # then cache = ledger, some peaches are about to expire, and the warehouse has a history
    assert stock_mismatches() == []
    assert Lot.objects.expiring_within(2).filter(product__name="蜜桃").exists()
    kinds = set(StockMovement.objects.values_list("kind", flat=True))
    assert kinds == {"intake", "write_off", "adjustment", "move", "ship_out", "return"}
    farmers = Farmer.objects.all()
    assert len({farmer.phone for farmer in farmers}) == 20
    assert all(farmer.adcode == "371321" and farmer.county == "沂南县" for farmer in farmers)
    assert 5 <= farmers.filter(trace_consent=True).count() <= 15
    gift_box = Sku.objects.get(merchant_code="MT-5J-TJ")
    assert (gift_box.net_kg, gift_box.price) == (Decimal("2.500"), Decimal("49.90"))
    split = Delivery.objects.annotate(grades=Count("lots")).filter(grades__gte=2)
    assert split.exists()


def test_seed_demo_shows_platform_sync_states_and_calls_nobody(db, client_for):
    call_command("seed_demo", verbosity=0)

    assert SyncState.objects.count() == 6
    assert not PlatformAccount.objects.filter(is_enabled=True).exists()
    assert accounts_due() == []  # no credentials: the worker queues no sync
    page = client_for("manager").get("/platforms/").content.decode()
    assert "回传 164 单" in page
