from django.urls import path

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
]
