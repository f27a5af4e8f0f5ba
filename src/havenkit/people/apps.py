from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "havenkit.people"
    label = "people"
    verbose_name = "Safe people"
