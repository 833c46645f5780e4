"""Every SKU has a barcode value: its GTIN (EAN-13, check digit validated, unique) or its
merchant code. Stickers print from the SKU page (40×30 mm thermal, or an A4 sheet) and scan
back to that value; ``sku_for_code`` finds a SKU by what a scanner reads."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from core.barcodes import gtin_check_digit, is_ean13
from inventory.selectors import sku_for_code
from inventory.stickers import render_sku_stickers, sku_sticker_data
from tests.factories import SkuFactory
from tests.pdf_tools import decode_barcodes, mm, page_sizes, page_texts, render_page

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


GTIN = "6901234567892"  # 690123456789 + check digit 2


def test_the_check_digit_is_the_gs1_one():
    assert gtin_check_digit("690123456789") == 2
    assert gtin_check_digit("400638133393") == 1  # a published EAN-13: 4006381333931
    assert is_ean13("4006381333931")
    assert not is_ean13("4006381333932")
    assert not is_ean13("400638133393")


def test_the_barcode_value_is_the_gtin_or_else_the_merchant_code():
    sku = SkuFactory(merchant_code="MT-5J")
    assert sku.barcode_value == "MT-5J"
    sku.gtin = GTIN
    assert sku.barcode_value == GTIN


@pytest.mark.parametrize(
    ("gtin", "says"),
    [("6901234567893", "check digit"), ("690123456789", "13 digits"), ("69012345678AB", "13")],
)
def test_a_wrong_gtin_is_refused_by_name(gtin, says):
    sku = SkuFactory.build(product=SkuFactory().product, grade=SkuFactory().grade, gtin=gtin)
    with pytest.raises(ValidationError) as error:
        sku.full_clean()
    assert says in " ".join(error.value.message_dict["gtin"])


def test_a_gtin_belongs_to_one_sku_and_is_no_other_skus_merchant_code():
    SkuFactory(merchant_code="A", gtin=GTIN)
    SkuFactory(merchant_code="4006381333931")
    second = SkuFactory(merchant_code="B")
    second.gtin = GTIN
    with pytest.raises(ValidationError) as error:
        second.full_clean()
    assert "gtin" in error.value.message_dict
    second.gtin = "4006381333931"
    with pytest.raises(ValidationError) as error:
        second.full_clean()
    assert "merchant code" in " ".join(error.value.message_dict["gtin"])
    # many SKUs without a GTIN are fine
    SkuFactory(merchant_code="C").full_clean()
    SkuFactory(merchant_code="D").full_clean()


def test_sku_for_code_finds_by_gtin_or_merchant_code_in_any_case():
    peach = SkuFactory(merchant_code="MT-5J-LH", gtin=GTIN)
    kiwi = SkuFactory(merchant_code="mht-3j")

    assert sku_for_code(GTIN) == peach
    assert sku_for_code("MT-5J-LH") == peach
    assert sku_for_code(" mt-5j-lh ") == peach
    assert sku_for_code("MHT-3J") == kiwi
    assert sku_for_code("L2611-0033") is None
    assert sku_for_code("") is None


def test_an_exact_merchant_code_wins_and_a_code_two_skus_share_by_case_names_none():
    upper = SkuFactory(merchant_code="AB-1")
    SkuFactory(merchant_code="ab-1")

    assert sku_for_code("AB-1") == upper
    assert sku_for_code("Ab-1") is None


def test_the_api_gives_the_barcode_value_and_refuses_a_bad_gtin(client_for):
    sku = SkuFactory(merchant_code="MT-5J")
    client = client_for("manager")
    url = f"/api/skus/{sku.pk}/"

    bad = client.patch(url, {"gtin": "6901234567893"}, content_type="application/json")
    good = client.patch(url, {"gtin": GTIN}, content_type="application/json")
    found = client.get("/api/skus/", {"code": "mt-5j"}).json()["results"]
    by_gtin = client.get("/api/skus/", {"code": GTIN}).json()["results"]

    assert bad.status_code == 400 and "gtin" in bad.json()
    assert good.status_code == 200
    assert good.json()["barcode_value"] == GTIN
    assert [row["id"] for row in found] == [row["id"] for row in by_gtin] == [sku.pk]


@pytest.mark.parametrize(
    ("gtin", "kind", "value"), [(GTIN, "EAN13", GTIN), ("", "Code128", "MT-5J-LH")]
)
def test_a_thermal_sticker_is_40_by_30_mm_and_scans_at_203_dpi(gtin, kind, value):
    sku = SkuFactory(merchant_code="MT-5J-LH", name="蜜桃 5斤礼盒", gtin=gtin)

    pdf = render_sku_stickers(sku_sticker_data(sku), copies=3, layout="thermal")

    assert [(round(w / mm), round(h / mm)) for w, h in page_sizes(pdf)] == [(40, 30)] * 3
    assert "蜜桃 5斤礼盒" in page_texts(pdf)[0]
    assert decode_barcodes(render_page(pdf, 3, dpi=203)) == [(kind, value)]


def test_an_a4_sheet_holds_45_stickers_that_all_scan():
    sku = SkuFactory(merchant_code="25JD-30M-YJ", name="高山土鸡蛋 30枚")

    pdf = render_sku_stickers(sku_sticker_data(sku), copies=50, layout="a4")

    assert [(round(w / mm), round(h / mm)) for w, h in page_sizes(pdf)] == [(210, 297)] * 2
    assert decode_barcodes(render_page(pdf, 1, dpi=300)) == [("Code128", "25JD-30M-YJ")] * 45
    assert len(decode_barcodes(render_page(pdf, 2, dpi=300))) == 5


def test_the_sku_page_prints_stickers_for_those_who_may(client_for):
    sku = SkuFactory(merchant_code="MT-5J", gtin=GTIN)
    page = reverse("inventory:sku", args=[sku.pk])
    stickers = reverse("inventory:sku_stickers", args=[sku.pk])

    packer = client_for("packer")
    html = packer.get(page).content.decode()
    pdf = packer.get(stickers, {"layout": "a4", "copies": "2"})
    bad = packer.get(stickers, {"layout": "a4", "copies": "0"})

    assert GTIN in html and "EAN-13" in html and 'id="sticker-form"' in html
    assert "39.90" not in html  # no sales money on the SKU page
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert bad.status_code == 400
    creator = client_for("creator")
    assert 'id="sticker-form"' not in creator.get(page).content.decode()
    assert creator.get(stickers, {"layout": "a4", "copies": "2"}).status_code == 403


def test_the_sku_list_finds_by_gtin_and_code(client_for):
    SkuFactory(merchant_code="MT-5J", gtin=GTIN, name="蜜桃 5斤礼盒")
    SkuFactory(merchant_code="MHT-3J", name="猕猴桃 3斤装")
    client = client_for("intake")

    by_gtin = client.get(reverse("inventory:sku_list"), {"q": "690123"}).content.decode()
    by_code = client.get(reverse("inventory:sku_list"), {"q": "mht"}).content.decode()

    assert "MT-5J" in by_gtin and "MHT-3J" not in by_gtin
    assert "MHT-3J" in by_code and "MT-5J" not in by_code
