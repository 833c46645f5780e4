"""A packer's morning in a real browser: make the wave of last night's live session, print its
pick list, pack its three orders at the station with the scanner and the scale alone, print
the wave's labels in one go, and hand the parcels over to the courier with the manifest."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from inventory.models import Lot
from orders.models import Channel, LiveSession, Order, OrderStatus
from shipping.models import Parcel, ParcelStatus, Wave
from tests.factories import PASSWORD, SkuFactory, UserFactory, receive
from tests.pdf_tools import decode_barcodes, page_texts, render_page
from tests.shipping.builders import allocated_order, carrier, pool, sf_numbers

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MERCHANT_CODE = "6901234567892"
SKU_NAME = "蜜桃 5斤礼盒"
ORDER_NUMBERS = ["2611150000000001", "2611150000000002", "2611150000000003"]
# The packer takes the orders as they come off the shelf, not in the wave's order; the labels
# of the wave still print in the wave's order.
PACKING_ORDER = [ORDER_NUMBERS[2], ORDER_NUMBERS[0], ORDER_NUMBERS[1]]
RECIPIENTS = [
    ("王小明", "13812345671", "朱家坪村 3 组 8 号"),
    ("李秀英", "13812345672", "小寨东路 1 号 501 室"),
    ("赵大山", "13812345673", "长安南路 88 号"),
]


@pytest.fixture
def desk(browser):
    """A page in a desktop-sized, Chinese-speaking browser."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def morning():
    """Stock of one SKU, three orders of last night's live session reserved on it, a 顺丰
    waybill pool, and the packer."""
    sku = SkuFactory(
        merchant_code=MERCHANT_CODE,
        name=SKU_NAME,
        net_kg=Decimal("2.500"),
        packaging_kg=Decimal("0.300"),
        weight_tolerance_kg=Decimal("0.200"),
    )
    receive(kg="50", product=sku.product, grade=sku.grade)
    now = timezone.now()
    channel = Channel.objects.get_or_create(code="kuaishou", defaults={"name": "快手"})[0]
    session = LiveSession.objects.create(
        channel=channel,
        title="蜜桃专场",
        host="朱家坪小朱",
        starts_at=now - timedelta(hours=12),
        ends_at=now - timedelta(hours=9),
    )
    orders = [
        allocated_order(
            (sku, 1),
            number=number,
            paid_at=now - timedelta(hours=11, minutes=-10 * index),
            live_session=session,
            recipient_name=name,
            phone=phone,
            address_detail=address,
        )
        for index, (number, (name, phone, address)) in enumerate(
            zip(ORDER_NUMBERS, RECIPIENTS, strict=True)
        )
    ]
    pool("sf", sf_numbers(5))
    UserFactory(username="xiaochen", first_name="小陈", roles=["packer"])
    return session, carrier("sf"), orders


