"""The compliance certificate (承诺达标合格证) of a lot: choose the basis and weight, print it."""

from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from core.pdf import pdf_response
from core.roles import CERTIFICATE_ISSUERS, role_required
from inventory.certificate import certificate_data, render_certificate
from inventory.forms import CertificateForm
from inventory.models import Lot


def _lot(code: str) -> Lot:
    return get_object_or_404(Lot.objects.select_related("product", "grade", "farmer"), code=code)


@require_GET
@role_required(*CERTIFICATE_ISSUERS)
def lot_certificate_form(request, code: str):
    """Choose the commitment basis and weight, then print the certificate."""
    lot = _lot(code)
    form = CertificateForm(lot_kg=lot.received_kg)
    return render(request, "inventory/certificate.html", {"lot": lot, "form": form})


@require_GET
@role_required(*CERTIFICATE_ISSUERS)
def lot_certificate(request, code: str):
    """The lot's 承诺达标合格证 as a PDF (A6). Without parameters: the lot's received weight,
    today, internal quality control."""
    lot = _lot(code)
    form = CertificateForm(lot_kg=lot.received_kg)
    data = {name: form[name].value() for name in form.fields}
    data.update({key: value for key, value in request.GET.items() if value})
    form = CertificateForm(data, lot_kg=lot.received_kg)
    if not form.is_valid():
        return render(request, "inventory/certificate.html", {"lot": lot, "form": form}, status=400)
    certificate = certificate_data(
        lot,
        kg=form.cleaned_data["kg"],
        basis=form.cleaned_data["basis"],
        issued_on=form.cleaned_data["issued_on"],
    )
    return pdf_response(render_certificate([certificate]), f"certificate-{lot.code}.pdf")
