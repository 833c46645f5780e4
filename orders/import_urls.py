from django.urls import path

from orders import aftersale_views
from orders import import_views as views

app_name = "imports"

urlpatterns = [
    path("", views.import_list, name="list"),
    path("new/", views.upload, name="upload"),
    path("<int:pk>/mapping/", views.mapping, name="mapping"),
    path("<int:pk>/preview/", views.preview, name="preview"),
    path("<int:pk>/commit/", views.commit, name="commit"),
    path("<int:pk>/progress/", views.progress, name="progress"),
    path("<int:pk>/resume/", views.resume, name="resume"),
    path("<int:pk>/status.json", views.status, name="status"),
    path("<int:pk>/", views.result, name="result"),
    path("<int:pk>/errors.csv", views.errors_csv, name="errors_csv"),
    path("after-sales/", aftersale_views.upload, name="after_sales"),
    path("after-sales/<int:pk>/", aftersale_views.detail, name="after_sales_detail"),
    path("after-sales/<int:pk>/import/", aftersale_views.commit, name="after_sales_commit"),
]
