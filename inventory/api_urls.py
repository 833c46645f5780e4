from rest_framework.routers import DefaultRouter

from inventory import api

router = DefaultRouter()
router.APIRootView = api.StudioAPIRootView
router.register("farmers", api.FarmerViewSet, basename="farmers")
router.register("products", api.ProductViewSet, basename="products")
router.register("grades", api.GradeViewSet, basename="grades")
router.register("skus", api.SkuViewSet, basename="skus")
router.register("locations", api.LocationViewSet, basename="locations")
router.register("lots", api.LotViewSet, basename="lots")
router.register("intakes", api.IntakeViewSet, basename="intakes")

urlpatterns = router.urls
