"""Shipping labels: what they say (masked), that their codes scan at the printer's resolution,
that user text stays text and inside the page, and that many labels cost few queries."""

import re
import subprocess
import tempfile
from decimal import Decimal
from html import unescape
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shipping.labels import (
    COLD_MARKS,
    label_data,
    labels_data,
    mask_address,
    mask_name,
    render_labels,
)
from shipping.labels.render import DOT, PAGE_SIZES, SPECS, code128_pattern
from shipping.models import LabelSize, Parcel, WaybillNumber, WaybillPool
from tests.factories import UserFactory
from tests.pdf_tools import decode_barcodes, mm, page_sizes, page_texts, render_page
from tests.shipping.label_factories import (
    allocated_order,
    ambient_sku,
    carrier,
    cold_sku,
    packed_parcel,
    parcel_for,
    stocked_sku,
)

pytestmark = pytest.mark.django_db

MARKUP_NAME = "<img src='http://127.0.0.1:9/x.png'/>"
LONG_ADDRESS = ("幸福路" + "1234567890" + "号院" * 5 + "东门进去左手边第三栋楼" * 4) * 5


def label_pdf(parcel: Parcel, **kwargs) -> bytes:
    return render_labels([label_data(parcel)], **kwargs)


def in_mm(sizes: list[tuple[float, float]]) -> list[tuple[int, int]]:
    return [(round(width / mm), round(height / mm)) for width, height in sizes]


def word_boxes(pdf: bytes) -> tuple[tuple[float, float], list[tuple[str, float, float, float]]]:
    """The page size and every word poppler finds: (text, x min, x max, y max), in points
    from the page's upper left corner."""
    with tempfile.TemporaryDirectory() as directory:
        source = Path(directory) / "label.pdf"
        source.write_bytes(pdf)
        html = subprocess.run(
            ["pdftotext", "-bbox", str(source), "-"],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
    page = re.search(r'<page width="([\d.]+)" height="([\d.]+)"', html)
    assert page, html[:500]
    words = [
        (unescape(text), float(x_min), float(x_max), float(y_max))
        for x_min, _y_min, x_max, y_max, text in re.findall(
            r'<word xMin="([\d.-]+)" yMin="([\d.-]+)" xMax="([\d.-]+)" yMax="([\d.-]+)">'
            r"([^<]*)</word>",
            html,
        )
    ]
    return (float(page.group(1)), float(page.group(2))), words


# --- masking ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "masked"),
    [("王小明", "王*明"), ("王明", "王*"), ("欧阳娜娜", "欧**娜"), ("王", "王"), ("", "")],
)
def test_mask_name_keeps_the_first_and_last_character(name, masked):
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("detail", "masked"),
    [
        ("小寨东路 12 号 3 单元 301 室", "小寨东路 ** 号 * 单元 *** 室"),
        ("幸福小区１２栋", "幸福小区**栋"),  # full-width digits too
        ("解放路十八号三单元", "解放路**号*单元"),
        ("十里铺村村委会旁", "十里铺村村委会旁"),  # a place name keeps its numeral
    ],
)
def test_mask_address_hides_house_building_and_room_numbers(detail, masked):
    assert mask_address(detail) == masked


def test_a_waybill_from_the_studios_own_pool_prints_the_full_recipient():
    """The carrier holds no electronic copy of the address: the courier reads the label."""
    parcel = parcel_for((cold_sku(), 2))

    label = label_data(parcel)

    assert not label.masked
    assert label.recipient_name == "王小明"
    assert label.recipient_phone == "13812341234"
    assert label.recipient_region == "陕西省 西安市 雁塔区"
    assert label.recipient_detail == "小寨东路 12 号 3 单元 301 室"


