"""A packer at the packing station with a barcode scanner and a scale, no mouse: scan the
order, scan its item, type the weight and press Enter; the label prints (from a hidden frame:
no printer here) and scans."""

from decimal import Decimal

import pytest
from django.utils import timezone

from orders.drafts import LineDraft, OrderDraft
from orders.models import Channel, Order, OrderStatus
from orders.services import order_allocate, orders_create
from shipping.models import Carrier, Parcel
from shipping.services import waybill_pool_import
from tests.factories import PASSWORD, SkuFactory, UserFactory, receive
from tests.pdf_tools import decode_barcodes, render_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ORDER_NUMBER = "2611151234567890"


@pytest.fixture
def station_desk(browser):
    """A page in a desktop-sized, Chinese-speaking browser: the station's screen."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def allocated_order():
    lot = receive(kg="50")
    sku = SkuFactory(merchant_code="6901234567892", name="蜜桃 5斤礼盒")
    channel = Channel.objects.get_or_create(code="kuaishou", defaults={"name": "快手"})[0]
    draft = OrderDraft(
        external_no=ORDER_NUMBER,
        recipient_name="王小明",
        phone="13812345678",
        province="陕西省",
        city="汉中市",
        district="留坝县",
        address_detail="朱家坪村 3 组 8 号",
        buyer_note="请放两个冰袋",
        paid_at=timezone.now(),
        lines=[LineDraft(sku=sku, quantity=1, unit_price=Decimal("39.90"))],
    )
    (order,) = orders_create(channel=channel, drafts=[draft])
    assert order_allocate(order=order)
    manager = UserFactory(username="laoli", roles=["manager"])
    carrier = Carrier.objects.get(code="zto")
    Carrier.objects.exclude(pk=carrier.pk).update(is_active=False)
    waybill_pool_import(
        carrier=carrier, numbers=["731000000001", "731000000002"], acting_user=manager
    )
    UserFactory(username="xiaochen", first_name="小陈", roles=["packer"])
    return order, lot


def focused_id(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def test_a_packer_packs_an_order_with_the_keyboard_alone(
    live_server, station_desk, allocated_order, artifacts
):
    order, lot = allocated_order
    page = station_desk
    page.goto(f"{live_server.url}/accounts/login/?next=/shipping/station/")
    page.fill("#id_username", "xiaochen")
    page.fill("#id_password", PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_url("**/shipping/station/")
    # from here on: keys only, as a scanner and a scale would type them
    assert focused_id(page) == "id_order"

    # 1. scan the order number
    page.keyboard.type(ORDER_NUMBER)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/shipping/station/?order={ORDER_NUMBER}")
    page.locator("#scan-item").wait_for(state="visible")
    assert focused_id(page) == "scan-item"
    body = page.locator("#pack-form").inner_text()
    assert "13812345678" in body and "朱家坪村 3 组 8 号" in body and "请放两个冰袋" in body
    assert lot.code in body and lot.farmer.name in body
    page.screenshot(path=artifacts / "station-order-loaded.png", full_page=True)

    # a wrong item is refused where it was scanned, and nothing is confirmed
    page.keyboard.type("6900000000000")
    page.keyboard.press("Enter")
    assert "scan-error" in page.locator("#scan-item").get_attribute("class")
    assert "6900000000000" in page.locator("#scan-item-status").inner_text()
    assert not page.locator("input[name=lines]").is_checked()
    assert focused_id(page) == "scan-item"
    page.screenshot(path=artifacts / "station-wrong-item.png", full_page=True)

    # 2. scan the item: its line is confirmed and the focus moves to the weight
    page.keyboard.type("6901234567892")
    page.keyboard.press("Enter")
    assert page.locator("input[name=lines]").is_checked()
    assert "scan-error" not in page.locator("#scan-item").get_attribute("class")
    assert focused_id(page) == "id_weight_kg"

    # 3. the weight, and Enter packs; the label opens by itself
    page.keyboard.type("2.85")
    page.screenshot(path=artifacts / "station-weighed.png", full_page=True)
    popups = []
    page.on("popup", lambda opened: popups.append(opened.url))
    page.keyboard.press("Enter")
    page.wait_for_url("**/shipping/station/")

    parcel = Parcel.objects.get()
    assert parcel.weight_kg == Decimal("2.850") and parcel.weight_warning == ""
    assert parcel.tracking_number == "731000000001"
    assert parcel.packed_by.username == "xiaochen"
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PACKED
    assert parcel.tracking_number in page.locator(".messages").inner_text()
    assert focused_id(page) == "id_order"  # ready for the next parcel
    page.screenshot(path=artifacts / "station-packed.png", full_page=True)

    label_href = page.locator("#print-label").get_attribute("href")
    assert label_href == f"/shipping/parcels/{parcel.pk}/label.pdf"
    # the label prints from a hidden frame after packing, never from a new tab
    frame_url = f"/shipping/parcels/{parcel.pk}/label/print/"
    page.wait_for_function(
        "url => document.body.getAttribute('data-label-printed') === url", arg=frame_url
    )
    assert page.locator("#label-frame").get_attribute("src") == frame_url
    assert popups == []
    response = page.request.get(f"{live_server.url}{label_href}")
    assert response.headers["content-type"] == "application/pdf"
    pdf = response.body()
    (artifacts / "station-label.pdf").write_bytes(pdf)
    assert ("Code128", parcel.tracking_number) in decode_barcodes(render_page(pdf, dpi=203))
    assert page.locator("#print-slip").get_attribute("href") == (
        f"/shipping/parcels/{parcel.pk}/slip.pdf"
    )