def focused_id(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def fetch_pdf(page, url: str, name: str, artifacts) -> bytes:
    response = page.request.get(url)
    assert response.ok, (url, response.status)
    assert response.headers["content-type"] == "application/pdf"
    pdf = response.body()
    (artifacts / name).write_bytes(pdf)
    return pdf


def test_a_packer_waves_picks_packs_prints_and_hands_over(live_server, desk, morning, artifacts):
    session, sf, orders = morning
    page = desk
    base = live_server.url
    popups = []
    page.on("popup", lambda opened: popups.append(opened.url))

    # --- 1. log in, make the wave of the live session -----------------------------------
    page.goto(f"{base}/accounts/login/?next={reverse('shipping:wave_list')}")
    page.fill("#id_username", "xiaochen")
    page.fill("#id_password", PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_url(f"**{reverse('shipping:wave_list')}")
    page.screenshot(path=artifacts / "morning-1-waves.png", full_page=True)

    page.click(f"a[href='{reverse('shipping:wave_create')}'].primary")
    page.wait_for_url(f"**{reverse('shipping:wave_create')}")
    page.select_option("#id_live_session", value=str(session.pk))
    page.select_option("#id_carrier", value=str(sf.pk))
    page.screenshot(path=artifacts / "morning-1-new-wave.png", full_page=True)
    page.click("button[name=create]")
    page.wait_for_url("**/shipping/waves/W*/")

    wave = Wave.objects.get()
    assert page.url == f"{base}{reverse('shipping:wave_detail', args=[wave.code])}"
    assert list(wave.wave_orders.order_by("position").values_list("order_id", flat=True)) == [
        order.pk for order in orders
    ]
    assert page.locator(".progress-text").inner_text().split() == ["0", "/", "3"]
    wave_page = page.url
    page.screenshot(path=artifacts / "morning-1-wave.png", full_page=True)

    # --- 2. the pick list, from the link on the wave page -----------------------------------
    picklist_href = page.locator(
        f"a[href='{reverse('shipping:wave_picklist', args=[wave.code])}']"
    ).get_attribute("href")
    pdf = fetch_pdf(page, f"{base}{picklist_href}", "morning-2-picklist.pdf", artifacts)
    text = "\n".join(page_texts(pdf))
    lot_codes = set(Lot.objects.values_list("code", flat=True))
    assert lot_codes and all(code in text for code in lot_codes)
    assert SKU_NAME in text
    found = decode_barcodes(render_page(pdf, 1, dpi=300))
    assert {value for kind, value in found if kind == "Code128"} >= set(ORDER_NUMBERS)

    # --- 3. pack the three orders, keyboard only ----------------------------------------
    page.goto(f"{base}{reverse('shipping:station')}")
    assert focused_id(page) == "id_order"
    for index, number in enumerate(PACKING_ORDER, start=1):
        page.keyboard.type(number)
        page.keyboard.press("Enter")
        page.wait_for_url(f"**/shipping/station/?order={number}")
        page.locator("#scan-item").wait_for(state="visible")
        assert focused_id(page) == "scan-item"
        assert wave.code in page.locator("#pack-form").inner_text()

        page.keyboard.type(MERCHANT_CODE)
        page.keyboard.press("Enter")
        assert page.locator("input[name=lines]").is_checked()
        assert focused_id(page) == "id_weight_kg"

        page.keyboard.type("2.80")
        if index == 1:
            page.screenshot(path=artifacts / "morning-3-station-weighed.png", full_page=True)
        page.keyboard.press("Enter")
        page.wait_for_url("**/shipping/station/")
        # the label prints by itself, from a hidden frame (no printer at this desk), no popup
        parcel = Parcel.objects.get(order__external_no=number)
        page.wait_for_function(
            "url => document.body.getAttribute('data-label-printed') === url",
            arg=f"/shipping/parcels/{parcel.pk}/label/print/",
        )

        said = page.locator(".messages .msg.success").inner_text()
        assert number in said and parcel.tracking_number in said
        assert page.locator(".messages .msg.warning").count() == 0
        assert focused_id(page) == "id_order"
        page.screenshot(path=artifacts / f"morning-3-packed-{index}.png", full_page=True)

    assert popups == []  # three labels printed, no tab opened
    parcels = [Parcel.objects.get(order=order) for order in orders]
    first, second, third = sf_numbers(3)  # taken from the pool as the parcels were packed
    assert [p.tracking_number for p in parcels] == [second, third, first]
    assert all(p.wave_id == wave.pk and p.weight_kg == Decimal("2.800") for p in parcels)
    assert set(Order.objects.values_list("status", flat=True)) == {OrderStatus.PACKED}

    # --- 4. back on the wave: all packed; all labels of the wave in one PDF ------------------
    page.goto(wave_page)
    assert page.locator(".progress-text").inner_text().split() == ["3", "/", "3"]
    page.screenshot(path=artifacts / "morning-4-wave-packed.png", full_page=True)
    # "Print all labels" is a form (POST into a new tab), not a link. Press it as the packer
    # would: the new tab gets the PDF, which Chromium then shows in its viewer, whose page
    # holds no bytes; so the bytes come from sending exactly what that form sends.
    all_labels = page.locator(
        f"form[action='{reverse('shipping:wave_labels')}']:not(:has(input[name=unprinted]))"
    )
    expect(all_labels).to_have_count(1)
    with page.context.expect_event(
        "response", predicate=lambda r: r.request.method == "POST" and "/labels/batch/" in r.url
    ) as printed:
        all_labels.locator("button[type=submit]").click()
    assert printed.value.status == 200
    assert printed.value.headers["content-type"] == "application/pdf"
    fields = {
        name: all_labels.locator(f"input[name={name}]").get_attribute("value")
        for name in ("csrfmiddlewaretoken", "wave")
    }
    assert fields["wave"] == wave.code
    response = page.request.post(
        f"{base}{all_labels.get_attribute('action')}", form=fields, headers={"Referer": wave_page}
    )
    assert response.ok and response.headers["content-type"] == "application/pdf"
    pdf = response.body()
    (artifacts / "morning-4-wave-labels.pdf").write_bytes(pdf)
    assert len(page_texts(pdf)) == 3
    for number, parcel in enumerate(parcels, start=1):  # pick order: the wave's order
        codes = decode_barcodes(render_page(pdf, number, dpi=203))
        assert [text for kind, text in codes if kind == "Code128"] == [parcel.tracking_number]

    # --- 5. hand over to 顺丰 -----------------------------------------------------------
    page.goto(f"{base}{reverse('shipping:handover')}")
    page.select_option("#id_carrier", value=str(sf.pk))
    page.screenshot(path=artifacts / "morning-5-handover-carrier.png", full_page=True)
    page.click("form.card button[type=submit]")
    page.locator("#id_tracking_number").wait_for(state="visible")
    expect(page.locator(".scan-count")).to_have_text("0")
    for count, parcel in enumerate(parcels, start=1):
        assert focused_id(page) == "id_tracking_number"
        page.keyboard.type(parcel.tracking_number)
        page.keyboard.press("Enter")
        expect(page.locator(".scan-count")).to_have_text(str(count))
        page.wait_for_load_state()
        said = page.locator(".messages .msg.success").inner_text()
        assert parcel.tracking_number in said
    page.screenshot(path=artifacts / "morning-5-handover-scanned.png", full_page=True)

    assert [Parcel.objects.get(pk=p.pk).status for p in parcels] == [ParcelStatus.SHIPPED] * 3
    assert set(Order.objects.values_list("status", flat=True)) == {OrderStatus.SHIPPED}
    manifest_href = page.locator("a#manifest").get_attribute("href")
    pdf = fetch_pdf(page, f"{base}{manifest_href}", "morning-5-manifest.pdf", artifacts)
    text = "\n".join(page_texts(pdf))
    assert all(parcel.tracking_number in text for parcel in parcels)