def test_a_carrier_with_a_privacy_service_masks_the_label_and_prints_the_virtual_number():
    carrier("sf", privacy_service=True)
    parcel = parcel_for((cold_sku(), 2))
    plain = label_data(parcel)
    parcel.virtual_number = "17012345678-1234"
    parcel.save(update_fields=["virtual_number"])

    label = label_data(parcel)

    assert plain.masked and plain.recipient_phone == "138****1234"
    assert label.masked
    assert label.recipient_name == "王*明"
    assert label.recipient_phone == "17012345678-1234"
    assert label.recipient_region == "陕西省 西安市 雁塔区"
    assert label.recipient_detail == "小寨东路 ** 号 * 单元 *** 室"


@pytest.mark.parametrize(
    ("carrier_privacy", "pool_privacy", "masked"),
    [(False, True, True), (True, False, False), (True, None, True), (False, None, False)],
)
def test_the_pool_a_waybill_came_from_overrides_its_carrier(carrier_privacy, pool_privacy, masked):
    sf = carrier("sf", privacy_service=carrier_privacy)
    pool = WaybillPool.objects.create(
        carrier=sf, imported_by=UserFactory(), privacy_service=pool_privacy
    )
    WaybillNumber.objects.create(pool=pool, carrier=sf, number="SF500600700800")
    parcel = parcel_for((cold_sku(), 1), tracking_number="SF500600700800")
    parcel = Parcel.objects.select_related("order", "carrier").get(pk=parcel.pk)

    (batch,) = labels_data(Parcel.objects.filter(pk=parcel.pk))

    assert label_data(parcel).masked is masked
    assert batch.masked is masked
    assert (batch.recipient_name == "王*明") is masked


def test_a_phone_the_platform_masked_is_printed_as_the_platform_gave_it():
    parcel = parcel_for((cold_sku(), 1), phone="138****5678-1234", phone_masked_by_platform=True)

    assert label_data(parcel).recipient_phone == "138****5678-1234"
    assert label_data(parcel, mask=True).recipient_phone == "138****5678-1234"


# --- what the label says ---------------------------------------------------------------------


def test_label_text_holds_the_full_recipient_a_courier_needs_and_the_chinese_product_name():
    parcel = parcel_for((cold_sku(), 2), tracking_number="SF100200300400")

    (text,) = page_texts(label_pdf(parcel))

    assert "王小明" in text
    assert "13812341234" in text
    assert "小寨东路 12 号 3 单元" in text and "301 室" in text
    assert "蜜桃 5斤礼盒" in text
    assert "SF100200300400" in text
    assert "陕西省 西安市 雁塔区" in text


def test_label_text_under_a_privacy_service_holds_only_the_masked_recipient():
    carrier("sf", privacy_service=True)
    parcel = parcel_for((cold_sku(), 1))
    parcel.virtual_number = "17012345678-1234"
    parcel.save(update_fields=["virtual_number"])

    (text,) = page_texts(label_pdf(parcel))

    assert "王*明" in text
    assert "17012345678-1234" in text
    assert "13812341234" not in text and "138****1234" not in text
    assert "王小明" not in text
    assert "301" not in text


def test_label_shows_carrier_sorting_code_parcel_number_weight_and_contents():
    sku = cold_sku()
    nuts = ambient_sku()
    parcel = parcel_for(
        (sku, 2),
        (nuts, 3),
        sorting_code="710-A12 01",
        weight_kg="8.350",
        sequence=2,
        parcel_count=3,
    )

    label = label_data(parcel)
    (text,) = page_texts(render_labels([label]))

    assert label.carrier_name == "顺丰"
    assert [(item.name, item.quantity, item.kg) for item in label.items] == [
        ("蜜桃 5斤礼盒", 2, Decimal("5.000")),
        ("核桃 1kg 袋装", 3, Decimal("3.000")),
    ]
    assert label.net_kg == Decimal("8.000")
    for expected in ("顺丰", "710-A12 01", "2/3", "8.35 kg", "× 2", "× 3", "核桃 1kg 袋装"):
        assert expected in text


def test_one_order_line_taken_from_two_lots_is_one_row_with_its_whole_quantity():
    sku = stocked_sku(lots=(("3.000", None), ("100", None)))  # 3 kg: one unit and a bit
    parcel = parcel_for((sku, 2))
    assert parcel.items.count() == 2

    (item,) = label_data(parcel).items

    assert (item.quantity, item.kg) == (2, Decimal("5.000"))


