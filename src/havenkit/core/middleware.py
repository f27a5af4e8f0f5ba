"""The request gate that holds for every page: a verified second factor."""

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse

# Reachable by anyone: the public transparency register, the catalogue summaries, static assets.
PUBLIC_PATH_PREFIXES = ("/register/", "/catalogue/", "/static/")
# Reachable after the password step but before the second factor is verified.
SECOND_FACTOR_PATH_PREFIXES = ("/login/", "/logout/", "/setup/")


class RequireSecondFactorMiddleware:
    """No page but login, the public register and static files without a verified TOTP code.

    Runs after django-otp's ``OTPMiddleware``, which sets ``request.user.is_verified()`` from
    the session. Anonymous visitors go to the login page; a person who has given a password but
    no code yet goes on to the code step (or to first-login setup).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path
        user = request.user
        if path.startswith(PUBLIC_PATH_PREFIXES):
            return self.get_response(request)
        if user.is_authenticated and user.is_verified():
            return self.get_response(request)
        if path.startswith(SECOND_FACTOR_PATH_PREFIXES):
            return self.get_response(request)
        if path.startswith("/api/"):
            return JsonResponse(
                {"detail": "Sign in with your password and code first."}, status=401
            )
        if user.is_authenticated:
            return HttpResponseRedirect(reverse("people:verify"))
        login_url = reverse(settings.LOGIN_URL)
        return HttpResponseRedirect(f"{login_url}?{urlencode({'next': request.get_full_path()})}")
