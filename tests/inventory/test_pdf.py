from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from core.pdf import (
    CJK_FONT_CANDIDATES,
    cjk_font_name,
    fit_text,
    format_kg,
    format_money,
    text_width,
    wrap_text,
)
from inventory.models import Delivery, Lot, Storage
from inventory.pdf import (
    LOT_TAG_RELATED,
    intake_slip_data,
    lot_tag_data,
    render_intake_slip,
    render_lot_tags,
)
from inventory.services import IntakeRow, intake_record
from tests.factories import (
    FarmerFactory,
    GradeFactory,
    LocationFactory,
    ProductFactory,
    UserFactory,
    receive,
)
from tests.pdf_tools import (
    decode_barcodes,
    embedded_font_files,
    mm,
    page_sizes,
    page_texts,
    render_page,
)

pytestmark = pytest.mark.django_db

MARKUP_NAME = "<b>王</b><img src='http://127.0.0.1:9/x.png'/>"


def deliver(farmer=None, rows=None, user=None) -> Delivery:
    """A delivery of several lots, each (grade, gross kg, crates, tare per crate, price)."""
    rows = rows or [
        ("特级", "105.500", 3, "1.500", "6.00"),
        ("一级", "50.250", 0, "0", "8.80"),
        ("二级", "20.125", 1, "0.125", "12.35"),
    ]
    return intake_record(
        farmer=farmer or FarmerFactory(),
        product=ProductFactory(),
        rows=[
            IntakeRow(
                grade=GradeFactory(name=grade, rank=rank),
                gross_kg=Decimal(gross),
                crates=crates,
                tare_per_crate_kg=Decimal(tare),
                price_per_kg=Decimal(price),
            )
            for rank, (grade, gross, crates, tare, price) in enumerate(rows)
        ],
        harvest_date=timezone.localdate(),
        location=LocationFactory(),
        acting_user=user or UserFactory(username="intake-clerk", roles=["intake"]),
    )


def tags_pdf(*lots: Lot) -> bytes:
    return render_lot_tags([lot_tag_data(lot) for lot in lots])


def slip_pdf(delivery: Delivery) -> bytes:
    return render_intake_slip(intake_slip_data(delivery))


# --- lot tags --------------------------------------------------------------------------------


def test_lot_tags_have_one_60_by_40_mm_page_per_lot():
    lots = [receive(), receive(kg="20")]

    sizes = page_sizes(tags_pdf(*lots))

    assert len(sizes) == 2
    for width, height in sizes:
        assert width == pytest.approx(60 * mm, abs=0.5)
        assert height == pytest.approx(40 * mm, abs=0.5)


def test_lot_tag_shows_product_grade_lot_code_kg_farmer_and_dates():
    farmer = FarmerFactory(name="朱大山", village="朱家坪村")
    lot = receive(
        kg="180.5", farmer=farmer, harvest_date=date(2026, 1, 5), confirm_old_harvest=True
    )

    (text,) = page_texts(tags_pdf(lot))

    for expected in ("蜜桃", "特级", lot.code, "180.5 kg", "朱大山", "朱家坪村"):
        assert expected in text
    assert "2026-01-05" in text
    assert (date(2026, 1, 5) + timedelta(days=7)).isoformat() in text  # the product's shelf life


def test_lot_tag_qr_code_gives_back_exactly_the_lot_code():
    lots = [receive(), receive()]
    pdf = tags_pdf(*lots)

    for page, lot in enumerate(lots, start=1):
        # 300 dpi as a screen sees it; 203 dpi as the thermal printer prints it.
        for dpi in (300, 203):
            assert decode_barcodes(render_page(pdf, page, dpi=dpi)) == [("QRCode", lot.code)]


def test_lot_tag_embeds_its_cjk_font():
    fonts = [settings.SHANHUO_CJK_FONT, *CJK_FONT_CANDIDATES]
    if not any(path and Path(path).is_file() for path in fonts):
        pytest.skip("no TrueType CJK font installed (apt install fonts-wqy-microhei)")

    embedded = embedded_font_files(tags_pdf(receive()))

    assert "FontFile2" in embedded.values(), embedded
    assert cjk_font_name() != "STSong-Light"