def test_sender_is_the_carriers_sender_when_set_otherwise_the_studio(settings):
    settings.STUDIO_NAME = "朱家坪村山货直播间"
    settings.STUDIO_PHONE = "0916-5551234"
    own = parcel_for((cold_sku(), 1), carrier_code="zto")
    carrier("sf", sender_name="山货仓库", sender_phone="029-88886666", sender_address="西安仓")
    by_carrier = parcel_for((cold_sku(), 1), carrier_code="sf")

    studio_label, carrier_label = labels_data([own, by_carrier])

    assert (studio_label.sender_name, studio_label.sender_phone) == (
        "朱家坪村山货直播间",
        "0916-5551234",
    )
    assert (carrier_label.sender_name, carrier_label.sender_address) == ("山货仓库", "西安仓")


def test_cold_products_get_the_perishable_marks_and_others_do_not():
    cold = parcel_for((cold_sku(), 1))
    ambient = parcel_for((ambient_sku(), 1))

    cold_text, ambient_text = page_texts(render_labels(labels_data([cold, ambient])))

    for mark in COLD_MARKS:
        assert mark in cold_text
        assert mark not in ambient_text
    assert COLD_MARKS == ("生鲜易腐", "请冷藏")


def test_the_trace_url_uses_the_public_address_setting(settings):
    settings.SHANHUO_PUBLIC_URL = "https://shanhuo.example.cn/"
    parcel = parcel_for((cold_sku(), 1))

    assert label_data(parcel).trace_url == f"https://shanhuo.example.cn/t/{parcel.trace_token}"


# --- codes -----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [size.value for size in LabelSize])
def test_label_barcode_and_qr_decode_at_the_printers_resolution(size, settings):
    settings.SHANHUO_PUBLIC_URL = "https://shanhuo.example.cn"
    parcel = parcel_for((cold_sku(), 2), sorting_code="710-A12 01", label_size=size)

    pdf = label_pdf(parcel)

    ((width, height),) = page_sizes(pdf)
    assert (width, height) == pytest.approx(PAGE_SIZES[size], abs=0.5)
    codes = decode_barcodes(render_page(pdf, dpi=203))
    assert sorted(codes) == [
        ("Code128", parcel.tracking_number),
        ("QRCode", f"https://shanhuo.example.cn/t/{parcel.trace_token}"),
    ]


@pytest.mark.parametrize("number", ["SF123456789012", "773012345678901", "JDVA01234567890"])
def test_code128_bars_are_whole_printer_dots_wide(number):
    """Each module is a whole number of 203 dpi dots, so a thermal head prints every bar of
    one width the same: the narrowest bar found in the image is a whole dot multiple."""
    parcel = parcel_for((cold_sku(), 1), tracking_number=number)
    image = render_page(label_pdf(parcel), dpi=203).convert("L")
    width = image.width
    pixels = image.load()
    spec = SPECS[LabelSize.MM_100x150]
    row = round((2 * mm + spec.header_mm * mm + 2 * mm + spec.bar_mm * mm / 2) / DOT)
    runs, run, dark = [], 0, False
    for x in range(width):
        is_dark = pixels[x, row] < 128
        if is_dark == dark:
            run += 1
        else:
            if dark:
                runs.append(run)
            dark, run = is_dark, 1
    pattern = code128_pattern(number)
    bars = [ord(ch) - 64 for ch in pattern if ch.isupper()]
    assert len(runs) == len(bars)
    module = runs[bars.index(1)]
    assert module >= 2
    assert runs == [bar * module for bar in bars]


# --- user text -------------------------------------------------------------------------------


