from rest_framework.routers import SimpleRouter

from orders import platform_api

router = SimpleRouter()
router.register("platform-calls", platform_api.PlatformCallViewSet, basename="platform-calls")
router.register("sync-states", platform_api.SyncStateViewSet, basename="sync-states")
router.register(
    "platform-accounts", platform_api.PlatformAccountViewSet, basename="platform-accounts"
)

urlpatterns = router.urls
