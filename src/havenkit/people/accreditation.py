"""Safe people: training records, the user agreement, and whether a person may enter a project.

Access to a project needs, on the day it is asked for, a verified accreditation that has not
expired and a signature of the current user agreement. Nothing is switched off on expiry: every
permission check asks :func:`cleared_people` for *today*, so access stops by itself and comes
back as soon as a renewed record is verified. The daily ``havenkit people notify-expiring``
only tells people in advance and writes the expiry into the audit log.
"""

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.text import get_valid_filename

from havenkit.core import audit
from havenkit.people.models import Accreditation, AgreementSignature, IdentityStatus, User

# Changing the agreement's text means a new version: everyone signs again before access returns.
USER_AGREEMENT_VERSION = "2026.1"
# How long before expiry the person and their PIs are told.
NOTICE_DAYS = 30


class AccreditationError(Exception):
    """A refused change to a training record or signature, with the reason to show."""


def _today() -> date:
    return timezone.localdate()


def evidence_folder(person: User) -> Path:
    return settings.HAVENKIT_HOME / "accreditation" / str(person.pk)


@transaction.atomic
def record_training(
    person: User,
    *,
    course: str,
    provider: str,
    level: str,
    passed_on: date,
    expires_on: date,
    evidence: UploadedFile,
) -> Accreditation:
    """Store the evidence under HAVENKIT_HOME and record the training, awaiting verification."""
    if expires_on <= passed_on:
        raise AccreditationError("The expiry date must be after the date the course was passed.")
    if passed_on > _today():
        raise AccreditationError("The date passed cannot be in the future.")
    folder = evidence_folder(person)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    stored = folder / f"{uuid.uuid4().hex}-{get_valid_filename(evidence.name)}"
    with stored.open("wb") as out:
        for chunk in evidence.chunks():
            out.write(chunk)
    accreditation = Accreditation.objects.create(
        user=person,
        course=course,
        provider=provider,
        level=level,
        passed_on=passed_on,
        expires_on=expires_on,
        evidence_path=str(stored.relative_to(settings.HAVENKIT_HOME)),
        evidence_name=evidence.name,
    )
    audit.record(
        "accreditation.recorded",
        actor=person,
        obj=accreditation,
        details={"course": course, "expires_on": expires_on.isoformat()},
    )
    return accreditation


def evidence_file(accreditation: Accreditation) -> Path:
    return settings.HAVENKIT_HOME / accreditation.evidence_path


@transaction.atomic
def verify_training(accreditation: Accreditation, *, verified_by: User) -> Accreditation:
    """An administrator confirms the record against its evidence; from now it gives access."""
    if accreditation.is_verified:
        raise AccreditationError("This training record has already been verified.")
    accreditation.verified_by = verified_by
    accreditation.verified_at = timezone.now()
    accreditation.save(update_fields=["verified_by", "verified_at"])
    audit.record(
        "accreditation.verified",
        actor=verified_by,
        obj=accreditation,
        details={"username": accreditation.user.username, "course": accreditation.course},
    )
    return accreditation


def sign_agreement(person: User) -> AgreementSignature:
    """Record the person's signature of the current user agreement (once per version)."""
    signature, created = AgreementSignature.objects.get_or_create(
        user=person, version=USER_AGREEMENT_VERSION
    )
    if created:
        audit.record(
            "agreement.signed",
            actor=person,
            obj=person,
            details={"version": USER_AGREEMENT_VERSION},
        )
    return signature


def current_accreditations(on: date | None = None) -> QuerySet[Accreditation]:
    """Verified training records still in date on ``on`` (default today)."""
    return Accreditation.objects.filter(verified_at__isnull=False, expires_on__gte=on or _today())


def cleared_people(on: date | None = None) -> QuerySet[User]:
    """People who may enter their projects on ``on``: identity checked, accredited, signed."""
    return User.objects.filter(
        Exists(current_accreditations(on).filter(user=OuterRef("pk"))),
        Exists(
            AgreementSignature.objects.filter(user=OuterRef("pk"), version=USER_AGREEMENT_VERSION)
        ),
        is_active=True,
        identity_status=IdentityStatus.VERIFIED,
    )


def accredited_until(person: User) -> date | None:
    """The last day this person's current accreditations cover, or None when none does."""
    latest = current_accreditations().filter(user=person).order_by("-expires_on").first()
    return latest.expires_on if latest else None


def accreditation_state(person: User, on: date | None = None) -> str:
    """One line on where the person's accreditation stands, for the administrator's list.

    Reads ``person.accreditations.all()``, so a list prefetches them rather than asking per row.
    """
    on = on or _today()
    records = list(person.accreditations.all())
    verified = sorted(
        (record for record in records if record.is_verified), key=lambda record: record.expires_on
    )
    if verified and verified[-1].expires_on >= on:
        return f"Accredited until {verified[-1].expires_on:%Y-%m-%d}"
    if any(not record.is_verified for record in records):
        return "Training awaiting verification"
    if verified:
        return f"Expired on {verified[-1].expires_on:%Y-%m-%d}"
    return "No training recorded"