def test_lot_tag_marks_cold_storage_only_for_cold_products():
    cold = receive(product=ProductFactory(name="蜜桃", storage=Storage.COLD))
    ambient = receive(product=ProductFactory(name="核桃", storage=Storage.AMBIENT))
    mark = str(Storage.COLD.label)

    cold_text, ambient_text = page_texts(tags_pdf(cold, ambient))

    assert mark in cold_text
    assert mark not in ambient_text


def test_lot_tag_data_carries_the_received_net_kg():
    delivery = deliver(rows=[("特级", "105.500", 3, "1.500", "6.00")])
    lot = delivery.lots.get()

    tag = lot_tag_data(lot)

    assert tag.kg == Decimal("101.000")
    assert tag.lot_code == lot.code
    assert (tag.product_name, tag.grade_name) == ("蜜桃", "特级")
    assert tag.expiry_date == lot.harvest_date + timedelta(days=7)
    assert tag.is_cold


def test_lot_tags_of_many_lots_cost_one_query(django_assert_num_queries):
    deliver()
    deliver()

    with django_assert_num_queries(1):
        tags = [lot_tag_data(lot) for lot in Lot.objects.select_related(*LOT_TAG_RELATED)]

    assert len(tags) == 6


def test_lot_tag_cuts_a_long_product_name_but_keeps_the_grade():
    product = ProductFactory(name="秦岭土蜂蜜百花蜜农家自产古法割蜜")
    lot = receive(product=product, grade=GradeFactory(name="一级精选", rank=1))

    (text,) = page_texts(tags_pdf(lot))

    assert "秦岭土蜂蜜" in text
    assert "…" in text
    assert "一级精选" in text
    assert product.name not in text


def test_render_lot_tags_refuses_an_empty_list():
    with pytest.raises(ValueError):
        render_lot_tags([])


# --- intake slip -----------------------------------------------------------------------------


def test_intake_slip_holds_farmer_lots_and_total_but_not_the_full_phone():
    farmer = FarmerFactory(name="王秀英", phone="13912345678")
    rows = [
        ("特级", "105.500", 3, "1.500", "6.00"),
        ("一级", "50.250", 0, "0", "8.80"),
        ("二级", "20.125", 1, "0.125", "12.35"),
    ]
    delivery = deliver(farmer=farmer, rows=rows)
    expected_total = sum(
        (
            ((Decimal(gross) - crates * Decimal(tare)) * Decimal(price)).quantize(Decimal("0.01"))
            for _grade, gross, crates, tare, price in rows
        ),
        Decimal(0),
    )

    pdf = slip_pdf(delivery)
    (text,) = page_texts(pdf)

    assert expected_total == Decimal("1295.20")
    assert "¥1,295.20" in text
    assert "王秀英" in text
    assert "蜜桃" in text
    for lot in delivery.lots.all():
        assert lot.code in text
    assert delivery.code in text
    assert "139****5678" in text
    assert "13912345678" not in text
    assert "intake-clerk" in text


def test_intake_slip_is_80_mm_wide():
    ((width, _height),) = page_sizes(slip_pdf(deliver()))

    assert width == pytest.approx(80 * mm, abs=0.5)


def test_intake_slip_of_twelve_lots_grows_to_fit_them_all():
    rows = [(f"{n}号", "10.000", 0, "0", "5.00") for n in range(12)]
    small, large = deliver(rows=rows[:1]), deliver(rows=rows)

    ((_width, small_height),) = page_sizes(slip_pdf(small))
    pdf = slip_pdf(large)
    ((_width, large_height),) = page_sizes(pdf)
    (text,) = page_texts(pdf)

    assert large_height > small_height + 11 * 50  # every lot block is more than 50 pt
    codes = list(large.lots.values_list("code", flat=True))
    assert len(codes) == 12
    for code in codes:
        assert code in text
    assert "¥600.00" in text


