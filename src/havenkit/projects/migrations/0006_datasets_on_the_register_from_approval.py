"""Approved projects not yet active name their datasets on the public register, as new
approvals now do (they used to be named only once the project was active)."""

from django.db import migrations


def name_the_datasets_of_approved_projects(apps, schema_editor):
    Project = apps.get_model("projects", "Project")
    for project in Project.objects.filter(status="approved", datasets_used=""):
        titles = project.datasets.order_by("title").values_list("title", flat=True)
        project.datasets_used = ", ".join(titles)
        project.save(update_fields=["datasets_used"])


class Migration(migrations.Migration):
    dependencies = [("projects", "0005_panel_seats_of_a_person")]

    operations = [
        migrations.RunPython(name_the_datasets_of_approved_projects, migrations.RunPython.noop),
    ]
