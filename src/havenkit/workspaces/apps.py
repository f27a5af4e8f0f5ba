from django.apps import AppConfig


class WorkspacesConfig(AppConfig):
    name = "havenkit.workspaces"
    label = "workspaces"
    verbose_name = "Safe settings"
