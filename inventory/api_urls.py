from django.urls import path
from rest_framework.routers import DefaultRouter

from inventory import api, report_api

router = DefaultRouter()
router.APIRootView = api.StudioAPIRootView
router.register("farmers", api.FarmerViewSet, basename="farmers")
router.register("products", api.ProductViewSet, basename="products")
router.register("grades", api.GradeViewSet, basename="grades")
router.register("skus", api.SkuViewSet, basename="skus")
router.register("locations", api.LocationViewSet, basename="locations")
router.register("lots", api.LotViewSet, basename="lots")
router.register("intakes", api.IntakeViewSet, basename="intakes")
router.register("farmer-payments", report_api.FarmerPaymentViewSet, basename="farmer-payments")

urlpatterns = [
    path(
        "farmers/<int:pk>/statement/",
        report_api.FarmerStatementView.as_view(),
        name="farmer-statement",
    ),
    path("farmer-balances/", report_api.FarmerBalancesView.as_view(), name="farmer-balances"),
    path("stock-health/", report_api.StockHealthView.as_view(), name="stock-health"),
    *router.urls,
]
