"""Reports for data controllers, auditors and the haven, built from the audit log."""

import csv

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from havenkit.core import audit, permissions
from havenkit.data.models import Dataset
from havenkit.people.forms import DateField, NhsForm
from havenkit.projects import transparency


class AccessReportForm(NhsForm):
    dataset = forms.ModelChoiceField(
        label="Dataset",
        queryset=Dataset.objects.order_by("title"),
        widget=forms.Select(attrs={"class": "nhsuk-select"}),
        error_messages={
            "required": "Choose a dataset.",
            "invalid_choice": "That dataset is not in the catalogue: choose from the list.",
        },
    )
    date_from = DateField(label="From")
    date_to = DateField(label="To")

    def clean(self) -> dict:
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "The 'to' date must be on or after the 'from' date.")
        return data


def access_report(request: HttpRequest) -> HttpResponse:
    """For a dataset and dates: who used it, through which project, when, and what left."""
    permissions.check(request.user, "view_access_report")
    form = AccessReportForm(request.GET or None)
    accesses = None
    if form.is_valid():
        data = form.cleaned_data
        accesses = transparency.access_report(data["dataset"], data["date_from"], data["date_to"])
        audit.record(
            "report.access_viewed",
            request=request,
            details={
                "dataset": data["dataset"].title,
                "from": data["date_from"].isoformat(),
                "to": data["date_to"].isoformat(),
                "csv": request.GET.get("format") == "csv",
            },
        )
        if request.GET.get("format") == "csv":
            return _access_csv(accesses)
    context = {"form": form, "accesses": accesses, "query": request.GET.urlencode()}
    return render(request, "projects/access_report.html", context)


def _access_csv(accesses: list[transparency.Access]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="access-report.csv"'
    writer = csv.writer(response)
    writer.writerow(["when", "person", "project", "what", "left the haven"])
    for access in accesses:
        writer.writerow(
            [
                access.occurred_at.isoformat(),
                access.person,
                access.project,
                access.what,
                access.left,
            ]
        )
    return response


def haven_report(request: HttpRequest) -> HttpResponse:
    permissions.check(request.user, "view_haven_report")
    return render(request, "projects/haven_report.html", {"report": transparency.haven_report()})
