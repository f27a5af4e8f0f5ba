"""Name each chosen variable with its dataset.

Until now an application held bare "table.column" names, and an approval counted each one
under every chosen dataset with a table of that name. Each becomes exactly that, once per such
dataset, so no approval is widened or lost; from here on a variable is picked from one dataset.
"""

from django.db import migrations, models

from havenkit.projects.variables import parse, qualify, tables_of


def name_each_variable_with_its_dataset(apps, schema_editor):
    Project = apps.get_model("projects", "Project")
    DatasetVersion = apps.get_model("data", "DatasetVersion")
    for project in Project.objects.exclude(variables=[]):
        if all(map(parse, project.variables)):
            continue
        versions = DatasetVersion.objects.filter(dataset__in=project.datasets.all())
        project.variables = qualify(project.variables, tables_of(versions))
        project.save(update_fields=["variables"])


def back_to_bare_names(apps, schema_editor):
    Project = apps.get_model("projects", "Project")
    for project in Project.objects.exclude(variables=[]):
        names = [parsed[1] if (parsed := parse(value)) else value for value in project.variables]
        project.variables = list(dict.fromkeys(names))
        project.save(update_fields=["variables"])


class Migration(migrations.Migration):
    dependencies = [
        ("data", "0002_initial"),
        ("projects", "0006_datasets_on_the_register_from_approval"),
    ]

    operations = [
        migrations.AlterField(
            model_name="project",
            name="variables",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text='Chosen variables, each as "<dataset id>:<table>.<column>".',
            ),
        ),
        migrations.RunPython(name_each_variable_with_its_dataset, back_to_bare_names),
    ]
