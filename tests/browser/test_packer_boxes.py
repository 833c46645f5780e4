"""A packer's morning at a desk with a thermal printer, in a real Chromium, scanner and keyboard
only: a wave holds an order of three jars of honey (every jar is scanned: by its code, by the
lot tag, and once by a scan that lands in the weight field) and a family order of 15 kg of
sweet potatoes, too heavy for one 中通 parcel, packed in two boxes (1/2 and 2/2), the second
weighed outside the band and packed with a reason. Each label comes out of the printer (a TCP
listener on 127.0.0.1) as its box closes; the test decodes the printed bitmap back into an
image and reads its Code 128 and QR. No popup is ever opened."""

from decimal import Decimal

import pytest

from orders.models import OrderStatus
from shipping.labels import label_data
from shipping.models import Carrier, PackingStation, Parcel, Printer, PrinterLanguage
from shipping.services import wave_create, waybill_pool_import
from tests.factories import PASSWORD, SkuFactory, UserFactory, receive
from tests.pdf_tools import decode_barcodes
from tests.shipping.builders import allocated_order
from tests.shipping.printers import FakePrinter, decode_zpl, to_image

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HONEY, POTATO = "FM-500", "HS-5J"
HONEY_ORDER, POTATO_ORDER = "2612040000000001", "2612040000000002"
NUMBERS = [f"7310000009{n:02d}" for n in range(1, 7)]


@pytest.fixture
def desk(browser):
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    popups = []
    context.on("page", lambda opened: popups.append(opened.url))
    page.on("popup", lambda opened: popups.append(opened.url))
    page.popups = popups
    yield page
    context.close()


@pytest.fixture
def morning():
    honey = SkuFactory(
        merchant_code=HONEY,
        name="土蜂蜜 500克",
        net_kg=Decimal("0.500"),
        packaging_kg=Decimal("0.100"),
        weight_tolerance_kg=Decimal("0.100"),
    )
    potato = SkuFactory(
        merchant_code=POTATO,
        name="红薯 5斤装",
        net_kg=Decimal("2.500"),
        packaging_kg=Decimal("0.300"),
        weight_tolerance_kg=Decimal("0.200"),
    )
    honey_lot = receive(kg="10", product=honey.product, grade=honey.grade).code
    receive(kg="40", product=potato.product, grade=potato.grade)
    orders = [
        allocated_order((honey, 3), number=HONEY_ORDER, recipient_name="王秀英"),
        allocated_order((potato, 6), number=POTATO_ORDER, recipient_name="赵大山"),
    ]
    zto = Carrier.objects.get(code="zto")
    zto.max_parcel_kg = Decimal("10")
    zto.save()
    Carrier.objects.exclude(pk=zto.pk).update(is_active=False)
    manager = UserFactory(username="laoli", roles=["manager"])
    waybill_pool_import(carrier=zto, numbers=NUMBERS, acting_user=manager)
    wave = wave_create(orders=orders, acting_user=manager, carrier=zto)
    UserFactory(username="xiaochen", first_name="小陈", roles=["packer"])
    return wave, orders, honey_lot


def STATION(url: str) -> bool:  # noqa: N802 (a URL matcher, used as a constant)
    """The station waiting for the next order (not the login page that names it)."""
    return url.endswith("/shipping/station/") and "login" not in url


