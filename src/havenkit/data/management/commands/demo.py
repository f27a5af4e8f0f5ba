"""``havenkit demo``: a whole demo haven on one machine, and the credentials to sign in to it.

Examples::

    havenkit demo setup                  # accounts, a 100,000-person synthetic cohort, a project
    havenkit demo setup --people 3000    # a smaller cohort, for tests
    havenkit demo accounts               # usernames, roles, passwords and TOTP secrets
    havenkit demo accounts --json        # the same, for scripts
    havenkit demo totp rachel            # the six-digit code rachel's authenticator shows now

``setup`` can be run any number of times: it creates only what is missing, so a second run
changes nothing. The passwords it chooses are kept in ``HAVENKIT_HOME/demo-instance.json``
(mode 0600), and that file is also how havenkit knows this instance is a demo: ``accounts`` and
``totp`` refuse to run without it, and ``setup`` refuses to add demo accounts to an instance
that already has people but no such file.
"""

import base64
import json
import os
import secrets
from argparse import ArgumentParser
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from havenkit.core.roles import Role
from havenkit.data import services as data
from havenkit.data.catalogue import VariableDeclaration
from havenkit.data.models import DatasetVersion
from havenkit.data.synthetic import DEFAULT_PEOPLE, DEFAULT_SEED, generate_cohort
from havenkit.people import accreditation
from havenkit.people import services as people
from havenkit.people.models import User
from havenkit.projects import services as projects
from havenkit.projects.models import Project
from havenkit.projects.variables import variable_id
from havenkit.workspaces import services as workspaces
from havenkit.workspaces.models import CodeFile

MARKER_FILE = "demo-instance.json"
DEVICE_NAME = "demo authenticator"
DATASET_TITLE = "Scottish synthetic cohort"
PROJECT_REFERENCE = "HK-2026-001"
EXAMPLE_SCRIPT_NAME = "admissions_by_quintile.py"
UNIVERSITY = "University of Edinburgh"
HAVEN = "Demo safe haven"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    full_name: str
    roles: tuple[Role, ...]
    organisation: str = HAVEN
    # The one account left as an administrator creates it, to show the guided first login.
    first_login_pending: bool = False


DEMO_ACCOUNTS = (
    DemoAccount("rachel", "Rachel Murray", (Role.RESEARCHER,), UNIVERSITY),
    DemoAccount("priya", "Priya Sharma", (Role.RESEARCHER, Role.PI), UNIVERSITY),
    DemoAccount("dan", "Dan McLeod", (Role.DATA_STEWARD,)),
    DemoAccount("olivia", "Olivia Grant", (Role.OUTPUT_CHECKER,)),
    DemoAccount("oscar", "Oscar Reid", (Role.OUTPUT_CHECKER,)),
    DemoAccount("alex", "Alex Campbell", (Role.APPROVER,)),
    DemoAccount("ada", "Ada Fraser", (Role.ADMINISTRATOR,)),
    DemoAccount("aud", "Aud Ross", (Role.AUDITOR,)),
    DemoAccount(
        "newstarter", "New Starter", (Role.RESEARCHER,), UNIVERSITY, first_login_pending=True
    ),
)

DATASET_DESCRIPTION = (
    "A synthetic cohort shaped like linked Scottish health records: people with valid CHI "
    "numbers, postcode district and SIMD quintile; hospital admissions with ICD-10 diagnoses; "
    "and community prescriptions by BNF chapter. No row describes a real person."
)
DATASET_DETAILS = {
    "classification": "Personal data (pseudonymised)",
    "coverage_start": date(2010, 1, 1),
    "coverage_end": date(2026, 6, 30),
    "update_schedule": "Quarterly",
}


def _chi(table: str) -> VariableDeclaration:
    return VariableDeclaration(
        "chi", "chi", f"CHI number of the person this {table} row is about.", is_identifier=True
    )


