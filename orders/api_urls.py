from rest_framework.routers import SimpleRouter

from orders import api

router = SimpleRouter()
router.register("orders", api.OrderViewSet, basename="orders")
router.register("live-sessions", api.LiveSessionViewSet, basename="live-sessions")
router.register("channels", api.ChannelViewSet, basename="channels")

urlpatterns = router.urls
