from rest_framework.routers import SimpleRouter

from shipping import api, handover_api, shipment_api, weights
from shipping.printing import api as printing_api

router = SimpleRouter()
router.register("carriers", api.CarrierViewSet, basename="carriers")
router.register("waybill-pools", api.WaybillPoolViewSet, basename="waybill-pools")
router.register("waves", api.WaveViewSet, basename="waves")
router.register("parcels", api.ParcelViewSet, basename="parcels")
router.register("handovers", handover_api.HandoverBatchViewSet, basename="handovers")
router.register("tracking", api.TrackingViewSet, basename="tracking")
router.register("shipment-reports", shipment_api.ShipmentReportViewSet, basename="shipment-reports")
router.register("printers", printing_api.PrinterViewSet, basename="printers")
router.register("print-jobs", printing_api.PrintJobViewSet, basename="print-jobs")

urlpatterns = [*router.urls, *weights.api_urlpatterns]
