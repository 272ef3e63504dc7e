"""Forms of the certificates pages. Flask-WTF adds the CSRF token to each."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, StringField, SubmitField
from wtforms.validators import DataRequired, Length


class NameForm(FlaskForm):
    """The name to print, when the learner's LMS sent none."""

    name = StringField(
        "Your name as it should appear on the certificate",
        validators=[
            DataRequired("Enter the name to print on your certificate."),
            Length(max=200, message="Keep the name under 200 characters."),
        ],
        render_kw={"autocomplete": "name", "spellcheck": "false"},
    )
    submit = SubmitField("Issue my certificate")


class ExportForm(FlaskForm):
    """A zip of the hospital's certificates issued between two days (both included)."""

    date_from = DateField("Issued from", validators=[DataRequired("Enter the first day.")])
    date_to = DateField("Issued until (included)", validators=[DataRequired("Enter the last day.")])
    submit = SubmitField("Make the zip")
