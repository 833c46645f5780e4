from django.urls import path
from rest_framework.routers import SimpleRouter

from orders import aftersale_api, api, dashboard_api, transit_api

router = SimpleRouter()
router.register("orders", api.OrderViewSet, basename="orders")
router.register("live-sessions", api.LiveSessionViewSet, basename="live-sessions")
router.register("channels", api.ChannelViewSet, basename="channels")
router.register("transit-times", transit_api.TransitTimeViewSet, basename="transit-times")
router.register("after-sales", aftersale_api.AfterSaleViewSet, basename="after-sales")

urlpatterns = router.urls + [
    path("dashboard/", dashboard_api.SalesDashboardView.as_view(), name="dashboard"),
    path(
        "dashboard/compare/",
        dashboard_api.SalesCompareView.as_view(),
        name="dashboard_compare",
    ),
]
