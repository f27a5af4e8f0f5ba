"""Forms for signing in and first-login setup; they check what was typed, services do the rest."""

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import PasswordChangeForm

from havenkit.core.roles import Role
from havenkit.people.models import User
from havenkit.people.signin import RECOVERY_CODE_LENGTH, TOTP_CODE_LENGTH

CHECKBOXES = (forms.CheckboxInput, forms.CheckboxSelectMultiple)


class NhsForm(forms.Form):
    """A form whose inputs carry NHS.UK classes and point at their hint and error messages.

    The templates render ``{{ field }}``, so the attributes a screen reader needs (which hint
    and which error belong to the input) are set here rather than rebuilt in every template.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.widget.attrs.setdefault("class", "nhsuk-input")
            self._describe(name)

    def _describe(self, name: str) -> None:
        field = self.fields[name]
        if isinstance(field.widget, CHECKBOXES):
            return  # their fieldset carries the hint and the error (people/_checkboxes.html)
        # Not self[name]: that caches the label and hint as they are now, before a subclass's
        # __init__ has set its own.
        field_id = field.get_bound_field(self, name).auto_id
        described_by = []
        if field.help_text:
            described_by.append(f"{field_id}-hint")
        # The first class names the component (nhsuk-input, nhsuk-select...); its --error twin
        # is added while the field has an error, keeping any width class.
        classes = [css for css in field.widget.attrs["class"].split() if "--error" not in css]
        if self._errors is not None and name in self._errors:
            described_by.append(f"{field_id}-error")
            classes.append(f"{classes[0]}--error")
        field.widget.attrs["class"] = " ".join(classes)
        if described_by:
            field.widget.attrs["aria-describedby"] = " ".join(described_by)

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        for name in self.fields:
            self._describe(name)

    def first_field_id(self) -> str:
        """Where the error summary sends someone for an error that belongs to no one field."""
        return self[next(iter(self.fields))].auto_id


class CodeField(forms.CharField):
    """A code typed from an authenticator app or a recovery-code list: digits only.

    Spaces and hyphens are dropped, since people copy codes the way they are shown ("123 456").
    """

    def __init__(self, *, lengths: tuple[int, ...], wrong_shape: str, **kwargs: Any) -> None:
        self.lengths = lengths
        self.wrong_shape = wrong_shape
        kwargs.setdefault("label", "Code")
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs={
                    "autocomplete": "one-time-code",
                    "inputmode": "numeric",
                    "spellcheck": "false",
                    "class": "nhsuk-input nhsuk-input--width-10",
                }
            ),
        )
        kwargs.setdefault("error_messages", {"required": wrong_shape})
        super().__init__(max_length=40, **kwargs)

    def to_python(self, value: Any) -> str:
        return super().to_python(value).replace(" ", "").replace("-", "")

    def validate(self, value: str) -> None:
        super().validate(value)
        if not (value.isdigit() and len(value) in self.lengths):
            raise forms.ValidationError(self.wrong_shape, code="shape")


class SignInForm(NhsForm):
    username = forms.CharField(
        label="Username", widget=forms.TextInput(attrs={"autocomplete": "username"})
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].error_messages["required"] = "Enter your username."
        self.fields["password"].error_messages["required"] = "Enter your password."


class SecondFactorForm(NhsForm):
    code = CodeField(
        lengths=(TOTP_CODE_LENGTH, RECOVERY_CODE_LENGTH),
        wrong_shape="Enter the 6-digit code from your authenticator app, "
        "or a 12-digit recovery code.",
        help_text="The 6-digit code your authenticator app shows now. If you do not have your "
        "phone, enter one of your 12-digit recovery codes.",
    )


class EnrolmentCodeForm(NhsForm):
    code = CodeField(
        lengths=(TOTP_CODE_LENGTH,),
        wrong_shape="Enter the 6-digit code your authenticator app shows.",
        help_text="After adding havenkit to your app, enter the 6-digit code it shows.",
    )


class NewPasswordForm(NhsForm):
    """The password a person chooses at first login, to replace the one they were given."""

    new_password = forms.CharField(
        label="New password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": "Enter a new password."},
    )
    new_password_again = forms.CharField(
        label="New password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": "Enter your new password again."},
    )

    def __init__(self, person: User, *args: Any, **kwargs: Any) -> None:
        self.person = person
        super().__init__(*args, **kwargs)
        self.fields["new_password"].help_text = " ".join(
            password_validation.password_validators_help_texts()
        )
        self._describe("new_password")

    def clean_new_password(self) -> str:
        password = self.cleaned_data["new_password"]
        if self.person.check_password(password):
            raise forms.ValidationError(
                "Choose a new password: it must be different from the one you were given."
            )
        password_validation.validate_password(password, self.person)
        return password

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        first, again = data.get("new_password"), data.get("new_password_again")
        if first and again is not None and first != again:
            self.add_error("new_password_again", "The two passwords are not the same.")
        return data


class DateField(forms.DateField):
    """A date typed as YYYY-MM-DD, with a message that says so."""

    def __init__(self, *, label: str, **kwargs: Any) -> None:
        super().__init__(
            label=label,
            help_text="For example, 2026-03-31",
            input_formats=["%Y-%m-%d"],
            error_messages={
                "required": f"Enter the {label.lower()}.",
                "invalid": f"Enter the {label.lower()} as a date like 2026-03-31.",
            },
            widget=forms.DateInput(attrs={"class": "nhsuk-input nhsuk-input--width-10"}),
            **kwargs,
        )


class TrainingForm(NhsForm):
    """A training record as the person types it; the dates' order is checked by the service."""

    course = forms.CharField(
        label="Course", max_length=200, error_messages={"required": "Enter the course name."}
    )
    provider = forms.CharField(
        label="Provider", max_length=200, error_messages={"required": "Enter who ran the course."}
    )
    level = forms.CharField(
        label="Level", max_length=100, error_messages={"required": "Enter the level passed."}
    )
    passed_on = DateField(label="Date passed")
    expires_on = DateField(label="Expiry date")
    evidence = forms.FileField(
        label="Certificate",
        help_text="A PDF or image of the certificate, up to 10 MB.",
        error_messages={"required": "Choose the certificate file."},
        widget=forms.ClearableFileInput(attrs={"class": "nhsuk-file-upload"}),
    )

    def clean_evidence(self) -> Any:
        evidence = self.cleaned_data["evidence"]
        if evidence.size > 10 * 1024 * 1024:
            raise forms.ValidationError("The certificate must be 10 MB or smaller.")
        return evidence


