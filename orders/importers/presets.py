"""Which column of an export holds which of our fields.

A preset is one platform's layout: for each of our fields, the header names that platform
uses. The preset whose names match the file's header best is chosen; a channel's saved
mapping (``Channel.column_mapping``, from the mapping screen) wins over any preset for the
headers it names. Header names are data, not text to translate.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

# Our fields, in the order the mapping screen lists them.
FIELD_LABELS = {
    "external_no": _("Order number"),
    "merchant_code": _("Merchant code (SKU)"),
    "quantity": _("Quantity"),
    "unit_price": _("Unit price"),
    "recipient_name": _("Recipient"),
    "phone": _("Phone"),
    "province": _("Province"),
    "city": _("City"),
    "district": _("District"),
    "address_detail": _("Street address"),
    "full_address": _("Whole address (one column)"),
    "paid_at": _("Paid at"),
    "platform_status": _("Platform status"),
    "after_sales_status": _("After-sales status"),
    "buyer_note": _("Buyer note"),
    "shipping_fee": _("Shipping fee"),
    "paid_total": _("Paid total"),
    "live_session": _("Live session"),
}
IGNORE = ""
# The columns our errors CSV adds to a file: ignored when that file comes back fixed.
ERROR_HEADERS = ("错误", "行号", "列")
REQUIRED = ("external_no", "merchant_code", "quantity", "recipient_name", "phone", "paid_at")
# One of these must be mapped too: the street address, or the whole address in one column.
ADDRESS_FIELDS = ("address_detail", "full_address")

GENERIC_ALIASES: dict[str, tuple[str, ...]] = {
    "external_no": ("订单号", "订单编号", "主订单编号", "订单ID", "order no", "order_no"),
    "merchant_code": ("商家编码", "商品编码", "SKU编码", "商家SKU编码", "规格编码", "sku"),
    "quantity": ("商品数量", "数量", "购买数量", "quantity"),
    "unit_price": ("商品单价", "单价", "商品价格", "unit price"),
    "recipient_name": ("收货人", "收件人", "收货人姓名", "收件人姓名"),
    "phone": (
        "手机号",
        "收件人手机号",
        "收货人手机",
        "收货人手机号",
        "收件人手机",
        "收件人电话",
        "收货人电话",
        "联系电话",
    ),
    "province": ("省", "省份"),
    "city": ("市", "城市"),
    "district": ("区", "区县"),
    "address_detail": ("详细地址", "街道地址"),
    "full_address": ("收货地址", "收件地址", "收件人地址", "收货人地址"),
    # 抖店 writes no payment time: its 订单提交时间 is when the buyer placed and paid.
    "paid_at": ("支付时间", "支付完成时间", "付款时间", "订单提交时间"),
    "platform_status": ("订单状态",),
    "after_sales_status": ("售后状态",),
    "buyer_note": ("买家留言", "买家备注"),
    "shipping_fee": ("运费",),
    "paid_total": ("订单金额", "实付金额", "实付款"),
    "live_session": ("直播间", "直播场次"),
}


@dataclass(frozen=True)
class Preset:
    code: str
    name: str
    # Our field → the headers that hold it, the most telling first: when a file has two of
    # them (支付完成时间 and 订单提交时间), the first listed wins.
    aliases: dict[str, tuple[str, ...]]
    # Headers this layout has that we do not need: never sent to the mapping screen.
    ignored: tuple[str, ...] = ()
    lookup: dict[str, tuple[str, int]] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        lookup = {}
        for name, aliases in self.aliases.items():
            for rank, alias in enumerate(aliases):
                lookup.setdefault(alias.lower(), (name, rank))
        for header in self.ignored:
            lookup.setdefault(header.lower(), (IGNORE, 0))
        object.__setattr__(self, "lookup", lookup)

    def field_for(self, header: str) -> str | None:
        """Our field for a header, IGNORE for a known header we do not use, None if unknown."""
        found = self.lookup.get(header.lower())
        return found[0] if found else None

    def rank_of(self, header: str) -> int:
        """How telling ``header`` is among its field's aliases (0 is the most)."""
        found = self.lookup.get(header.lower())
        return found[1] if found else 0


