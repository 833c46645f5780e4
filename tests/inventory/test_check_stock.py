import re
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from inventory.models import Lot
from tests.factories import GradeFactory, receive

pytestmark = pytest.mark.django_db


def test_check_stock_passes_when_every_lot_matches_its_ledger():
    # given two lots received through intake
    receive(kg="100")
    receive(kg="80", grade=GradeFactory(name="一级", rank=1))
    out = StringIO()

    # when the check runs
    call_command("check_stock", stdout=out)

    # then it says so
    assert "Stock matches the ledger for all 2 lots." in out.getvalue()


def test_check_stock_fails_and_names_a_lot_whose_cache_was_tampered_with():
    # given one clean lot and one whose cached on-hand was changed behind the ledger's back
    clean = receive(kg="100")
    tampered = receive(kg="80", grade=GradeFactory(name="一级", rank=1))
    Lot.objects.filter(pk=tampered.pk).update(on_hand_kg=Decimal("79.500"))
    out = StringIO()

    # when the check runs, it fails
    with pytest.raises(CommandError, match="1 lot"):
        call_command("check_stock", stdout=out)

    # and its output names the tampered lot with both figures, and only that lot
    output = out.getvalue()
    assert tampered.code in output
    assert "cached on-hand 79.500 kg" in output
    assert re.search(r"ledger 80(\.0+)? kg", output)
    assert clean.code not in output
