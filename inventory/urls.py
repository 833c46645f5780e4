from django.urls import path

from inventory import certificate_views, health_views, sku_views, statement_views, views

app_name = "inventory"

urlpatterns = [
    path("intake/", views.intake_desk, name="intake"),
    path("deliveries/<int:pk>/", views.delivery_detail, name="delivery"),
    path("deliveries/<int:pk>/tags.pdf", views.delivery_lot_tags, name="lot_tags"),
    path("deliveries/<int:pk>/slip.pdf", views.delivery_slip, name="intake_slip"),
    path("stock/", views.stock, name="stock"),
    path("expired/", views.expired_stock, name="expired"),
    path("lots/<str:code>/", views.lot_detail, name="lot"),
    path("lots/<str:code>/tag.pdf", views.lot_tag, name="lot_tag"),
    path("lots/<str:code>/write-off/", views.lot_write_off_view, name="lot_write_off"),
    path("lots/<str:code>/count/", views.lot_adjust_view, name="lot_adjust"),
    path("lots/<str:code>/move/", views.lot_move_view, name="lot_move"),
    path(
        "lots/<str:code>/certificate/",
        certificate_views.lot_certificate_form,
        name="lot_certificate_form",
    ),
    path(
        "lots/<str:code>/certificate.pdf", certificate_views.lot_certificate, name="lot_certificate"
    ),
    path("statements/", statement_views.balances, name="statements"),
    path("statements/all.pdf", statement_views.statements_pdf, name="statements_pdf"),
    path("statements/<int:pk>/", statement_views.farmer_statement_view, name="statement"),
    path("statements/<int:pk>/statement.pdf", statement_views.statement_pdf, name="statement_pdf"),
    path("payments/", statement_views.payments, name="payments"),
    path("payments/new/", statement_views.payment_new, name="payment_new"),
    path("payouts/", statement_views.payouts, name="payouts"),
    path("health/", health_views.stock_health_view, name="health"),
    path("skus/", sku_views.sku_list, name="sku_list"),
    path("skus/<int:pk>/", sku_views.sku_detail, name="sku"),
    path("skus/<int:pk>/stickers.pdf", sku_views.sku_stickers, name="sku_stickers"),
]
