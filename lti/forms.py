"""Forms of the LTI pages. Flask-WTF adds a CSRF token to each."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

CREDIT_TYPES = [
    SelectChoice("", "Any credit"),
    SelectChoice("ancc-contact-hours", "ANCC contact hours (nursing)"),
    SelectChoice("ama-pra-category-1", "AMA PRA Category 1 (physicians)"),
    SelectChoice("ipce", "IPCE (interprofessional)"),
    SelectChoice("none", "No credit"),
]
MAX_MINUTES = [
    SelectChoice("", "Any length"),
    SelectChoice("5", "Up to 5 minutes"),
    SelectChoice("10", "Up to 10 minutes"),
    SelectChoice("20", "Up to 20 minutes"),
]


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CourseSearchForm(FlaskForm):
    """The picker's filters: a GET form, so results have a URL and need no token."""

    class Meta:
        csrf = False

    q = StringField("Search courses", validators=[Optional(), Length(max=200)], filters=[_strip])
    credit = SelectField("Credit", choices=CREDIT_TYPES, validators=[Optional()])
    minutes = SelectField("Length", choices=MAX_MINUTES, validators=[Optional()])
    search = SubmitField("Search")


class DeepLinkForm(FlaskForm):
    courses = CheckboxesField("Courses to add", validators=[Optional()])
    add = SubmitField("Add to the course")
    cancel = SubmitField("Cancel: add nothing")


class SyncRosterForm(FlaskForm):
    submit = SubmitField("Sync the roster from the LMS")


class AddPlatformForm(FlaskForm):
    tenant = SelectField("Hospital (tenant)", validators=[DataRequired()])
    name = StringField("Name", validators=[Optional(), Length(max=200)], filters=[_strip])
    issuer = StringField("Issuer", validators=[DataRequired()], filters=[_strip])
    client_id = StringField("Client ID", validators=[DataRequired()], filters=[_strip])
    deployment_id = StringField("Deployment ID", validators=[DataRequired()], filters=[_strip])
    auth_login_url = StringField(
        "OIDC authentication URL", validators=[DataRequired()], filters=[_strip]
    )
    auth_token_url = StringField("Access token URL", validators=[DataRequired()], filters=[_strip])
    keyset_url = StringField(
        "Public keyset (JWKS) URL", validators=[DataRequired()], filters=[_strip]
    )
    auth_audience = StringField(
        "Token audience (only if the LMS names one)", validators=[Optional()], filters=[_strip]
    )
    submit = SubmitField("Register the LMS")


class ApproveForm(FlaskForm):
    tenant = SelectField("Hospital (tenant)", validators=[DataRequired()])
    submit = SubmitField("Approve")


class AddDeploymentForm(FlaskForm):
    deployment_id = StringField("Deployment ID", validators=[DataRequired()], filters=[_strip])
    submit = SubmitField("Add deployment")


class ActionForm(FlaskForm):
    """A button that changes something (enable, disable): only the CSRF token."""

    action = HiddenField()
    submit = SubmitField("Apply")


class RegisterForm(FlaskForm):
    """Dynamic registration's confirmation. The LMS administrator has no Shiftwell login
    (and the registration page may sit in an LMS iframe whose cookies are blocked), so
    its CSRF protection is a signed, short-lived token rather than the session's."""

    class Meta:
        csrf = False

    openid_configuration = HiddenField(validators=[DataRequired()])
    registration_token = HiddenField()
    tenant = HiddenField()
    signature = HiddenField(validators=[DataRequired()])
    submit = SubmitField("Register Shiftwell with this LMS")


class AssignmentForm(FlaskForm):
    """Make a course required for an LMS course by a due date (choices set by the view)."""

    context = SelectField(
        "LMS course", coerce=int, validators=[DataRequired("Choose the LMS course.")]
    )
    course = SelectField("Course", validators=[DataRequired("Choose the course.")])
    due_on = DateField("Due date", validators=[DataRequired("Enter the due date.")])
    submit = SubmitField("Make required")


class RemoveAssignmentForm(FlaskForm):
    submit = SubmitField("Remove")
