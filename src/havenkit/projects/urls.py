from django.urls import path

from havenkit.projects import views

app_name = "projects"

urlpatterns = [
    path("", views.register, name="register"),
    path("register.csv", views.register_csv, name="register_csv"),
    path("register.json", views.register_json, name="register_json"),
    path("feed.atom", views.RegisterFeed(), name="register_feed"),
    path("release-key.pem", views.release_key, name="release_key"),
]
