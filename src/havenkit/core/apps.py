from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "havenkit.core"
    label = "core"
    verbose_name = "havenkit core"