KUAISHOU = Preset(
    code="kuaishou",
    name="快手",
    aliases={
        "external_no": ("订单号", "订单编号"),
        "merchant_code": ("商家编码", "SKU编码"),
        "quantity": ("商品数量", "购买数量", "数量"),
        "unit_price": ("商品单价", "单价"),
        "recipient_name": ("收货人", "收货人姓名"),
        "phone": ("收货人手机号", "收货人手机", "手机号", "联系电话"),
        "province": ("省", "省份"),
        "city": ("市", "城市"),
        "district": ("区", "区县"),
        "address_detail": ("详细地址",),
        "full_address": ("收货地址", "收货人地址"),
        "paid_at": ("支付时间", "付款时间"),
        "platform_status": ("订单状态",),
        "after_sales_status": ("售后状态", "退款状态"),
        "buyer_note": ("买家留言",),
        "shipping_fee": ("运费",),
        "paid_total": ("实付金额", "订单金额", "实付款"),
        "live_session": ("直播间",),
    },
    ignored=(
        "商品名称",
        "商品规格",
        "商品ID",
        "SKU ID",
        "快递公司",
        "快递单号",
        "下单时间",
        "商家备注",
        *ERROR_HEADERS,
    ),
)

# 抖店's order export as the platform writes it today: the whole address in 详细地址 (no
# 省/市/区 columns), no payment-time column (订单提交时间 is when the buyer placed and paid),
# 售后状态 beside 订单状态, order numbers with a leading tab. Older exports had 省, 市, 区 and
# 支付完成时间: both layouts are read.
DOUYIN = Preset(
    code="douyin",
    name="抖音",
    aliases={
        "external_no": ("主订单编号", "订单编号"),
        "merchant_code": ("商家编码", "商品编码"),
        "quantity": ("商品数量",),
        "unit_price": ("商品单价",),
        "recipient_name": ("收件人", "收件人姓名"),
        "phone": ("收件人手机号", "收件人电话", "收件人手机"),
        "province": ("省", "省份"),
        "city": ("市", "城市"),
        "district": ("区", "区县"),
        "address_detail": ("详细地址", "街道地址"),
        "full_address": ("收货地址", "收件地址"),
        "paid_at": ("支付完成时间", "支付时间", "订单提交时间"),
        "platform_status": ("订单状态",),
        "after_sales_status": ("售后状态",),
        "buyer_note": ("买家留言", "买家备注"),
        "shipping_fee": ("运费",),
        "paid_total": ("订单应付金额", "订单金额", "实付金额"),
        "live_session": ("直播场次", "直播间"),
    },
    ignored=(
        "子订单编号",
        "选购商品",
        "商品ID",
        "商品规格",
        "商品金额",
        "下单时间",
        "订单完成时间",
        "承诺发货时间",
        "预约发货时间",
        "优惠总金额",
        "平台优惠",
        "商家优惠",
        "达人优惠",
        "商家改价",
        "支付优惠",
        "红包抵扣",
        "支付方式",
        "手续费",
        "是否修改过地址",
        "取消原因",
        "快递信息",
        "商家备注",
        "旗帜颜色",
        "达人ID",
        "达人昵称",
        "直播主播",
        "广告渠道",
        "流量来源",
        "流量类型",
        "流量渠道",
        "订单类型",
        "App渠道",
        "仓库ID",
        "仓库名称",
        "是否安心购",
        *ERROR_HEADERS,
    ),
)

GENERIC = Preset(
    code="generic",
    name="通用",
    aliases=GENERIC_ALIASES,
    ignored=KUAISHOU.ignored + DOUYIN.ignored,
)

