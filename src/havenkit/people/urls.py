from django.urls import path

from havenkit.people import account_views, admin_views, views

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
    path("account/password/", account_views.change_password, name="change_password"),
    path(
        "account/accreditation/<int:accreditation_id>/evidence",
        account_views.evidence,
        name="evidence",
    ),
    path("people/", admin_views.people, name="people"),
    path("people/new/", admin_views.new_person, name="new_person"),
    path("people/<int:person_id>/", admin_views.person, name="person"),
    path("people/<int:person_id>/roles/grant", admin_views.grant_role, name="grant_role"),
    path("people/<int:person_id>/roles/revoke", admin_views.revoke_role, name="revoke_role"),
    path("people/<int:person_id>/deactivate", admin_views.deactivate, name="deactivate"),
    path("people/<int:person_id>/reactivate", admin_views.reactivate, name="reactivate"),
    path(
        "people/<int:person_id>/second-factor/reset",
        admin_views.reset_second_factor,
        name="reset_second_factor",
    ),
    path(
        "people/<int:person_id>/one-time-password",
        admin_views.issue_one_time_password,
        name="issue_one_time_password",
    ),
    path("people/checks/", account_views.checks, name="checks"),
    path("people/<int:person_id>/verify", account_views.verify_identity, name="verify_identity"),
    path(
        "people/accreditation/<int:accreditation_id>/verify",
        account_views.verify_training,
        name="verify_training",
    ),
]
