from django.urls import path

from havenkit.people import views

app_name = "people"

urlpatterns = [
    path("login/", views.login, name="login"),
    path("login/verify/", views.verify, name="verify"),
    path("logout/", views.logout, name="logout"),
    path("setup/", views.setup, name="setup"),
    path("setup/password/", views.setup_password, name="setup_password"),
    path("setup/authenticator/", views.setup_authenticator, name="setup_authenticator"),
    path("setup/recovery-codes/", views.setup_recovery_codes, name="setup_recovery_codes"),
]
