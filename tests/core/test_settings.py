"""Settings read from the environment: what a haven sets is what Django runs with.

Each case starts a fresh interpreter, because settings are read once at import.
"""

import json
import os
import subprocess
import sys

SHOW = (
    "import json, django; from django.conf import settings; django.setup(); "
    "print(json.dumps({name: getattr(settings, name, None) for name in %r}))"
)


def settings_with(tmp_path, names: list[str], **environment: str) -> dict:
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith("HAVENKIT_")},
        "HAVENKIT_HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "havenkit.settings",
        **environment,
    }
    result = subprocess.run(
        [sys.executable, "-c", SHOW % names], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout)


SECURITY = [
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_PROXY_SSL_HEADER",
    "CSRF_TRUSTED_ORIGINS",
]


def test_the_loopback_demo_sends_cookies_over_plain_http(tmp_path):
    shown = settings_with(tmp_path, SECURITY)
    assert shown["SESSION_COOKIE_SECURE"] is False
    assert shown["SECURE_SSL_REDIRECT"] is False
    assert shown["SECURE_HSTS_SECONDS"] == 0
    assert shown["SECURE_PROXY_SSL_HEADER"] is None


def test_over_https_cookies_stay_on_tls_and_the_proxy_header_is_trusted_only_when_told(
    tmp_path,
):
    shown = settings_with(
        tmp_path,
        SECURITY,
        HAVENKIT_HTTPS="1",
        HAVENKIT_BEHIND_PROXY="1",
        HAVENKIT_CSRF_TRUSTED_ORIGINS="https://haven.example.org,https://tre.example.org",
    )
    assert shown["SESSION_COOKIE_SECURE"] is True
    assert shown["CSRF_COOKIE_SECURE"] is True
    assert shown["SECURE_SSL_REDIRECT"] is True
    assert shown["SECURE_HSTS_SECONDS"] == 31536000
    assert shown["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert shown["CSRF_TRUSTED_ORIGINS"] == [
        "https://haven.example.org",
        "https://tre.example.org",
    ]
    assert settings_with(tmp_path, SECURITY, HAVENKIT_HTTPS="1")["SECURE_PROXY_SSL_HEADER"] is None


def test_a_haven_points_email_at_its_own_relay(tmp_path):
    shown = settings_with(
        tmp_path,
        ["EMAIL_BACKEND", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_HOST_USER", "EMAIL_USE_TLS"],
        HAVENKIT_EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        HAVENKIT_EMAIL_HOST="smtp.nhs.example",
        HAVENKIT_EMAIL_PORT="587",
        HAVENKIT_EMAIL_USER="haven",
        HAVENKIT_EMAIL_STARTTLS="1",
    )
    assert shown == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "smtp.nhs.example",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "haven",
        "EMAIL_USE_TLS": True,
    }