class RegistrationForm(NhsForm):
    """What a person gives to ask for an account; an administrator then checks who they are."""

    full_name = forms.CharField(
        label="Full name", max_length=150, error_messages={"required": "Enter your full name."}
    )
    email = forms.EmailField(
        label="Email address",
        error_messages={
            "required": "Enter your email address.",
            "invalid": "Enter an email address like name@example.org.",
        },
    )
    organisation = forms.CharField(
        label="Organisation",
        max_length=200,
        error_messages={"required": "Enter the organisation you work for."},
    )
    job_title = forms.CharField(
        label="Role in your organisation",
        max_length=200,
        error_messages={"required": "Enter your role, for example Research Fellow."},
    )
    phone = forms.CharField(
        label="Contact telephone",
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel"}),
    )
    username = forms.CharField(
        label="Username",
        max_length=150,
        error_messages={"required": "Choose a username."},
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        error_messages={"required": "Choose a password."},
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["password"].help_text = " ".join(
            password_validation.password_validators_help_texts()
        )
        self._describe("password")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("password"):
            candidate = User(username=data.get("username", ""), email=data.get("email", ""))
            try:
                password_validation.validate_password(data["password"], candidate)
            except forms.ValidationError as error:
                self.add_error("password", error)
        return data


class IdentityCheckForm(NhsForm):
    evidence = forms.CharField(
        label="Evidence seen",
        max_length=300,
        help_text="What you checked the person against, for example a staff card and passport.",
        error_messages={"required": "Say what evidence of identity you checked."},
    )


class ReasonField(forms.CharField):
    """Why an administrator changes an account: required, and written to the audit log."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            label="Reason",
            max_length=500,
            help_text="Written to the audit log, for example the ticket or request it answers.",
            error_messages={"required": "Give a reason: it is written to the audit log."},
            widget=forms.TextInput(attrs={"class": "nhsuk-input"}),
            **kwargs,
        )


class SendByEmailField(forms.BooleanField):
    """Whether the one-time password goes to the person's e-mail rather than onto the page."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            label="Email the one-time password to the person instead of showing it here",
            required=False,
            widget=forms.CheckboxInput(attrs={"class": "nhsuk-checkboxes__input"}),
            **kwargs,
        )