COHORT_VARIABLES = {
    "people": [
        _chi("people"),
        VariableDeclaration(
            "sex",
            "string",
            "Sex as recorded on the CHI register.",
            ("F", "M"),
            is_quasi_identifier=True,
        ),
        VariableDeclaration("date_of_birth", "date", "Date of birth.", is_quasi_identifier=True),
        VariableDeclaration(
            "postcode_district",
            "string",
            "Postcode district of residence (outward code).",
            is_quasi_identifier=True,
        ),
        VariableDeclaration(
            "simd_quintile",
            "integer",
            "Scottish Index of Multiple Deprivation quintile, 1 most deprived.",
            ("1", "2", "3", "4", "5"),
            is_quasi_identifier=True,
        ),
    ],
    "admissions": [
        _chi("admission"),
        VariableDeclaration("admission_date", "date", "Day of admission to hospital."),
        VariableDeclaration("discharge_date", "date", "Day of discharge from hospital."),
        VariableDeclaration("icd10", "string", "Main diagnosis, ICD-10 three-character code."),
        VariableDeclaration("specialty", "string", "Specialty of the admitting consultant."),
    ],
    "prescriptions": [
        _chi("prescription"),
        VariableDeclaration("prescribed_date", "date", "Day the prescription was dispensed."),
        VariableDeclaration(
            "bnf_chapter",
            "integer",
            "British National Formulary chapter of the drug.",
            tuple(str(chapter) for chapter in range(1, 16)),
        ),
        VariableDeclaration("drug", "string", "Drug name, strength and form."),
        VariableDeclaration("quantity", "integer", "Quantity dispensed, in units of the form."),
    ],
}
EXTRACT_VARIABLES = {
    "people": ["chi", "sex", "date_of_birth", "postcode_district", "simd_quintile"],
    "admissions": ["chi", "admission_date", "discharge_date", "icd10"],
    "prescriptions": ["chi", "prescribed_date", "bnf_chapter", "quantity"],
}

EXAMPLE_SCRIPT = '''\
"""Heart-attack admissions (ICD-10 I21) by deprivation quintile (SIMD, 1 = most deprived).

Reads the project's extract from /data (or wherever HAVENKIT_EXTRACT points) and writes one
table to /outputs, ready to put in a release request.
"""

import os
from pathlib import Path

import pandas as pd

extract = Path(os.environ.get("HAVENKIT_EXTRACT", "/data"))
outputs = Path(os.environ.get("HAVENKIT_OUTPUTS", "/outputs"))

people = pd.read_parquet(extract / "people.parquet", columns=["pseudonym", "simd_quintile"])
admissions = pd.read_parquet(extract / "admissions.parquet", columns=["pseudonym", "icd10"])

heart_attacks = admissions[admissions["icd10"].str.startswith("I21")]
linked = heart_attacks.merge(people, on="pseudonym")
table = pd.DataFrame(
    {
        "people": people.groupby("simd_quintile").size(),
        "heart_attack_admissions": linked.groupby("simd_quintile").size(),
    }
)
table = table.fillna(0).astype(int)
table["per_1000_people"] = (1000 * table["heart_attack_admissions"] / table["people"]).round(1)
table.to_csv(outputs / "admissions_by_quintile.csv")
total = table["heart_attack_admissions"].sum()
print(f"Wrote admissions_by_quintile.csv: {total} heart-attack admissions by SIMD quintile.")
'''


def marker_path() -> Path:
    return Path(settings.HAVENKIT_HOME) / MARKER_FILE


def _write_marker(passwords: dict[str, str]) -> None:
    """Write the demo's passwords readable by this user only, replacing the file whole."""
    path = marker_path()
    draft = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(
            {
                "about": "Created by `havenkit demo setup` (make demo). These demo passwords "
                "are printed for anyone to use: never give this instance real data.",
                "passwords": passwords,
            },
            handle,
            indent=2,
        )
    draft.replace(path)


def demo_passwords() -> dict[str, str]:
    """The demo accounts' passwords, or a refusal when this instance is not a demo."""
    path = marker_path()
    if not path.is_file():
        raise CommandError(
            f"This instance was not created by `make demo` (there is no {path}), so it has "
            "no demo accounts. On a real haven, an administrator creates each account and "
            "every person enrols their own authenticator."
        )
    return json.loads(path.read_text())["passwords"]


def _demo_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, name=DEVICE_NAME, confirmed=True).first()


@dataclass(frozen=True)
class AccountCard:
    """What someone trying the demo needs to sign in as one account."""

    username: str
    roles: list[str]
    password: str
    totp_secret: str | None


