from django.urls import path
from rest_framework.routers import SimpleRouter

from orders import api, dashboard_api

router = SimpleRouter()
router.register("orders", api.OrderViewSet, basename="orders")
router.register("live-sessions", api.LiveSessionViewSet, basename="live-sessions")
router.register("channels", api.ChannelViewSet, basename="channels")

urlpatterns = router.urls + [
    path("dashboard/", dashboard_api.SalesDashboardView.as_view(), name="dashboard"),
    path(
        "dashboard/compare/",
        dashboard_api.SalesCompareView.as_view(),
        name="dashboard_compare",
    ),
]
