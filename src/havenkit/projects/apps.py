from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "havenkit.projects"
    label = "projects"
    verbose_name = "Safe projects"