def account_cards() -> list[AccountCard]:
    passwords = demo_passwords()
    cards = []
    for account in DEMO_ACCOUNTS:
        user = User.objects.filter(username=account.username).first()
        if user is None:
            continue
        device = _demo_device(user)
        cards.append(
            AccountCard(
                username=user.username,
                roles=user.role_names(),
                password=passwords[user.username],
                totp_secret=base64.b32encode(device.bin_key).decode() if device else None,
            )
        )
    return cards


class Command(BaseCommand):
    help = "Create and use a demo haven: accounts for every role, a synthetic cohort, a project."

    def add_arguments(self, parser: ArgumentParser) -> None:
        subcommands = parser.add_subparsers(dest="subcommand", required=True)
        setup = subcommands.add_parser(
            "setup", help="Create whatever of the demo is missing; a second run changes nothing."
        )
        setup.add_argument(
            "--people",
            type=int,
            default=DEFAULT_PEOPLE,
            help=f"People in the synthetic cohort (default {DEFAULT_PEOPLE:,}).",
        )
        setup.add_argument(
            "--seed",
            type=int,
            default=DEFAULT_SEED,
            help=f"Seed of the synthetic cohort (default {DEFAULT_SEED}).",
        )
        accounts = subcommands.add_parser(
            "accounts", help="Print each demo account's roles, password and TOTP secret."
        )
        accounts.add_argument("--json", action="store_true", help="Print a JSON list.")
        code = subcommands.add_parser(
            "totp", help="Print the current six-digit code of a demo account's authenticator."
        )
        code.add_argument("username")

    def handle(self, *args: Any, subcommand: str, **options: Any) -> None:
        if subcommand == "setup":
            self.setup(options["people"], options["seed"])
            self.print_accounts(as_json=False)
        elif subcommand == "accounts":
            self.print_accounts(as_json=options["json"])
        else:
            self.stdout.write(current_code(options["username"]))

    def say(self, created: bool, what: str) -> None:
        self.stdout.write(f"{'Created' if created else 'Already present'}: {what}")

    def setup(self, n_people: int, seed: int) -> None:
        passwords = ensure_demo_passwords()
        accounts = {}
        for account in DEMO_ACCOUNTS:
            accounts[account.username], created = ensure_account(
                account, passwords[account.username]
            )
            self.say(created, f"account {account.username}")
        dataset_version, created = ensure_dataset_version(accounts["alex"], n_people, seed)
        self.say(created, f"dataset {dataset_version}")
        if not created and (n_people, seed) != (DEFAULT_PEOPLE, DEFAULT_SEED):
            self.stdout.write("  (--people and --seed apply only when the cohort is first made)")
        project, created = ensure_project(accounts, dataset_version)
        self.say(created, f"project {project}")
        extract = data.current_extract(project)
        if extract is None:
            extract = data.build_pseudonymised_extract(
                project, dataset_version, EXTRACT_VARIABLES, created_by=accounts["dan"]
            )
            self.say(True, f"pseudonymised extract v{extract.version} of {project.reference}")
        else:
            self.say(False, f"extract v{extract.version} of {project.reference}")
        created = not CodeFile.objects.filter(project=project, name=EXAMPLE_SCRIPT_NAME).exists()
        if created:
            workspaces.save_code_file(
                project, EXAMPLE_SCRIPT_NAME, EXAMPLE_SCRIPT, author=accounts["rachel"]
            )
        self.say(created, f"example script {EXAMPLE_SCRIPT_NAME}")

    def print_accounts(self, *, as_json: bool) -> None:
        cards = account_cards()
        if as_json:
            self.stdout.write(json.dumps([asdict(card) for card in cards], indent=2))
            return
        self.stdout.write(
            "\nDemo accounts (for this demo instance only; sign in at /login/, and get a "
            "code with `havenkit demo totp USERNAME` or add the secret to an authenticator app):"
        )
        for card in cards:
            secret = card.totp_secret or "none yet: enrols an authenticator at first sign-in"
            self.stdout.write(
                f"  {card.username:<11} {', '.join(card.roles):<22} "
                f"password {card.password}   TOTP secret {secret}"
            )


