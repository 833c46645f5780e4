"""Shipping pages. Each area keeps its own views module with its own ``urlpatterns``."""

from shipping import (
    handover_views,
    reship_views,
    return_views,
    shipment_views,
    station_views,
    wave_views,
    weights,
)
from shipping.printing import views as printing_views

app_name = "shipping"

urlpatterns = [
    *wave_views.urlpatterns,
    *station_views.urlpatterns,
    *handover_views.urlpatterns,
    *return_views.urlpatterns,
    *reship_views.urlpatterns,
    *shipment_views.urlpatterns,
    *printing_views.urlpatterns,
    *weights.urlpatterns,
]
