"""The public transparency register: every approved use of data, readable without signing in."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from havenkit.projects import services


def register(request: HttpRequest) -> HttpResponse:
    return render(request, "projects/register.html", {"projects": services.registered_projects()})
