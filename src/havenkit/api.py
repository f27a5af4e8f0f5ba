"""The typed REST API (django-ninja); its OpenAPI document is served at /api/openapi.json."""

from django.http import HttpRequest
from ninja import NinjaAPI, Schema

import havenkit

api = NinjaAPI(title="havenkit", version=havenkit.__version__)


class ServiceInfo(Schema):
    name: str
    version: str


@api.get("/service-info", response=ServiceInfo, summary="What this haven runs")
def service_info(request: HttpRequest) -> ServiceInfo:
    return ServiceInfo(name="havenkit", version=havenkit.__version__)