def focused(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def scan(page, text: str) -> None:
    """What a scanner does: types the code fast and presses Enter."""
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def next_step(page) -> str:
    return page.locator("[data-next]").inner_text()


def test_a_packers_morning_every_unit_scanned_two_boxes_labels_from_the_printer(
    live_server, desk, morning, artifacts
):
    page = desk
    wave, (honey_order, potato_order), honey_lot = morning
    with FakePrinter() as printer:
        zebra = Printer.objects.create(
            name="一号台斑马", host="127.0.0.1", port=printer.port, language=PrinterLanguage.ZPL
        )
        PackingStation.objects.create(name="一号台", printer=zebra)
        page.goto(f"{live_server.url}/accounts/login/?next=/shipping/station/")
        page.fill("#id_username", "xiaochen")
        page.fill("#id_password", PASSWORD)
        page.press("#id_password", "Enter")
        page.wait_for_url(STATION)
        assert focused(page) == "id_order"

        # --- the honey: a line of ×3 is three scans ----------------------------------------
        scan(page, HONEY_ORDER)
        page.wait_for_url(f"**/shipping/station/?order={HONEY_ORDER}")
        assert focused(page) == "scan-item"
        assert next_step(page).startswith("扫描第一件商品")
        scan(page, HONEY)
        count = page.locator("[data-count]")
        assert count.inner_text() == "1 / 3"
        assert focused(page) == "scan-item"  # one jar is not the line
        assert "1 / 3" in next_step(page)
        scan(page, honey_lot)  # the lot tag on the crate counts too
        assert count.inner_text() == "2 / 3"
        page.keyboard.press("Enter")  # an empty Enter: on to the scale, one jar still out
        assert focused(page) == "id_weight_kg"
        assert page.locator("#pack-button").is_visible()
        # the third jar's scan lands in the weight field: it counts, it is not a weight
        scan(page, HONEY)
        assert count.inner_text() == "3 / 3"
        assert page.locator("#id_weight_kg").input_value() == ""
        assert focused(page) == "id_weight_kg"
        assert next_step(page).startswith("3 件已全部扫描")
        page.screenshot(path=artifacts / "boxes-1-honey-scanned.png", full_page=True)
        scan(page, "1.80")
        page.wait_for_url(STATION)
        printer.wait_for(1)
        assert focused(page) == "id_order"

        # --- the sweet potatoes: 15 kg, 中通 takes 10 kg a parcel: two boxes ---------------
        scan(page, POTATO_ORDER)
        page.wait_for_url(f"**/shipping/station/?order={POTATO_ORDER}")
        assert page.locator("[data-boxes]").is_visible()
        assert "2" in page.locator(".box-advice").inner_text()
        scan(page, POTATO)
        assert page.locator("[data-count]").inner_text() == "1 / 6"
        scan(page, "3")  # one scan and the number of bags in this box
        assert page.locator("[data-count]").inner_text() == "3 / 6"
        page.keyboard.press("Enter")  # on to the scale
        assert focused(page) == "id_weight_kg"
        assert next_step(page).startswith("第 1 箱：3 件")  # box 1, the rest into box 2
        page.screenshot(path=artifacts / "boxes-2-box-one.png", full_page=True)
        scan(page, "8.40")  # Enter closes box 1
        page.wait_for_url(lambda url: "channel=" in url)
        printer.wait_for(2)
        assert "3" in page.locator(".pack-line [data-count]").inner_text()
        assert page.locator(".earlier-boxes li").count() == 1
        assert focused(page) == "scan-item"
        for expected in ("1 / 3", "2 / 3", "3 / 3"):
            scan(page, POTATO)
            assert page.locator("[data-count]").inner_text() == expected
        assert focused(page) == "id_weight_kg"  # every bag in: the scale
        # box 2 weighs 9.9 kg, outside 8.2–8.6: packing stops and asks why
        scan(page, "9.9")
        assert page.locator("[data-reason-field]").is_visible()
        assert focused(page) == "id_weight_reason"
        assert "9.9" in next_step(page)
        page.screenshot(path=artifacts / "boxes-3-ask-why.png", full_page=True)
        scan(page, "箱里多放了一袋赠品")
        page.wait_for_url(STATION)
        jobs = printer.wait_for(3)
        page.screenshot(path=artifacts / "boxes-4-done.png", full_page=True)

    honey_box = Parcel.objects.get(order=honey_order)
    first, second = Parcel.objects.filter(order=potato_order).order_by("sequence")
    assert (honey_box.sequence, honey_box.parcel_count) == (1, 1)
    assert [(p.sequence, p.parcel_count) for p in (first, second)] == [(1, 2), (2, 2)]
    assert [sum(i.kg for i in p.items.all()) for p in (first, second)] == [Decimal("7.5")] * 2
    assert second.weight_kg == Decimal("9.900") and second.weight_reason == "箱里多放了一袋赠品"
    assert first.weight_reason == ""
    potato_order.refresh_from_db()
    honey_order.refresh_from_db()
    assert honey_order.status == potato_order.status == OrderStatus.PACKED
    # each label as it came out of the printer, in the order the boxes closed
    for job, parcel in zip(jobs, (honey_box, first, second), strict=True):
        codes = decode_barcodes(to_image(decode_zpl(job)[0]))
        assert ("Code128", parcel.tracking_number) in codes
        assert ("QRCode", label_data(parcel).trace_url) in codes
    assert len({p.tracking_number for p in (honey_box, first, second)}) == 3
    assert page.popups == []
