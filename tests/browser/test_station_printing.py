"""The packing station prints each label as the box closes, in a real Chromium, keyboard
only: to the station's thermal printer (a TCP listener on 127.0.0.1 standing in for it), or,
with no printer, from a hidden frame holding the label at its size. No popup, ever."""

from decimal import Decimal

import pytest
from django.utils import timezone

from orders.drafts import LineDraft, OrderDraft
from orders.models import Channel
from orders.services import order_allocate, orders_create
from shipping.labels import label_data
from shipping.models import Carrier, PackingStation, Parcel, Printer, PrinterLanguage, PrintJob
from shipping.services import waybill_pool_import
from tests.factories import PASSWORD, SkuFactory, UserFactory, receive
from tests.pdf_tools import decode_barcodes
from tests.shipping.printers import FakePrinter, decode_zpl, to_image

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MERCHANT_CODE = "6901234567892"
NUMBERS = ["2611150000000101", "2611150000000102"]


@pytest.fixture
def desk(browser):
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    popups = []
    context.on("page", lambda opened: popups.append(opened.url))  # any new tab or window
    page.on("popup", lambda opened: popups.append(opened.url))
    page.popups = popups
    yield page
    context.close()


@pytest.fixture
def orders():
    sku = SkuFactory(merchant_code=MERCHANT_CODE, name="蜜桃 5斤礼盒")
    receive(kg="50", product=sku.product, grade=sku.grade)
    channel = Channel.objects.get_or_create(code="kuaishou", defaults={"name": "快手"})[0]
    made = []
    for number in NUMBERS:
        draft = OrderDraft(
            external_no=number,
            recipient_name="王小明",
            phone="13812345678",
            province="陕西省",
            city="汉中市",
            district="留坝县",
            address_detail="朱家坪村 3 组 8 号",
            paid_at=timezone.now(),
            lines=[LineDraft(sku=sku, quantity=1, unit_price=Decimal("39.90"))],
        )
        (order,) = orders_create(channel=channel, drafts=[draft])
        assert order_allocate(order=order)
        made.append(order)
    zto = Carrier.objects.get(code="zto")
    Carrier.objects.exclude(pk=zto.pk).update(is_active=False)
    manager = UserFactory(username="laoli", roles=["manager"])
    waybill_pool_import(carrier=zto, numbers=["731000000001", "731000000002"], acting_user=manager)
    UserFactory(username="xiaochen", first_name="小陈", roles=["packer"])
    return made


def log_in(page, base: str) -> None:
    page.goto(f"{base}/accounts/login/?next=/shipping/station/")
    page.fill("#id_username", "xiaochen")
    page.fill("#id_password", PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_url("**/shipping/station/")


def pack_by_keyboard(page, number: str) -> None:
    page.keyboard.type(number)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/shipping/station/?order={number}")
    page.locator("#scan-item").wait_for(state="visible")
    page.keyboard.type(MERCHANT_CODE)
    page.keyboard.press("Enter")
    page.keyboard.type("2.80")
    page.keyboard.press("Enter")
    page.wait_for_url("**/shipping/station/")


def test_the_label_comes_out_of_the_stations_printer_as_the_box_closes(
    live_server, desk, orders, artifacts
):
    page = desk
    with FakePrinter() as fake:
        printer = Printer.objects.create(
            name="一号台斑马", host="127.0.0.1", port=fake.port, language=PrinterLanguage.ZPL
        )
        PackingStation.objects.create(name="一号台", printer=printer)  # the only one: chosen
        log_in(page, live_server.url)
        frames_before = len(page.frames)

        pack_by_keyboard(page, NUMBERS[0])

        (received,) = fake.wait_for(1)
        page.screenshot(path=artifacts / "station-printed-to-printer.png", full_page=True)

    parcel = Parcel.objects.get(order=orders[0])
    codes = decode_barcodes(to_image(decode_zpl(received)[0]))
    assert ("Code128", parcel.tracking_number) in codes
    assert ("QRCode", label_data(parcel).trace_url) in codes
    assert "一号台斑马" in page.locator(".messages").inner_text()
    assert page.locator("#label-frame").count() == 0  # the browser prints nothing itself
    assert len(page.frames) == frames_before
    assert PrintJob.objects.get().state == "sent"
    assert page.evaluate("document.activeElement.id") == "id_order"  # ready for the next box
    assert page.popups == []


def test_without_a_printer_the_label_prints_from_a_hidden_frame_not_a_popup(
    live_server, desk, orders, artifacts
):
    page = desk
    label_requests = []
    page.on("request", lambda request: label_requests.append(request.url))
    log_in(page, live_server.url)
    assert "浏览器" in page.locator(".station-desk summary").inner_text()

    pack_by_keyboard(page, NUMBERS[0])

    parcel = Parcel.objects.get(order=orders[0])
    frame_url = f"/shipping/parcels/{parcel.pk}/label/print/"
    page.wait_for_function(
        "url => document.body.getAttribute('data-label-printed') === url", arg=frame_url
    )
    frame = page.locator("#label-frame")
    assert frame.get_attribute("src") == frame_url
    assert frame.get_attribute("aria-hidden") == "true"
    box = frame.bounding_box()
    assert box is not None and box["width"] == 0 and box["height"] == 0  # out of sight
    label_frame = next(f for f in page.frames if f.url.endswith(frame_url))
    assert "size: 100mm 150mm" in label_frame.content()
    assert any(url.endswith(f"/shipping/parcels/{parcel.pk}/label.png") for url in label_requests)
    page.screenshot(path=artifacts / "station-printed-from-frame.png", full_page=True)

    # "Print label" again: the same frame path, still no new tab
    page.click("#print-label")
    page.wait_for_function(
        "url => document.body.getAttribute('data-label-printed') === url", arg=frame_url
    )
    assert page.locator("#label-frame").count() == 1
    parcel.refresh_from_db()
    assert parcel.label_printed_at is not None
    assert not PrintJob.objects.exists()
    assert page.popups == []
