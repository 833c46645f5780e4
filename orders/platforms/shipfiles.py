"""The bulk-shipping upload files (批量发货) each platform takes: which columns, in which order,
and how it spells the carriers. Shipping fills them (``shipping.shipments``); what a platform
expects is written here, beside the rest of what Shanhuo knows about the platforms.

- 快手 (商家后台 → 订单 → 批量发货): 订单编号, 快递公司, 快递单号 — one row per order. An order
  sent in several parcels gets its first parcel in the file; the other numbers go to the
  platform through the connector (``goods.logistics.append``) or are added on the order's page
  of the platform by hand: the ship-back page lists them.
- 抖店 (订单管理 → 批量发货): 订单号, 快递公司, 快递单号 — one row per parcel: an order in
  several parcels has several rows (一单多包).
- Any other channel: a documented CSV of every parcel (see ``GENERIC``).

The carrier names are the ones the platforms list in their upload templates; a channel whose
platform spells one differently names it in its platform account's carrier codes (the
``file:`` entries, e.g. ``{"file:sf": "顺丰快递"}``).
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class ShipmentFileLayout:
    code: str
    name: str
    # (key of a row's value, heading as the platform's template writes it)
    columns: tuple[tuple[str, str], ...]
    # Shanhuo carrier code → the name the platform's file takes
    carrier_names: dict[str, str] = field(default_factory=dict)
    # False: one row per order (its first parcel); True: one row per parcel
    row_per_parcel: bool = True
    # The file type the platform's upload takes first
    file_format: str = "xlsx"


KUAISHOU = ShipmentFileLayout(
    code="kuaishou",
    name="快手 批量发货",
    columns=(
        ("order_no", "订单编号"),
        ("carrier_name", "快递公司"),
        ("tracking_number", "快递单号"),
    ),
    carrier_names={
        "sf": "顺丰速运",
        "zto": "中通快递",
        "yto": "圆通速递",
        "yunda": "韵达快递",
        "sto": "申通快递",
        "jd": "京东快递",
        "ems": "中国邮政",
        "jitu": "极兔速递",
    },
    row_per_parcel=False,
)

DOUYIN = ShipmentFileLayout(
    code="douyin",
    name="抖店 批量发货",
    columns=(
        ("order_no", "订单号"),
        ("carrier_name", "快递公司"),
        ("tracking_number", "快递单号"),
    ),
    carrier_names={
        "sf": "顺丰速运",
        "zto": "中通快递",
        "yto": "圆通快递",
        "yunda": "韵达快递",
        "sto": "申通快递",
        "jd": "京东快递",
        "ems": "邮政EMS",
        "jitu": "极兔速递",
    },
    row_per_parcel=True,
)

GENERIC = ShipmentFileLayout(
    code="generic",
    name=_("Shipments (CSV)"),
    columns=(
        ("order_no", "order_no"),
        ("channel", "channel"),
        ("carrier_code", "carrier_code"),
        ("carrier_name", "carrier_name"),
        ("tracking_number", "tracking_number"),
        ("parcel", "parcel"),
        ("parcels", "parcels"),
        ("handed_over_at", "handed_over_at"),
    ),
    row_per_parcel=True,
    file_format="csv",
)

LAYOUTS = {layout.code: layout for layout in (KUAISHOU, DOUYIN, GENERIC)}


def layout_for(channel_code: str) -> ShipmentFileLayout:
    """The upload layout of a channel's platform; the generic CSV for other channels."""
    return LAYOUTS.get(channel_code, GENERIC)


def carrier_name(
    layout: ShipmentFileLayout, carrier_code: str, fallback: str, overrides=None
) -> str:
    """How the layout's platform spells a carrier: the channel's own ``file:`` override, the
    platform's list, else Shanhuo's name."""
    overrides = overrides or {}
    return overrides.get(f"file:{carrier_code}") or layout.carrier_names.get(carrier_code, fallback)
