"""The packing station: load an order by its number, confirm its items, weigh, pack; the label
and slip it prints."""

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from inventory.models import Lot, MovementKind
from inventory.selectors import stock_mismatches
from orders.drafts import LineDraft, OrderDraft
from orders.models import Allocation, Channel, Order, OrderStatus
from orders.services import order_allocate, order_cancel, orders_create
from shipping.models import Carrier, Parcel, WaybillNumber
from shipping.services import parcel_pack, wave_create, waybill_pool_import
from tests.factories import SkuFactory, UserFactory, receive
from tests.pdf_tools import decode_barcodes, page_texts, render_page

pytestmark = pytest.mark.django_db

STATION = "/shipping/station/"
ZTO_NUMBERS = ["731000000101", "731000000102", "731000000103"]
ADDRESS = {
    "province": "陕西省",
    "city": "汉中市",
    "district": "留坝县",
    "detail": "朱家坪村 3 组 8 号",
}


# --- builders --------------------------------------------------------------------------------


def _manager():
    return UserFactory(username="station-manager", roles=["manager"])


def _carrier(code="zto", numbers=ZTO_NUMBERS) -> Carrier:
    """One of the carriers the migrations create (中通 by default), with a pool of numbers."""
    carrier = Carrier.objects.get(code=code)
    if numbers:
        waybill_pool_import(carrier=carrier, numbers=numbers, acting_user=_manager())
    return carrier


def _channel(code="kuaishou") -> Channel:
    return Channel.objects.get_or_create(code=code, defaults={"name": code})[0]


def _order(
    number="2611150000000001",
    *,
    sku=None,
    quantity=1,
    channel=None,
    recipient="王小明",
    phone="13812345678",
    detail=ADDRESS["detail"],
    note="",
    allocate=True,
) -> Order:
    sku = sku or SkuFactory(merchant_code="PEACH-5J")
    draft = OrderDraft(
        external_no=number,
        recipient_name=recipient,
        phone=phone,
        province=ADDRESS["province"],
        city=ADDRESS["city"],
        district=ADDRESS["district"],
        address_detail=detail,
        buyer_note=note,
        paid_at=timezone.now(),
        lines=[LineDraft(sku=sku, quantity=quantity, unit_price=Decimal("39.90"))],
    )
    (order,) = orders_create(channel=channel or _channel(), drafts=[draft])
    if allocate:
        assert order_allocate(order=order)
    return order


def _pack_data(order: Order, carrier: Carrier, weight="2.800", **extra) -> dict:
    data = {
        "order": order.pk,
        "lines": [line.pk for line in order.lines.all()],
        "weight_kg": weight,
        "carrier": carrier.pk,
        "tracking_number": "",
        "sorting_code": "",
    }
    data.update(extra)
    return data


def _messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def packer(client_for):
    return client_for("packer")


@pytest.fixture
def lot():
    return receive(kg="100")


# --- loading an order ------------------------------------------------------------------------


