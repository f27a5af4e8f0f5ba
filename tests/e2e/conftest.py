"""A real havenkit instance served by `havenkit serve`, and a real Chromium driven by Playwright.

The instance is created exactly as `make demo` creates one (migrate, `demo setup`), with a
smaller cohort so the suite stays fast, in its own HAVENKIT_HOME on SQLite, and served with
gunicorn and a job worker on a free loopback port.
"""

import base64
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django_otp.oath import totp
from playwright.sync_api import Browser, Page, expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# Flags that keep Chromium from reaching for Google's services on a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class DemoAccount:
    username: str
    password: str
    totp_secret: str | None
    roles: list[str]

    last_step_used: int = -1

    def fresh_code(self) -> str:
        """The code an authenticator app shows now, waiting for a new one if this was used.

        django-otp refuses a code from a time step it has already accepted, as it should.
        """
        while int(time.time()) // 30 <= self.last_step_used:
            time.sleep(1)
        self.last_step_used = int(time.time()) // 30
        key = base64.b32decode(self.totp_secret)
        return f"{totp(key, step=30, t0=0, digits=6):06d}"


@dataclass
class Instance:
    url: str
    home: Path
    accounts: dict[str, DemoAccount]

    def havenkit(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "havenkit.cli", *args],
            env=_instance_env(self.home),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )


def _instance_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["HAVENKIT_HOME"] = str(home)
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_serving(url: str, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"havenkit serve exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/register/", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"havenkit serve did not answer on {url} within {timeout} s")


@pytest.fixture(scope="session")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Instance]:
    home = tmp_path_factory.mktemp("e2e") / "havenkit-home"
    env = _instance_env(home)

    def run(*args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "havenkit.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert result.returncode == 0, f"havenkit {' '.join(args)} failed:\n{result.stderr}"
        return result.stdout

    run("migrate", "--no-input", "-v", "0")
    run("demo", "setup", "--people", "3000")
    accounts = {
        entry["username"]: DemoAccount(
            username=entry["username"],
            password=entry["password"],
            totp_secret=entry["totp_secret"],
            roles=entry["roles"],
        )
        for entry in json.loads(run("demo", "accounts", "--json"))
    }
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = (home / "serve.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "havenkit.cli", "serve", "--bind", f"127.0.0.1:{port}"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_until_serving(url, server)
        yield Instance(url=url, home=home, accounts=accounts)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def assert_accessible(page: Page) -> None:
    """Run axe-core on the current page and fail on any WCAG 2.2 A/AA violation."""
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {
                runOnly: {type: 'tag', values: tags}
            });
            return result.violations.map(v => ({id: v.id, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' '))}));
        }""",
        WCAG_TAGS,
    )
    assert violations == [], f"accessibility violations on {page.url}: {violations}"


def sign_in(page: Page, instance: Instance, username: str) -> None:
    """Sign in through the real pages, typing a TOTP code computed from the demo secret."""
    account = instance.accounts[username]
    page.goto(f"{instance.url}/login/")
    assert_accessible(page)
    page.get_by_label("Username").fill(account.username)
    page.get_by_label("Password", exact=True).fill(account.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_label("Code")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Code").fill(account.fresh_code())
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("button", name=f"Sign out {username}")).to_be_visible()


def fill_code_editor(page: Page, code: str) -> None:
    """Put code into the highlighting code editor once it has taken the textarea's place.

    The editor module loads after the page. Until its Tab checkbox shows, "Code" still names the
    textarea it is about to hide, and a fill started on that element would wait for ever.
    """
    expect(page.get_by_label("Tab key indents code")).to_be_visible()
    page.get_by_role("textbox", name="Code", exact=True).fill(code)
