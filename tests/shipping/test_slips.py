"""Packing slips: the order number scans, every line names its lots and farmers, and no phone
number is printed, at label sizes and on A4."""

import re

import pytest
from django.conf import settings

from shipping.models import LabelSize
from shipping.slips import (
    SLIP_SIZES,
    order_slip_data,
    render_slips,
    slip_data,
    slips_data,
)
from tests.factories import FarmerFactory
from tests.pdf_tools import decode_barcodes, mm, page_sizes, page_texts, render_page
from tests.shipping.label_factories import (
    allocated_order,
    ambient_sku,
    live_session,
    parcel_for,
    stocked_sku,
)

pytestmark = pytest.mark.django_db

ORDER_NUMBER = "3701234567890123456"  # a 19-digit platform order number


def two_farmer_parcel(**kwargs):
    """A parcel whose peaches came from two farmers' lots (3 kg from the first, which was all
    it had left, the rest from the second), plus a bag of walnuts."""
    peaches = stocked_sku(
        lots=(
            ("3.000", FarmerFactory(name="朱大山")),
            ("100", FarmerFactory(name="王秀英")),
        )
    )
    return parcel_for((peaches, 2), (ambient_sku(), 1), **kwargs)


@pytest.mark.parametrize("size", [*LabelSize.values, "A4"])
def test_slip_barcode_decodes_to_the_order_number(size):
    parcel = two_farmer_parcel(number=ORDER_NUMBER)

    pdf = render_slips([slip_data(parcel)], size=size)

    ((width, height),) = page_sizes(pdf)
    assert (width, height) == pytest.approx(SLIP_SIZES[size], abs=0.5)
    dpi = 150 if size == "A4" else 203
    assert ("Code128", ORDER_NUMBER) in decode_barcodes(render_page(pdf, dpi=dpi))


def test_slip_lists_items_with_lots_farmers_session_channel_note_and_studio():
    parcel = two_farmer_parcel(
        number=ORDER_NUMBER, session=live_session(title="蜜桃专场"), buyer_note="请放门口"
    )
    lots = {item.lot.code: item.lot.farmer.name for item in parcel.items.all()}
    assert len(lots) == 3

    slip = slip_data(parcel)
    (text,) = page_texts(render_slips([slip]))

    for expected in (
        ORDER_NUMBER,
        "快手",
        "蜜桃专场",
        "请放门口",
        settings.STUDIO_NAME,
        "MT-5J",
        "蜜桃 5斤礼盒",
        "核桃 1kg 袋装",
        "× 2",
        "5 kg",
        "朱大山",
        "王秀英",
        "王*明",
        parcel.tracking_number,
        *lots,
    ):
        assert expected in text, expected
    peaches = slip.lines[0]
    assert [(lot.farmer_name, str(lot.kg)) for lot in peaches.lots] == [
        ("朱大山", "3.000"),
        ("王秀英", "2.000"),
    ]


def test_slip_prints_no_phone_number_at_all():
    parcel = two_farmer_parcel(number="1001", phone="13812341234")

    (text,) = page_texts(render_slips([slip_data(parcel)], size="A4"))

    digits = re.sub(r"\D", "", text)
    assert "13812341234" not in digits
    assert "1234" not in text  # not even the masked phone's last four digits
    assert re.sub(r"\D", "", settings.STUDIO_PHONE) not in digits


def test_an_order_not_yet_packed_gets_a_slip_from_its_allocation():
    sku = stocked_sku(lots=(("100", FarmerFactory(name="李建国")),))
    order = allocated_order((sku, 3), number="2001")

    slip = order_slip_data(order)
    (text,) = page_texts(render_slips([slip], size="A4"))

    assert slip.tracking_number == ""
    assert "李建国" in text and "× 3" in text and "7.5 kg" in text


def test_markup_in_a_buyer_note_prints_literally():
    note = "<img src='http://127.0.0.1:9/x.png'/>"
    parcel = two_farmer_parcel(buyer_note=note)

    (text,) = page_texts(render_slips([slip_data(parcel)], size="A4"))

    assert note in text


def test_a_long_order_continues_on_more_pages_each_with_the_barcode():
    skus = [stocked_sku(f"SKU-{index:02d}", name=f"山货 {index} 号礼盒") for index in range(12)]
    parcel = parcel_for(*[(sku, 1) for sku in skus], number="3001")

    pdf = render_slips([slip_data(parcel)], size=LabelSize.MM_76x130)

    texts = page_texts(pdf)
    assert len(texts) >= 2
    assert f"1/{len(texts)}" in texts[0]
    for index, sku in enumerate(skus):
        assert sum(sku.merchant_code in text for text in texts) == 1, index
    for page in range(1, len(texts) + 1):
        assert ("Code128", "3001") in decode_barcodes(render_page(pdf, page, dpi=203))


def test_slips_of_many_parcels_come_in_the_order_given_in_two_queries(
    django_assert_num_queries,
):
    parcels = [two_farmer_parcel(number=f"40{index}") for index in range(3)]
    wanted = [parcels[1], parcels[2], parcels[0]]

    with django_assert_num_queries(2):
        slips = slips_data(wanted)

    texts = page_texts(render_slips(slips, size="A4"))
    assert [slip.order_number for slip in slips] == ["401", "402", "400"]
    assert len(texts) == 3
    assert "401" in texts[0] and "400" in texts[2]


def test_a4_slip_is_an_a4_page():
    pdf = render_slips([slip_data(two_farmer_parcel())], size="A4")

    ((width, height),) = page_sizes(pdf)
    assert (round(width / mm), round(height / mm)) == (210, 297)