def _no_accreditation_to_you(person: User, on: date) -> str:
    lapsed = (
        person.accreditations.filter(verified_at__isnull=False, expires_on__lt=on)
        .order_by("-expires_on")
        .first()
    )
    if person.accreditations.filter(verified_at__isnull=True, expires_on__gte=on).exists():
        return "Your training record is waiting for an administrator to verify it."
    if lapsed:
        return (
            f"Your accreditation expired on {lapsed.expires_on:%d %B %Y}: record your renewed "
            "training below and an administrator will verify it."
        )
    return (
        "You have no verified accreditation: record your training below and an administrator "
        "will verify it."
    )


def access_blockers(person: User, on: date | None = None, *, to_person: bool = False) -> list[str]:
    """Why this person cannot be given project access on ``on``: empty when they can.

    Written about the person for a PI or an approver, or to them (``to_person``) on their own
    accreditation page.
    """
    on = on or _today()
    reasons = []
    if not person.is_active or person.identity_status != IdentityStatus.VERIFIED:
        reasons.append(
            "Your identity is not verified."
            if to_person
            else f"{person.get_full_name() or person.username}'s identity is not verified."
        )
    if not current_accreditations(on).filter(user=person).exists():
        reasons.append(
            _no_accreditation_to_you(person, on)
            if to_person
            else "They have no verified, unexpired accreditation: they must record their "
            "training and an administrator must verify it."
        )
    if not person.agreement_signatures.filter(version=USER_AGREEMENT_VERSION).exists():
        subject = "You have" if to_person else "They have"
        reasons.append(f"{subject} not signed version {USER_AGREEMENT_VERSION} of the agreement.")
    return reasons


@dataclass(frozen=True)
class DailyRun:
    """What one run of the daily accreditation check did."""

    notices_sent: int
    expiries_recorded: int


PisOf = Callable[[User], Iterable[User]]


def _send_notice(accreditation: Accreditation, pis_of: PisOf) -> None:
    person = accreditation.user
    pis = [pi for pi in pis_of(person) if pi.pk != person.pk and pi.email]
    recipients = [address for address in [person.email, *(pi.email for pi in pis)] if address]
    if recipients:
        send_mail(
            subject=f"Accreditation for {person.get_full_name() or person.username} expires soon",
            message=(
                f"The {accreditation.course} accreditation of "
                f"{person.get_full_name() or person.username} expires on "
                f"{accreditation.expires_on:%d %B %Y}. After that day they cannot enter any "
                "project until a renewed training record has been verified.\n\n"
                "Record the renewed training under 'Your accreditation' in havenkit."
            ),
            from_email=None,
            recipient_list=recipients,
        )
    accreditation.expiry_notice_sent_on = _today()
    accreditation.save(update_fields=["expiry_notice_sent_on"])
    audit.record(
        "accreditation.expiry_notice_sent",
        obj=accreditation,
        details={
            "username": person.username,
            "expires_on": accreditation.expires_on.isoformat(),
            "told": [person.username, *(pi.username for pi in pis)],
        },
    )


def _record_expiry(accreditation: Accreditation) -> None:
    accreditation.expiry_recorded_on = _today()
    accreditation.save(update_fields=["expiry_recorded_on"])
    audit.record(
        "accreditation.expired",
        obj=accreditation,
        details={
            "username": accreditation.user.username,
            "expired_after": accreditation.expires_on.isoformat(),
            "still_accredited": current_accreditations().filter(user=accreditation.user).exists(),
        },
    )


def run_daily_check(pis_of: PisOf) -> DailyRun:
    """Tell people (and their PIs) 30 days ahead; record each expiry once, on or after the day.

    ``pis_of(person)`` names the PIs of the person's projects; it is passed in because projects
    depend on people, not the other way round. A record superseded by a later verified one sends
    no notice, since the person has already renewed.
    """
    today = _today()
    verified = Accreditation.objects.filter(verified_at__isnull=False).select_related("user")
    due_notice = verified.filter(
        expires_on__gte=today,
        expires_on__lte=today + timedelta(days=NOTICE_DAYS),
        expiry_notice_sent_on__isnull=True,
    )
    sent = 0
    for accreditation in due_notice:
        renewed = verified.filter(
            user=accreditation.user, expires_on__gt=accreditation.expires_on
        ).exists()
        if not renewed:
            _send_notice(accreditation, pis_of)
            sent += 1
    expired = verified.filter(expires_on__lt=today, expiry_recorded_on__isnull=True)
    recorded = 0
    for accreditation in expired:
        _record_expiry(accreditation)
        recorded += 1
    return DailyRun(notices_sent=sent, expiries_recorded=recorded)


def record_checked_training(
    person: User,
    *,
    expires_on: date,
    checked_by: User | None,
    course: str = "Safe Researcher Training",
    provider: str = "UK Data Service",
    level: str = "Standard",
    evidence: UploadedFile | None = None,
) -> Accreditation:
    """Record training an administrator has already seen the certificate for, verified at once,
    and the person's signature of the agreement: for onboarding in bulk and for the demo."""
    passed_on = min(_today(), expires_on - timedelta(days=1))
    record = record_training(
        person,
        course=course,
        provider=provider,
        level=level,
        passed_on=passed_on,
        expires_on=expires_on,
        evidence=evidence or SimpleUploadedFile("certificate.txt", f"{course}\n".encode()),
    )
    verify_training(record, verified_by=checked_by)
    sign_agreement(person)
    return record
