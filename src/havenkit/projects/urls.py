from django.urls import path

from havenkit.projects import views

app_name = "projects"

urlpatterns = [
    path("", views.register, name="register"),
]