def ensure_demo_passwords() -> dict[str, str]:
    """The demo passwords, chosen once; refuse to turn a real instance into a demo."""
    if marker_path().is_file():
        passwords = demo_passwords()
    elif User.objects.exists():
        raise CommandError(
            "This instance already has accounts and was not created by `make demo`: "
            "refusing to add demo accounts whose passwords are printed for anyone. "
            "Set HAVENKIT_HOME to a new folder for the demo."
        )
    else:
        passwords = {}
    missing = [a.username for a in DEMO_ACCOUNTS if a.username not in passwords]
    if missing:
        passwords |= {username: secrets.token_urlsafe(12) for username in missing}
        _write_marker(passwords)
    return passwords


@transaction.atomic
def ensure_account(account: DemoAccount, password: str) -> tuple[User, bool]:
    """The demo account, created with its roles and (but for newstarter) a TOTP device."""
    user = User.objects.filter(username=account.username).first()
    created = user is None
    if user is None:
        user = people.create_person(
            account.username,
            password,
            roles=account.roles,
            full_name=account.full_name,
            email=f"{account.username}@demo.havenkit.invalid",
            organisation=account.organisation,
            must_change_password=account.first_login_pending,
        )
    if not accreditation.cleared_people().filter(pk=user.pk).exists():
        # Demo people are cleared for access; a rerun renews a lapsed demo accreditation.
        accreditation.record_checked_training(
            user, expires_on=timezone.localdate() + timedelta(days=3 * 365), checked_by=None
        )
    if not account.first_login_pending and _demo_device(user) is None:
        TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=True)
    return user, created


def ensure_dataset_version(approver: User, n_people: int, seed: int) -> tuple[DatasetVersion, bool]:
    """The newest version of the synthetic cohort dataset, generating it the first time."""
    existing = (
        DatasetVersion.objects.filter(dataset__title=DATASET_TITLE).order_by("-version").first()
    )
    if existing is not None:
        if not existing.variables.exists():
            data.describe_dataset_version(existing, COHORT_VARIABLES)
        return existing, False
    dataset_version = data.create_dataset_version(
        DATASET_TITLE,
        DATASET_DESCRIPTION,
        "Public Health Scotland (synthetic)",
        generate_cohort(n_people=n_people, seed=seed),
        approved_by=approver,
        declarations=COHORT_VARIABLES,
        dataset_details=DATASET_DETAILS,
    )
    return dataset_version, True


def ensure_project(
    accounts: dict[str, User], dataset_version: DatasetVersion
) -> tuple[Project, bool]:
    existing = Project.objects.filter(reference=PROJECT_REFERENCE).first()
    if existing is not None:
        return existing, False
    today = timezone.localdate()
    project = projects.create_active_project(
        reference=PROJECT_REFERENCE,
        title="Deprivation and emergency admissions for heart attack",
        organisation=UNIVERSITY,
        lay_summary=(
            "We will find out whether people living in more deprived parts of Scotland are "
            "admitted to hospital with a heart attack more often than people in less deprived "
            "parts, using hospital and prescribing records from which names, addresses and CHI "
            "numbers have been removed."
        ),
        public_benefit=(
            "Knowing where heart attacks are commonest helps NHS boards offer prevention, such "
            "as blood pressure and cholesterol checks, to the communities that need it most."
        ),
        pi=accounts["priya"],
        researchers=[accounts["rachel"]],
        datasets_used=dataset_version.dataset.title,
        start_date=today,
        end_date=today + timedelta(days=365),
        approved_by=accounts["alex"],
        # The application approved exactly what the demo extract holds.
        datasets=[dataset_version.dataset],
        variables=[
            variable_id(dataset_version.dataset_id, f"{table}.{column}")
            for table, columns in EXTRACT_VARIABLES.items()
            for column in columns
        ],
    )
    return project, True


def current_code(username: str) -> str:
    """The code a demo account's authenticator app would show now."""
    passwords = demo_passwords()
    if username not in passwords:
        raise CommandError(
            f"There is no demo account called {username!r}. "
            f"Demo accounts: {', '.join(sorted(passwords))}."
        )
    user = User.objects.filter(username=username).first()
    device = _demo_device(user) if user else None
    if device is None:
        raise CommandError(
            f"{username} has no authenticator yet: they enrol one in the guided first sign-in."
        )
    code = totp(
        device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift
    )
    return f"{code:0{device.digits}d}"