def test_scanning_an_order_number_shows_everything_needed_to_pack_it(packer, lot):
    order = _order(note="请放两个冰袋", quantity=2)

    response = packer.get(STATION, {"order": f" {order.external_no}"}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    page = response.content.decode()
    # the recipient in full: this is the one page that shows it
    assert "王小明" in page
    assert "13812345678" in page
    assert "陕西省汉中市留坝县朱家坪村 3 组 8 号" in page
    assert '<p class="buyer-note"' in page and "请放两个冰袋" in page
    # the line, and where its kilograms wait: lot, location, farmer
    assert "蜜桃 5斤礼盒" in page and 'data-code="PEACH-5J"' in page and "× 2" in page
    assert lot.code in page and lot.location.code in page and lot.farmer.name in page
    # a checkbox per line (the page works without JavaScript), the band, the carrier chosen
    line = order.lines.get()
    assert f'name="lines" value="{line.pk}"' in page
    assert "Expected 5.600 kg (5.400–5.800 kg)" in page
    first_active = Carrier.objects.filter(is_active=True).order_by("code").first()
    assert f'<option value="{first_active.pk}" selected>' in page


def test_an_order_number_two_channels_share_offers_a_choice(packer, lot):
    _order("888", channel=_channel("kuaishou"))
    other = _order("888", channel=_channel("douyin"), recipient="李四")

    response = packer.get(STATION, {"order": "888"}, HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert "888 exists in several channels" in page
    assert "channel=kuaishou" in page and "channel=douyin" in page
    assert 'name="weight_kg"' not in page

    chosen = packer.get(STATION, {"order": "888", "channel": "douyin"}).content.decode()
    assert f'name="order" value="{other.pk}"' in chosen
    assert "李四" in chosen


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ("unknown", "No order has the number 2611150000000001."),
        ("new", "is not allocated"),
        ("backordered", "is not allocated"),
        ("cancelled", "is Cancelled: do not pack it."),
    ],
)
def test_an_order_that_cannot_be_packed_is_refused_at_the_scan_input(packer, state, message):
    if state == "backordered":
        _order(allocate=False)  # no stock at all: allocation fails
        order = Order.objects.get()
        assert not order_allocate(order=order)
    elif state == "new":
        _order(allocate=False)
    elif state == "cancelled":
        receive(kg="10")
        order = _order()
        order_cancel(order=order, acting_user=_manager(), note="买家取消")

    response = packer.get(STATION, {"order": "2611150000000001"}, HTTP_ACCEPT_LANGUAGE="en")

    page = response.content.decode()
    assert message in page
    assert 'id="scan-order-error" role="alert"' in page
    assert 'value="2611150000000001" autofocus' in page  # refocused, ready to be rescanned
    assert 'name="weight_kg"' not in page


# --- packing ---------------------------------------------------------------------------------


