from rest_framework.routers import SimpleRouter

from orders import import_api

router = SimpleRouter()
router.register("imports", import_api.ImportBatchViewSet, basename="imports")

urlpatterns = router.urls
