"""SKU pages: the list (find one by name, merchant code or GTIN) and one SKU with its barcode
and sticker printing. Prices stay off these pages: packers and intake staff see no sales
money, and the API serves prices to those who may read them."""

from django import forms
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from core.pdf import linear_symbology, pdf_response
from core.roles import STICKER_PRINTERS, STOCK_READERS, has_role, role_required
from inventory.models import Sku
from inventory.stickers import (
    MAX_STICKERS,
    SHEET_COLUMNS,
    SHEET_ROWS,
    StickerLayout,
    render_sku_stickers,
    sku_sticker_data,
)

SKU_PAGE_SIZE = 50


class SkuSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Name, merchant code or GTIN"), required=False, max_length=100, strip=True
    )


class StickerForm(forms.Form):
    layout = forms.ChoiceField(
        label=_("Print on"),
        choices=[
            (StickerLayout.THERMAL, _("Thermal printer, 40×30 mm, one sticker a label")),
            (StickerLayout.A4, _("A4 sheet of 45 stickers (5 × 9, 40×30 mm)")),
        ],
        initial=StickerLayout.THERMAL,
    )
    copies = forms.IntegerField(
        label=_("How many stickers"), min_value=1, max_value=MAX_STICKERS, initial=10
    )


def _skus():
    return Sku.objects.select_related("product", "grade").order_by("merchant_code")


@require_GET
@role_required(*STOCK_READERS)
def sku_list(request):
    form = SkuSearchForm(request.GET or None)
    skus = _skus()
    if form.is_valid() and form.cleaned_data["q"]:
        q = form.cleaned_data["q"]
        skus = skus.filter(
            Q(name__icontains=q) | Q(merchant_code__icontains=q) | Q(gtin__startswith=q)
        )
    page = Paginator(skus, SKU_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "inventory/sku_list.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


def _sku_page(request, sku: Sku, sticker_form: StickerForm, status: int = 200):
    symbology = "EAN-13" if linear_symbology(sku.barcode_value) == "EAN13" else "Code 128"
    return render(
        request,
        "inventory/sku_detail.html",
        {
            "sku": sku,
            "symbology": symbology,
            "can_print": has_role(request.user, STICKER_PRINTERS),
            "sticker_form": sticker_form,
            "per_sheet": SHEET_COLUMNS * SHEET_ROWS,
        },
        status=status,
    )


@require_GET
@role_required(*STOCK_READERS)
def sku_detail(request, pk: int):
    return _sku_page(request, get_object_or_404(_skus(), pk=pk), StickerForm())


@require_GET
@role_required(*STICKER_PRINTERS)
def sku_stickers(request, pk: int):
    """The SKU's barcode stickers as a PDF: ``layout`` thermal or a4, ``copies``."""
    sku = get_object_or_404(_skus(), pk=pk)
    form = StickerForm(request.GET)
    if not form.is_valid():
        return _sku_page(request, sku, form, status=400)
    layout, copies = form.cleaned_data["layout"], form.cleaned_data["copies"]
    pdf = render_sku_stickers(sku_sticker_data(sku), copies=copies, layout=layout)
    return pdf_response(pdf, f"stickers-{sku.pk}-{layout}.pdf")
