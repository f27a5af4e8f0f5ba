from django.apps import AppConfig


class OutputsConfig(AppConfig):
    name = "havenkit.outputs"
    label = "outputs"
    verbose_name = "Safe outputs"