PRESETS = {preset.code: preset for preset in (KUAISHOU, DOUYIN, GENERIC)}


@dataclass
class ColumnMap:
    """How one file's columns are read: our field → column index, and what is missing."""

    preset: Preset
    header: list[str]
    columns: dict[str, int]
    unknown: list[str]  # headers neither a preset nor the saved mapping knows
    missing: list[str]  # required fields no column holds
    from_saved: bool = False  # the channel's saved mapping named at least one column

    @property
    def complete(self) -> bool:
        return not self.missing

    def as_choices(self) -> dict[str, str]:
        """{header: field or IGNORE}: what the mapping screen starts from. Headers nobody
        knows get a guess from the words in them, for a field no column holds yet."""
        by_index = {index: name for name, index in self.columns.items()}
        taken = set(self.columns)
        choices = {}
        for index, header in enumerate(self.header):
            if not header:
                continue
            choice = by_index.get(index, IGNORE)
            if choice == IGNORE and header in self.unknown:
                guess = guess_field(header)
                if guess and guess not in taken:
                    choice = guess
                    taken.add(guess)
            choices[header] = choice
        return choices


# Words that give a header's meaning away, most telling first: only a suggestion for the
# mapping screen, never used without someone confirming it.
HINTS = (
    ("手机", "phone"),
    ("电话", "phone"),
    ("单号", "external_no"),
    ("订单", "external_no"),
    ("编码", "merchant_code"),
    ("货号", "merchant_code"),
    ("sku", "merchant_code"),
    ("数量", "quantity"),
    ("件数", "quantity"),
    ("单价", "unit_price"),
    ("姓名", "recipient_name"),
    ("收货人", "recipient_name"),
    ("收件人", "recipient_name"),
    ("地址", "full_address"),
    ("时间", "paid_at"),
    ("留言", "buyer_note"),
    ("备注", "buyer_note"),
    ("运费", "shipping_fee"),
)


def guess_field(header: str) -> str | None:
    lowered = header.lower()
    for word, name in HINTS:
        if word in lowered:
            return name
    return None


def missing_fields(fields) -> list[str]:
    fields = set(fields)
    missing = [name for name in REQUIRED if name not in fields]
    if not fields & set(ADDRESS_FIELDS):
        missing.append("address_detail")
    return missing


def _map_with(preset: Preset, header: list[str], saved: dict[str, str]) -> ColumnMap:
    columns: dict[str, int] = {}
    unknown: list[str] = []
    from_saved = False
    ranks: dict[str, tuple[int, int]] = {}
    for index, name in enumerate(header):
        if not name:
            continue
        if name in saved:
            target = saved[name]
            from_saved = True
            rank = (-1, index)  # what someone chose beats any alias
        else:
            target = preset.field_for(name)
            rank = (preset.rank_of(name), index)
        if target is None:
            unknown.append(name)
        elif target and target in FIELD_LABELS and rank < ranks.get(target, (10**6, 0)):
            # Of two columns for one field, the preset's more telling header wins, then the
            # first column.
            columns[target] = index
            ranks[target] = rank
    return ColumnMap(
        preset=preset,
        header=header,
        columns=columns,
        unknown=unknown,
        missing=missing_fields(columns),
        from_saved=from_saved,
    )


def map_columns(
    header: list[str], *, channel_code: str = "", saved: dict | None = None
) -> ColumnMap:
    """The best reading of ``header``: every preset is tried with the channel's saved mapping
    on top; the one that leaves no required field out and recognises the most columns wins
    (the channel's own platform first on a tie, the generic layout last)."""
    saved = {str(k): str(v or "") for k, v in (saved or {}).items()}

    def rank(mapped: ColumnMap):
        return (
            mapped.complete,
            len(mapped.columns),
            -len(mapped.unknown),
            mapped.preset.code == channel_code,
            mapped.preset is not GENERIC,
        )

    return max((_map_with(preset, header, saved) for preset in PRESETS.values()), key=rank)
