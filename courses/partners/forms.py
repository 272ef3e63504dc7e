"""The partner portal's forms. Flask-WTF puts a CSRF token in each."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from wtforms import EmailField, IntegerField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length, NumberRange

from courses.partners.services import (
    DEFAULT_INVITATION_HOURS,
    MAX_INVITATION_HOURS,
    MAX_PASSWORD_LENGTH,
)


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


class AcceptInvitationForm(FlaskForm):
    name = StringField(
        "Your name",
        validators=[DataRequired("Enter your name."), Length(max=200)],
        filters=[_strip],
        render_kw={"autocomplete": "name"},
    )
    password = PasswordField(
        "Choose a password",
        validators=[DataRequired("Choose a password."), Length(max=MAX_PASSWORD_LENGTH)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "Type the password again",
        validators=[
            DataRequired("Type the password again."),
            EqualTo("password", "The two passwords differ; type the same one twice."),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField("Create my account")


class ActionForm(FlaskForm):
    """A button that changes something (publish, discard, join): the CSRF token only."""


class UploadForm(FlaskForm):
    package = FileField("A zip of the package")
    folder = MultipleFileField("Or the package's folder")
    submit = SubmitField("Upload and check")


class InviteForm(FlaskForm):
    email = EmailField(
        "Author's e-mail address",
        validators=[DataRequired("Enter the author's e-mail address."), Email(), Length(max=254)],
        filters=[_strip],
    )
    partner = SelectField("Partner", validators=[DataRequired("Choose the partner.")])
    hours = IntegerField(
        "Link works for (hours)",
        default=DEFAULT_INVITATION_HOURS,
        validators=[
            DataRequired("Say how many hours the link works."),
            NumberRange(1, MAX_INVITATION_HOURS, f"Between 1 and {MAX_INVITATION_HOURS} hours."),
        ],
    )
    submit = SubmitField("Create invitation link")