def test_intake_slip_shows_the_time_in_the_studio_time_zone():
    delivery = deliver()
    # 16:30 UTC on New Year's Eve is half past midnight on 2 January in Shanghai.
    Delivery.objects.filter(pk=delivery.pk).update(
        received_at=datetime(2026, 1, 1, 16, 30, tzinfo=UTC)
    )
    delivery.refresh_from_db()

    (text,) = page_texts(slip_pdf(delivery))

    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert "2026-01-02 00:30" in text


def test_intake_slip_data_adds_up_line_by_line():
    delivery = deliver()

    data = intake_slip_data(delivery)

    assert [line.net_kg for line in data.lines] == [
        Decimal("101.000"),
        Decimal("50.250"),
        Decimal("20.000"),
    ]
    assert [line.amount for line in data.lines] == [
        Decimal("606.00"),
        Decimal("442.20"),
        Decimal("247.00"),
    ]
    assert data.total_kg == Decimal("171.250")
    assert data.total_amount == Decimal("1295.20")
    assert data.studio_name == settings.STUDIO_NAME


def test_intake_slip_data_reads_the_lots_in_one_query(django_assert_num_queries):
    delivery = deliver()
    delivery = Delivery.objects.select_related("farmer", "received_by").get(pk=delivery.pk)

    with django_assert_num_queries(1):
        data = intake_slip_data(delivery)

    assert len(data.lines) == 3


# --- user text is printed, never interpreted -------------------------------------------------


def test_markup_in_a_farmers_name_prints_literally():
    farmer = FarmerFactory(name=MARKUP_NAME)
    delivery = deliver(farmer=farmer)

    (slip_text,) = page_texts(slip_pdf(delivery))
    tag_texts = page_texts(tags_pdf(*delivery.lots.all()))

    assert "<b>王</b><img" in slip_text
    assert "src='http://127.0.0.1:9/x.png'/>" in slip_text
    for text in tag_texts:
        assert "<b>王</b><img" in text


# --- shared helpers of core.pdf ------------------------------------------------------------


def test_fit_text_cuts_visibly_and_never_overflows():
    font = cjk_font_name()
    text = "留坝县火烧店镇朱家坪村二组"

    fitted = fit_text(text, font, 8, 30 * mm)

    assert fitted.endswith("…")
    assert text.startswith(fitted[:-1])
    assert text_width(fitted, font, 8) <= 30 * mm
    assert fit_text("朱家坪村", font, 8, 30 * mm) == "朱家坪村"


def test_fit_text_keeps_user_text_on_one_line():
    assert fit_text("朱\n大山\t", cjk_font_name(), 8, 100 * mm) == "朱 大山"


def test_wrap_text_breaks_chinese_between_characters_and_ends_with_an_ellipsis():
    font = cjk_font_name()
    text = "秦岭深处的土蜂蜜百花蜜农家自产古法割蜜" * 3

    lines = wrap_text(text, font, 10, 30 * mm, 2)

    assert len(lines) == 2
    assert all(text_width(line, font, 10) <= 30 * mm for line in lines)
    assert text.startswith(lines[0] + lines[1][:-1])
    assert lines[-1].endswith("…")
    assert wrap_text("蜂蜜", font, 10, 30 * mm, 2) == ["蜂蜜"]


def test_wrap_text_moves_a_latin_word_whole_to_the_next_line():
    font = cjk_font_name()

    lines = wrap_text("Received by intake-clerk", font, 10, 30 * mm, 3)

    assert lines == ["Received by", "intake-clerk"]


def test_money_and_kg_are_formatted_exactly():
    assert format_money(Decimal("1234.5")) == "¥1,234.50"
    assert format_money(Decimal("0")) == "¥0.00"
    assert format_kg(Decimal("1234.500")) == "1,234.5"
    assert format_kg(Decimal("100.000")) == "100"
    assert format_kg(Decimal("0.125")) == "0.125"