class NewAccountForm(NhsForm):
    """An account an administrator creates: the person gets a one-time password."""

    username = forms.CharField(
        label="Username",
        max_length=150,
        validators=[User.username_validator],
        error_messages={
            "required": "Enter a username.",
            "invalid": "A username may hold only letters, digits and @ . + - _",
        },
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    full_name = forms.CharField(
        label="Full name", max_length=150, error_messages={"required": "Enter the full name."}
    )
    email = forms.EmailField(
        label="Email address",
        error_messages={
            "required": "Enter the email address.",
            "invalid": "Enter an email address like name@example.org.",
        },
    )
    roles = forms.MultipleChoiceField(
        label="Roles",
        choices=Role.choices,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "nhsuk-checkboxes__input"}),
        error_messages={
            "required": "Choose at least one role.",
            "invalid_choice": "Choose roles from the list: %(value)s is not a role in this haven.",
        },
    )
    send_by_email = SendByEmailField()


class RoleChangeForm(NhsForm):
    """A role to grant or revoke, and why."""

    role = forms.ChoiceField(
        label="Role",
        choices=[("", "Choose a role"), *Role.choices],
        error_messages={
            "required": "Choose a role.",
            "invalid_choice": "Choose a role from the list: %(value)s is not a role in this haven.",
        },
        widget=forms.Select(attrs={"class": "nhsuk-select"}),
    )
    reason = ReasonField()


class ReasonForm(NhsForm):
    """Deactivating, reactivating or resetting a second factor needs only a reason."""

    reason = ReasonField()


class OneTimePasswordForm(ReasonForm):
    """Issuing a new one-time password: why, and whether to e-mail it."""

    send_by_email = SendByEmailField()


class ChangePasswordForm(NhsForm, PasswordChangeForm):
    """A signed-in person changing the password they know: Django's form, in the haven's words.

    Django's validators judge the new password; their complaints go on the new password itself
    rather than on its confirmation, where the person would not look for them.
    """

    error_messages = {
        "password_incorrect": "Your current password is not right. Nothing was changed.",
        "password_mismatch": "The two new passwords are not the same.",
    }

    def __init__(self, person: User, *args: Any, rate_limited: str = "", **kwargs: Any) -> None:
        # While the sign-in rate limit holds, the current password is not checked at all.
        self.rate_limited = rate_limited
        super().__init__(person, *args, **kwargs)
        labels_and_required = {
            "old_password": ("Current password", "Enter your current password."),
            "new_password1": ("New password", "Enter a new password."),
            "new_password2": ("New password again", "Enter your new password again."),
        }
        for name, (label, required) in labels_and_required.items():
            self.fields[name].label = label
            self.fields[name].error_messages["required"] = required
        self.fields["old_password"].widget.attrs.pop("autofocus", None)
        self.fields["new_password1"].help_text = " ".join(
            password_validation.password_validators_help_texts()
        )
        self.fields["new_password2"].help_text = ""
        for name, field in self.fields.items():
            field.widget.attrs.pop("aria-describedby", None)
            self._describe(name)

    def clean_old_password(self) -> str:
        if self.rate_limited:
            raise forms.ValidationError(self.rate_limited, code="rate_limited")
        return super().clean_old_password()

    def clean(self) -> dict[str, Any]:
        self.validate_passwords("new_password1", "new_password2")
        self.validate_password_for_user(self.user, "new_password1")
        new, current = self.cleaned_data.get("new_password1"), self.cleaned_data.get("old_password")
        if new and new == current:
            self.add_error("new_password1", "Choose a new password, not the one you have now.")
        return self.cleaned_data
