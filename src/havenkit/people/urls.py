from django.urls import path

from havenkit.people import account_views, views

app_name = "people"

urlpatterns = [
    path("login/", views.login, name="login"),
    path("login/verify/", views.verify, name="verify"),
    path("logout/", views.logout, name="logout"),
    path("setup/", views.setup, name="setup"),
    path("setup/password/", views.setup_password, name="setup_password"),
    path("setup/authenticator/", views.setup_authenticator, name="setup_authenticator"),
    path("setup/recovery-codes/", views.setup_recovery_codes, name="setup_recovery_codes"),
    path("login/new-account/", account_views.register, name="register"),
    path("account/accreditation/", account_views.my_accreditation, name="my_accreditation"),
    path("account/agreement/", account_views.sign_agreement, name="sign_agreement"),
    path(
        "account/accreditation/<int:accreditation_id>/evidence",
        account_views.evidence,
        name="evidence",
    ),
    path("people/checks/", account_views.checks, name="checks"),
    path("people/<int:person_id>/verify", account_views.verify_identity, name="verify_identity"),
    path(
        "people/accreditation/<int:accreditation_id>/verify",
        account_views.verify_training,
        name="verify_training",
    ),
]
