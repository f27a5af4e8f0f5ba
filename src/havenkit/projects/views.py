"""The public transparency register: every approved use of data, readable without signing in,
searchable, and downloadable as CSV, JSON and an Atom feed."""

import csv
import json

from django import forms
from django.contrib.syndication.views import Feed
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from havenkit.outputs import signing
from havenkit.projects import transparency
from havenkit.projects.models import REGISTERED_STATUSES, Project, Track


class RegisterFilterForm(forms.Form):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        help_text="Words in the title, summary, organisation or datasets.",
        widget=forms.TextInput(
            attrs={"class": "nhsuk-input", "type": "search", "aria-describedby": "id_q-hint"}
        ),
    )
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "Any"), *((s.value, s.label) for s in REGISTERED_STATUSES)],
        widget=forms.Select(attrs={"class": "nhsuk-select"}),
    )
    track = forms.ChoiceField(
        label="Track",
        required=False,
        choices=[("", "Any"), *Track.choices],
        widget=forms.Select(attrs={"class": "nhsuk-select"}),
    )


def _entries(request: HttpRequest) -> tuple[RegisterFilterForm, list[transparency.RegisterEntry]]:
    form = RegisterFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    entries = transparency.register_entries(
        filters.get("q", ""), filters.get("status", ""), filters.get("track", "")
    )
    return form, entries


def register(request: HttpRequest) -> HttpResponse:
    form, entries = _entries(request)
    context = {
        "form": form,
        "entries": entries,
        "query": request.GET.urlencode(),
        "shows_pi": transparency.shows_pi(),
    }
    return render(request, "projects/register.html", context)


def register_csv(request: HttpRequest) -> HttpResponse:
    """The register as CSV, with the same search and filters as the page."""
    _, entries = _entries(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="register.csv"'
    writer = csv.DictWriter(response, fieldnames=transparency.FIELDS)
    writer.writeheader()
    for entry in entries:
        writer.writerow(transparency.as_dict(entry))
    return response


def register_json(request: HttpRequest) -> HttpResponse:
    _, entries = _entries(request)
    body = json.dumps({"projects": [transparency.as_dict(entry) for entry in entries]}, indent=2)
    return HttpResponse(body, content_type="application/json")


def release_key(request: HttpRequest) -> HttpResponse:
    """The haven's public release key, as ``havenkit release public-key`` prints it, so anyone
    can check a released package with ``havenkit release verify`` without asking the haven.

    Public like the register and not audited: it holds no secret. A data controller or journal
    may fetch it before the haven has released anything, so the key is made on first request,
    whoever asks first (this page, the command or the first release): all get the same key.
    """
    pem = signing.public_key_pem(signing.haven_public_key())
    response = HttpResponse(pem, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="havenkit-release-key.pem"'
    return response


class RegisterFeed(Feed):
    """New entries on the register, newest first."""

    feed_type = Atom1Feed
    title = "Projects approved to use data in this haven"
    subtitle = "Every project approved to use data, with its public benefit."

    def link(self) -> str:
        return reverse("projects:register")

    def items(self) -> list[Project]:
        return list(transparency.register_projects()[:50])

    def item_title(self, item: Project) -> str:
        return f"{item.reference}: {item.title}"

    def item_description(self, item: Project) -> str:
        return f"{item.lay_summary}\n\nPublic benefit: {item.public_benefit}"

    def item_link(self, item: Project) -> str:
        return f"{reverse('projects:register')}?q={item.reference}"

    def item_pubdate(self, item: Project):
        return item.approved_at
