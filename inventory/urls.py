from django.urls import path

from inventory import views

app_name = "inventory"

urlpatterns = [
    path("intake/", views.intake_desk, name="intake"),
    path("deliveries/<int:pk>/", views.delivery_detail, name="delivery"),
    path("deliveries/<int:pk>/tags.pdf", views.delivery_lot_tags, name="lot_tags"),
    path("deliveries/<int:pk>/slip.pdf", views.delivery_slip, name="intake_slip"),
    path("stock/", views.stock, name="stock"),
    path("lots/<str:code>/", views.lot_detail, name="lot"),
    path("lots/<str:code>/tag.pdf", views.lot_tag, name="lot_tag"),
    path("lots/<str:code>/write-off/", views.lot_write_off_view, name="lot_write_off"),
    path("lots/<str:code>/count/", views.lot_adjust_view, name="lot_adjust"),
    path("lots/<str:code>/move/", views.lot_move_view, name="lot_move"),
]
