from django.apps import AppConfig


class DataConfig(AppConfig):
    name = "havenkit.data"
    label = "data"
    verbose_name = "Safe data"