def test_markup_in_a_name_prints_literally():
    parcel = parcel_for((cold_sku(), 1), recipient_name=MARKUP_NAME)
    settings_off = label_data(parcel, mask=False)

    (text,) = page_texts(render_labels([settings_off]))

    # Drawn as text: the tag's characters are on the page, and ReportLab's canvas never
    # fetches anything it draws as a string.
    assert MARKUP_NAME in text.replace("\n", "")


def test_a_300_character_address_wraps_inside_the_page_and_ends_with_an_ellipsis():
    assert len(LONG_ADDRESS) >= 300
    for size in LabelSize:
        parcel = parcel_for(
            (cold_sku(), 1), address_detail=LONG_ADDRESS[:300], label_size=size.value
        )
        pdf = render_labels([label_data(parcel, mask=False)])

        (width, height), words = word_boxes(pdf)
        assert (width, height) == pytest.approx(PAGE_SIZES[size.value], abs=0.5)
        for text, x_min, x_max, y_max in words:
            assert 0 <= x_min and x_max <= width, (size, text, x_min, x_max)
            assert 0 <= y_max <= height, (size, text, y_max)
        address_lines = {
            y_max
            for text, _x_min, _x_max, y_max in words
            if any(part in text for part in ("幸福路", "号院", "东门"))
        }
        assert 2 <= len(address_lines) <= SPECS[size.value].address_lines
        assert "…" in page_texts(pdf)[0]


# --- many labels -----------------------------------------------------------------------------


def test_several_labels_print_one_per_page_in_the_order_given():
    sku = cold_sku()
    parcels = [parcel_for((sku, 1)) for _ in range(3)]
    wanted = [parcels[2], parcels[0], parcels[1]]

    texts = page_texts(render_labels(labels_data(wanted)))

    assert len(texts) == 3
    for text, parcel in zip(texts, wanted, strict=True):
        assert parcel.tracking_number in text


def test_labels_data_keeps_a_querysets_order():
    sku = cold_sku()
    parcels = [parcel_for((sku, 1)) for _ in range(3)]

    labels = labels_data(Parcel.objects.filter(pk__in=[p.pk for p in parcels]).order_by("-pk"))

    assert [label.tracking_number for label in labels] == [
        parcel.tracking_number for parcel in reversed(parcels)
    ]


def test_labels_data_costs_the_same_queries_for_two_parcels_or_eight():
    cold, nuts = cold_sku(), ambient_sku()
    parcels = [parcel_for((cold, 1), (nuts, 2)) for _ in range(8)]

    def queries(selection) -> int:
        ids = [Parcel(pk=parcel.pk) for parcel in selection]  # only the keys, as tasks pass
        with CaptureQueriesContext(connection) as captured:
            labels = labels_data(ids)
        assert len(labels) == len(selection)
        return len(captured)

    assert queries(parcels[:2]) == queries(parcels) == 2


def test_labels_print_at_each_carriers_size_unless_one_size_is_asked_for():
    small = parcel_for((cold_sku(), 1), carrier_code="zto", label_size=LabelSize.MM_76x130)
    default = parcel_for((cold_sku(), 1), carrier_code="sf")
    labels = labels_data([small, default])

    own_sizes = in_mm(page_sizes(render_labels(labels)))
    one_size = in_mm(page_sizes(render_labels(labels, size=LabelSize.MM_100x180)))

    assert own_sizes == [(76, 130), (100, 150)]
    assert one_size == [(100, 180), (100, 180)]


def test_render_labels_reports_progress_and_refuses_nothing_to_print():
    labels = labels_data([parcel_for((cold_sku(), 1))]) * 3
    seen: list[int] = []

    render_labels(labels, progress=seen.append)

    assert seen == [3]
    with pytest.raises(ValueError):
        render_labels([])


def test_an_order_packed_in_two_parcels_labels_each_with_its_number():
    sku = cold_sku()
    order = allocated_order((sku, 1))
    first = packed_parcel(order, sequence=1, parcel_count=2)
    second = packed_parcel(order, sequence=2, parcel_count=2)

    texts = page_texts(render_labels(labels_data([first, second])))

    assert "1/2" in texts[0] and "2/2" in texts[1]