def test_packing_saves_the_parcel_ships_the_stock_out_and_takes_one_waybill(packer, lot):
    carrier = _carrier()
    order = _order(quantity=1)
    allocations = list(Allocation.objects.filter(line__order=order).values_list("lot_id", "kg"))
    assert allocations == [(lot.pk, Decimal("2.500"))]

    response = packer.post(STATION, _pack_data(order, carrier), HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 302 and response["Location"] == STATION
    parcel = Parcel.objects.get()
    assert parcel.order == order and parcel.carrier == carrier
    assert parcel.weight_kg == Decimal("2.800") and parcel.weight_warning == ""
    assert parcel.packed_by == packer.user
    assert [(i.lot_id, i.kg, i.line_id) for i in parcel.items.all()] == [
        (lot.pk, Decimal("2.500"), order.lines.get().pk)
    ]
    # the number came from the pool, once, and is the first free one
    assert parcel.tracking_number == ZTO_NUMBERS[0]
    taken = WaybillNumber.objects.filter(taken_at__isnull=False)
    assert list(taken.values_list("number", flat=True)) == [ZTO_NUMBERS[0]]
    # the reserved kilograms left the ledger, the cache agrees with it
    lot.refresh_from_db()
    assert lot.on_hand_kg == Decimal("97.500") and lot.reserved_kg == 0
    assert lot.movements.filter(kind=MovementKind.SHIP_OUT, reference=f"parcel:{parcel.pk}").get()
    assert stock_mismatches() == []
    order.refresh_from_db()
    assert order.status == OrderStatus.PACKED
    assert not Allocation.objects.filter(line__order=order).exists()
    assert f"Order {order.external_no} packed: 中通 {ZTO_NUMBERS[0]}." in _messages(response)

    # the station is ready for the next scan, and prints the label at once: without a
    # printer, from a hidden frame holding the label page (the PDF stays the link without JS)
    page = packer.get(STATION).content.decode()
    label_url = reverse("shipping:station_label", args=[parcel.pk])
    frame_url = reverse("shipping:label_print", args=[parcel.pk])
    assert f'id="print-label" href="{label_url}"' in page
    assert f'data-print-frame="{frame_url}" data-autoprint' in page
    assert reverse("shipping:station_slip", args=[parcel.pk]) in page
    assert "autofocus" in page and 'name="weight_kg"' not in page
    # the label opens once: a reload does not print it again
    assert "data-autoprint" not in packer.get(STATION).content.decode()
    assert label_url in packer.get(STATION).content.decode()


def test_a_weight_outside_the_band_stops_until_the_packer_says_why(packer, lot):
    carrier = _carrier()
    order = _order()

    # when the box weighs 4.2 kg where 2.6–3.0 kg is expected
    refused = packer.post(
        STATION, _pack_data(order, carrier, weight="4.2 kg"), HTTP_ACCEPT_LANGUAGE="en"
    )

    # then nothing is packed: the page asks why, keeping what was typed
    assert refused.status_code == 200
    assert not Parcel.objects.exists()
    assert not WaybillNumber.objects.filter(taken_at__isnull=False).exists()
    (error,) = refused.context["form"].errors["weight_kg"]
    assert "4.2 kg is outside the expected 2.600–3.000 kg" in error
    page = refused.content.decode()
    assert 'name="weight_reason"' in page and "data-reason-field hidden" not in page

    # when the packer says why, it packs, the reason kept
    response = packer.post(
        STATION,
        _pack_data(order, carrier, weight="4.2 kg", weight_reason="加了两个冰袋"),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 302
    parcel = Parcel.objects.get()
    assert parcel.weight_kg == Decimal("4.200") and parcel.expected_kg == Decimal("2.800")
    assert "outside the expected" in parcel.weight_warning
    assert parcel.weight_reason == "加了两个冰袋"
    assert "加了两个冰袋" in parcel.events.get().description
    assert any("4.2 kg is outside the expected 2.600–3.000 kg" in m for m in _messages(response))
    order.refresh_from_db()
    assert order.status == OrderStatus.PACKED


def test_a_line_of_three_needs_three_units_counted(packer, lot):
    carrier = _carrier()
    order = _order(quantity=3)
    line = order.lines.get()
    page = packer.get(STATION, {"order": order.external_no}).content.decode()
    assert 'data-held="3"' in page and "0 / 3" in page

    # two of three counted: refused, naming the line and the count
    short = packer.post(
        STATION,
        _pack_data(order, carrier, weight="8.400", lines=[], **{f"units_{line.pk}": "2"}),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert short.context["form"].errors["lines"] == [
        "Scan every unit: 1 line is not complete (蜜桃 5斤礼盒 2 / 3)."
    ]
    assert "2 / 3" in short.content.decode()
    # four counted: more than the line holds
    over = packer.post(
        STATION,
        _pack_data(order, carrier, weight="8.400", **{f"units_{line.pk}": "4"}),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert over.context["form"].errors["lines"] == [
        "蜜桃 5斤礼盒: 4 counted, but only 3 are left to pack."
    ]
    assert not Parcel.objects.exists()
    # three counted: packed
    done = packer.post(
        STATION, _pack_data(order, carrier, weight="8.400", **{f"units_{line.pk}": "3"})
    )
    assert done.status_code == 302
    assert Parcel.objects.get().items.get().kg == Decimal("7.500")


def test_the_station_accepts_the_lot_tag_and_names_a_code_in_the_weight_field(packer, lot):
    _carrier()
    order = _order()
    page = packer.get(STATION, {"order": order.external_no}).content.decode()
    # the line answers to its merchant code and to the lot held for it
    assert f'data-codes="PEACH-5J {lot.code}"' in page
    # something typed where the weight goes that is neither a weight nor a code is named
    response = packer.post(
        STATION, _pack_data(order, Carrier.objects.get(code="zto"), weight="25JD-30M-YJ"),
        HTTP_ACCEPT_LANGUAGE="en",
    )  # fmt: skip
    assert response.context["form"].errors["weight_kg"] == [
        "Type the weight in kg: scan item codes above, not here."
    ]


def test_a_code_scanned_into_the_weight_field_counts_as_a_scan_without_javascript(packer, lot):
    carrier = _carrier()
    order = _order(quantity=3)
    line = order.lines.get()

    # two jars counted, the third jar's lot tag lands in the weight field
    response = packer.post(
        STATION,
        _pack_data(order, carrier, weight=lot.code, lines=[], **{f"units_{line.pk}": "2"}),
        HTTP_ACCEPT_LANGUAGE="en",
    )

    # then it is the third scan, nothing is packed, and the page asks for the weight
    assert response.status_code == 200
    assert not Parcel.objects.exists()
    page = response.content.decode()
    assert f'name="units_{line.pk}" value="3"' in page and "3 / 3" in page
    assert f'value="{line.pk}" checked' in page
    assert not response.context["form"].errors
    assert any("counted as a scan (3 / 3)" in m for m in _messages(response))
    # and a weight then packs it
    done = packer.post(
        STATION, _pack_data(order, carrier, weight="8.4", **{f"units_{line.pk}": "3"})
    )
    assert done.status_code == 302 and Parcel.objects.count() == 1


def test_a_heavy_order_goes_into_two_boxes_at_the_station(packer, lot):
    # given 顺丰 takes at most 10 kg a parcel and an order of 6 × 2.5 kg
    carrier = _carrier()
    carrier.max_parcel_kg = Decimal("10")
    carrier.save()
    order = _order(quantity=6)
    line = order.lines.get()

    page = packer.get(STATION, {"order": order.external_no}, HTTP_ACCEPT_LANGUAGE="en")
    text = page.content.decode()
    assert "goes into 2 boxes" in text and 'data-planned="2"' in text
    assert "Box 1 of 2" in text

    # when box 1 is closed with 3 units
    closed = packer.post(
        STATION,
        _pack_data(order, carrier, weight="8.4", lines=[], box="close", boxes="2",
                   **{f"units_{line.pk}": "3"}),
        HTTP_ACCEPT_LANGUAGE="en",
    )  # fmt: skip

    # then it is parcel 1/2 and the station comes back to the same order for box 2
    assert closed.status_code == 302
    assert closed.url == f"{STATION}?order={order.external_no}&channel={order.channel.code}"
    first = Parcel.objects.get()
    assert (first.sequence, first.parcel_count, first.weight_kg) == (1, 2, Decimal("8.400"))
    assert any("Box 1/2 of order" in m and "box 2" in m for m in _messages(closed))
    order.refresh_from_db()
    assert order.status == OrderStatus.PICKING
    again = packer.get(closed.url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-held="3"' in again and "3 units already in a box" in again
    assert "Box 2 of 2" in again and first.tracking_number in again

    # when box 2 takes the rest
    last = packer.post(STATION, _pack_data(order, carrier, weight="8.4", boxes="2"))
    assert last.status_code == 302 and last.url == STATION
    second = Parcel.objects.exclude(pk=first.pk).get()
    assert (second.sequence, second.parcel_count) == (2, 2)
    assert first.tracking_number != second.tracking_number
    order.refresh_from_db()
    assert order.status == OrderStatus.PACKED
    assert stock_mismatches() == []


def test_closing_a_box_with_nothing_counted_is_refused(packer, lot):
    carrier = _carrier()
    order = _order(quantity=2)
    response = packer.post(
        STATION, _pack_data(order, carrier, lines=[], box="close"), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.context["form"].errors["lines"] == [
        "Scan what goes into this box before closing it."
    ]
    assert not Parcel.objects.exists()


def test_packing_the_same_order_twice_is_refused(packer, lot):
    carrier = _carrier()
    order = _order()
    packer.post(STATION, _pack_data(order, carrier))

    again = packer.post(STATION, _pack_data(order, carrier), HTTP_ACCEPT_LANGUAGE="en")
    rescanned = packer.get(STATION, {"order": order.external_no}, HTTP_ACCEPT_LANGUAGE="en")

    assert again.status_code == 200
    assert f"Order {order.external_no} is already packed." in again.content.decode()
    assert "(Packed)" not in again.content.decode()
    assert "is already packed" in rescanned.content.decode()
    assert Parcel.objects.count() == 1
    assert WaybillNumber.objects.filter(taken_at__isnull=False).count() == 1
    assert stock_mismatches() == []


def test_an_empty_pool_is_an_error_at_the_tracking_field_and_nothing_is_saved(packer, lot):
    carrier = _carrier(code="sf", numbers=[])
    order = _order()

    response = packer.post(
        STATION, _pack_data(order, carrier, sorting_code="021-A3"), HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["tracking_number"] == [
        "No free waybill numbers for 顺丰: import a new pool."
    ]
    page = response.content.decode()
    # nothing typed is lost: the weight, the confirmed line, the sorting code
    assert 'value="2.800"' in page and 'value="021-A3"' in page
    assert f'value="{order.lines.get().pk}" checked' in page
    assert not Parcel.objects.exists()
    order.refresh_from_db()
    lot.refresh_from_db()
    assert order.status == OrderStatus.ALLOCATED
    assert lot.on_hand_kg == Decimal("100.000") and lot.reserved_kg == Decimal("2.500")


def test_every_line_must_be_confirmed(packer, lot):
    carrier = _carrier()
    order = _order()

    response = packer.post(STATION, _pack_data(order, carrier, lines=[]), HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    assert response.context["form"].errors["lines"] == [
        "Scan every unit: 1 line is not complete (蜜桃 5斤礼盒 0 / 1)."
    ]
    assert 'value="2.800"' in response.content.decode()
    assert not Parcel.objects.exists()
    assert not WaybillNumber.objects.filter(taken_at__isnull=False).exists()


def test_a_scanned_tracking_number_is_used_and_an_odd_one_warns(packer, lot):
    carrier = _carrier()
    order = _order()

    response = packer.post(
        STATION,
        _pack_data(order, carrier, tracking_number="YT123456789", sorting_code="021-A3"),
        HTTP_ACCEPT_LANGUAGE="en",
    )

    parcel = Parcel.objects.get()
    assert parcel.tracking_number == "YT123456789" and parcel.sorting_code == "021-A3"
    assert "YT123456789 does not look like a 中通 number." in _messages(response)
    assert not WaybillNumber.objects.filter(taken_at__isnull=False).exists()


def test_a_tracking_number_already_used_is_an_error_at_its_field(packer, lot):
    carrier = _carrier()
    first = _order("1001")
    second = _order("1002", recipient="李四")
    packer.post(STATION, _pack_data(first, carrier, tracking_number="ZT0000009999"))

    response = packer.post(
        STATION,
        _pack_data(second, carrier, tracking_number="ZT0000009999"),
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.context["form"].errors["tracking_number"] == [
        "Tracking number ZT0000009999 is already on another parcel."
    ]
    assert Parcel.objects.count() == 1


def test_the_carrier_defaults_to_the_waves_then_the_packers_last_one(packer, lot):
    zto = _carrier()
    sf = _carrier(code="sf", numbers=["SF1000000001"])
    yto = _carrier(code="yto", numbers=["YT1000000001"])
    Carrier.objects.exclude(pk__in=[zto.pk, sf.pk, yto.pk]).update(is_active=False)
    in_wave = _order("2001")
    wave_create(orders=[in_wave], acting_user=_manager(), carrier=yto)
    first, second = _order("2002"), _order("2003")

    def chosen(order):
        page = packer.get(STATION, {"order": order.external_no}).content.decode()
        return [c.pk for c in (zto, sf, yto) if f'<option value="{c.pk}" selected>' in page]

    assert chosen(in_wave) == [yto.pk]
    assert chosen(first) == [sf.pk]  # the first active one with numbers ("sf" < "yto" < "zto")
    packer.post(STATION, _pack_data(first, zto))
    assert chosen(second) == [zto.pk]
    assert chosen(in_wave) == [yto.pk]


# --- merging ---------------------------------------------------------------------------------


def test_orders_to_the_same_recipient_in_the_wave_are_offered_and_can_be_merged(packer, lot):
    carrier = _carrier()
    sku_b = SkuFactory(merchant_code="PEACH-3J", name="蜜桃 3斤", net_kg=Decimal("1.500"))
    order = _order("3001")
    same = _order("3002", sku=sku_b)
    other_house = _order("3003", detail="朱家坪村 3 组 9 号")
    other_phone = _order("3004", phone="13900000000")
    wave_create(orders=[order, same, other_house, other_phone], acting_user=_manager())
    outside_wave = _order("3005")

    page = packer.get(STATION, {"order": "3001"}).content.decode()

    assert f'name="merge" value="{same.pk}"' in page
    for not_offered in (other_house, other_phone, outside_wave):
        assert f'name="merge" value="{not_offered.pk}"' not in page

    lines = [order.lines.get().pk, same.lines.get().pk]
    response = packer.post(
        STATION,
        _pack_data(order, carrier, weight="4.600", lines=lines, merge=[same.pk]),
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 302
    parcel = Parcel.objects.get()
    assert sorted(item.line_id for item in parcel.items.all()) == sorted(lines)
    assert parcel.weight_warning == ""
    statuses = dict(Order.objects.values_list("external_no", "status"))
    assert statuses["3001"] == statuses["3002"] == OrderStatus.PACKED
    assert statuses["3003"] == statuses["3004"] == OrderStatus.PICKING
    assert stock_mismatches() == []


def test_a_merged_orders_lines_must_be_confirmed_too(packer, lot):
    carrier = _carrier()
    order, same = _order("3001"), _order("3002")
    wave_create(orders=[order, same], acting_user=_manager())

    response = packer.post(
        STATION, _pack_data(order, carrier, merge=[same.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.context["form"].errors["lines"] == [
        "Scan every unit: 1 line is not complete (蜜桃 5斤礼盒 0 / 1)."
    ]
    assert f'name="merge" value="{same.pk}" checked' in response.content.decode()
    assert not Parcel.objects.exists()


def test_an_order_not_offered_cannot_be_merged(packer, lot):
    carrier = _carrier()
    order = _order("3001")
    stranger = _order("3002", recipient="李四")
    wave_create(orders=[order, stranger], acting_user=_manager())

    response = packer.post(
        STATION,
        _pack_data(order, carrier, lines=[order.lines.get().pk, stranger.lines.get().pk],
                   merge=[stranger.pk]),
        HTTP_ACCEPT_LANGUAGE="en",
    )  # fmt: skip

    assert "merge" in response.context["form"].errors
    assert not Parcel.objects.exists()


# --- roles -----------------------------------------------------------------------------------


@pytest.fixture
def packed_parcel(lot, make_user):
    """A parcel packed by another packer than the one logged in."""
    result = parcel_pack(
        order=_order(),
        carrier=_carrier(),
        weight_kg=Decimal("2.8"),
        acting_user=make_user("packer", username="other-packer"),
    )
    return result.parcel


@pytest.mark.parametrize(("role", "status"), [("packer", 200), ("manager", 200),
                                              ("creator", 403), ("intake", 403)])  # fmt: skip
def test_only_packers_and_managers_use_the_station_and_its_printouts(
    client_for, packed_parcel, role, status
):
    client = client_for(role)
    urls = [
        STATION,
        reverse("shipping:station_label", args=[packed_parcel.pk]),
        reverse("shipping:station_slip", args=[packed_parcel.pk]),
    ]
    for url in urls:
        assert client.get(url).status_code == status, url
    order = packed_parcel.order
    assert client.get(STATION, {"order": order.external_no}).status_code == status
    assert client.post(STATION, {"order": order.pk}).status_code == status


# --- printouts -------------------------------------------------------------------------------


def test_the_label_is_a_pdf_whose_barcode_is_the_tracking_number(packer, packed_parcel):
    url = reverse("shipping:station_label", args=[packed_parcel.pk])
    assert packed_parcel.label_printed_at is None

    response = packer.get(url)

    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline")
    assert "no-store" in response["Cache-Control"]
    pdf = response.content
    assert "中通" in page_texts(pdf)[0]
    codes = decode_barcodes(render_page(pdf, dpi=203))
    assert ("Code128", packed_parcel.tracking_number) in codes
    packed_parcel.refresh_from_db()
    printed_at = packed_parcel.label_printed_at
    assert printed_at is not None
    # a reprint keeps the first time
    packer.get(url)
    packed_parcel.refresh_from_db()
    assert packed_parcel.label_printed_at == printed_at


def test_the_slip_is_a_pdf_with_the_order_number_and_no_phone(packer, packed_parcel):
    response = packer.get(reverse("shipping:station_slip", args=[packed_parcel.pk]))

    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    text = "".join(page_texts(response.content))
    assert packed_parcel.order.external_no in text
    assert "13812345678" not in text
    assert Lot.objects.get().code in text
    codes = decode_barcodes(render_page(response.content, dpi=203))
    assert ("Code128", packed_parcel.order.external_no) in codes  # what the station scans
    packed_parcel.refresh_from_db()
    assert packed_parcel.label_printed_at is None  # the slip is not the label


def test_without_a_wave_carrier_the_station_prefers_a_carrier_with_free_numbers(packer, lot):
    # given active carriers where only the last by code still has waybill numbers
    zto = _carrier()  # the only one with a pool
    order = _order("2101")

    # when the packer loads an order that is in no wave (and has packed nothing yet)
    page = packer.get(STATION, {"order": order.external_no}).content.decode()

    # then the carrier chosen is the one that can hand out a number on an empty Enter
    assert f'<option value="{zto.pk}" selected>' in page
    assert Carrier.objects.filter(is_active=True).exclude(pk=zto.pk).exists()
