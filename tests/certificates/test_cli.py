"""`shiftwell certificates ...` end to end, as an education department's operator uses it."""

from __future__ import annotations

import json

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from lms_core.extensions import db
from lms_core.models import AuditLog, Role
from tests.certificates.conftest import needs_poppler, pdf_text


@pytest.fixture
def workshop_nurse(make_user, tenant):
    return make_user(tenant, roles=(Role.LEARNER,), subject="nurse-042", name="Maria Gómez")


def _issue(runner, *extra):
    return runner.invoke(
        args=[
            "certificates",
            "issue",
            "--tenant",
            "st-marys",
            "--user-sub",
            "nurse-042",
            "--course",
            "team-huddles",
            "--completed-on",
            "2026-02-20",
            "--format",
            "json",
            *extra,
        ]
    )


@needs_poppler
def test_issue_list_render_verify_revoke(app, runner, catalog, workshop_nurse, tmp_path):
    issued = _issue(runner)
    assert issued.exit_code == 0, issued.output
    [row] = json.loads(issued.output)
    number = row["number"]
    assert row["status"] == "issued" and row["credit_type"] == "ipce"
    assert row["credit_amount"] == "1" and row["completed_on"] == "2026-02-20"

    listing = runner.invoke(
        args=["certificates", "list", "--tenant", "st-marys", "--format", "json"]
    )
    assert [c["number"] for c in json.loads(listing.output)] == [number]
    table = runner.invoke(args=["certificates", "list", "--tenant", "st-marys"])
    assert number in table.output and "NUMBER" in table.output

    out = tmp_path / "cert.pdf"
    rendered = runner.invoke(args=["certificates", "render", number, "--out", str(out)])
    assert rendered.exit_code == 0, rendered.output
    assert PdfReader(out).pages and number in pdf_text(out.read_bytes(), tmp_path)
    assert "Huddles That Help" in pdf_text(out.read_bytes(), tmp_path)

    valid = runner.invoke(args=["certificates", "verify", number.lower(), "--format", "json"])
    assert valid.exit_code == 0
    assert json.loads(valid.output)["status"] == "valid"

    revoked = runner.invoke(
        args=["certificates", "revoke", number, "--reason", "Workshop attendance not confirmed"]
    )
    assert revoked.exit_code == 0, revoked.output
    after = runner.invoke(args=["certificates", "verify", number])
    assert after.exit_code == 1
    assert "status: revoked" in after.output and "Workshop attendance not confirmed" in after.output
    with app.app_context():
        entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "certificate.revoked"))
        assert entry.target_id == number and entry.actor_label == "cli"
        assert entry.details["reason"] == "Workshop attendance not confirmed"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["issue", "--tenant", "nowhere", "--user-sub", "nurse-042", "--course", "team-huddles"],
            "No tenant 'nowhere'",
        ),
        (
            ["issue", "--tenant", "st-marys", "--user-sub", "ghost", "--course", "team-huddles"],
            "No learner with LTI subject 'ghost'",
        ),
        (
            ["issue", "--tenant", "st-marys", "--user-sub", "nurse-042", "--course", "nope"],
            "No course 'nope'",
        ),
        (
            [
                "issue",
                "--tenant",
                "st-marys",
                "--user-sub",
                "nurse-042",
                "--course",
                "breathing-basics",
            ],
            "carries no CE credit",
        ),
        (
            [
                "issue",
                "--tenant",
                "st-marys",
                "--user-sub",
                "nurse-042",
                "--course",
                "team-huddles",
                "--completed-on",
                "2999-01-01",
            ],
            "in the future",
        ),
        (
            [
                "issue",
                "--tenant",
                "st-marys",
                "--user-sub",
                "nurse-042",
                "--course",
                "team-huddles",
                "--name",
                "   ",
            ],
            "Enter the name",
        ),
        (["verify", "7K3M-9QXD-2HPA-4RTX"], "typing mistake"),
        (["verify", "ABC"], "not a certificate number"),
        (["render", "0000-0000-0000-0000", "--out", "/tmp/x.pdf"], "No certificate"),
        (["revoke", "0000-0000-0000-0000", "--reason", "x"], "No certificate"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message_and_writes_nothing(
    app, runner, catalog, workshop_nurse, args, message
):
    result = runner.invoke(args=["certificates", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    listing = runner.invoke(
        args=["certificates", "list", "--tenant", "st-marys", "--format", "json"]
    )
    assert json.loads(listing.output) == []


def test_a_nameless_learner_needs_a_name_on_the_command_line(
    app, runner, catalog, make_user, tenant
):
    make_user(tenant, roles=(Role.LEARNER,), subject="nurse-042")
    refused = _issue(runner)
    assert refused.exit_code == 2 and "--name" in refused.output
    named = _issue(runner, "--name", "Priya Sharma")
    assert named.exit_code == 0 and json.loads(named.output)[0]["learner_name"] == "Priya Sharma"


def test_revoking_twice_or_without_a_reason_is_refused(app, runner, catalog, workshop_nurse):
    number = json.loads(_issue(runner).output)[0]["number"]
    empty = runner.invoke(args=["certificates", "revoke", number, "--reason", "  "])
    assert empty.exit_code == 2 and "Give the reason" in empty.output
    runner.invoke(args=["certificates", "revoke", number, "--reason", "Duplicate"])
    again = runner.invoke(args=["certificates", "revoke", number, "--reason", "Duplicate"])
    assert again.exit_code == 2 and "already revoked" in again.output


def test_help_lists_every_certificates_command(runner):
    out = runner.invoke(args=["certificates", "--help"]).output
    for command in ("issue", "list", "render", "verify", "revoke", "export"):
        assert f"  {command} " in out


def test_workshop_credit_for_someone_who_never_opened_shiftwell(
    app, runner, catalog, workshop_nurse
):
    result = runner.invoke(
        args=[
            "certificates",
            "issue",
            "--tenant",
            "st-marys",
            "--user-sub",
            "new-nurse",
            "--course",
            "team-huddles",
            "--name",
            "Ana Lima",
            "--format",
            "json",
        ]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)[0]["learner_name"] == "Ana Lima"
    with app.app_context():
        from lms_core.models import User

        user = db.session.scalar(select(User).where(User.subject == "new-nurse"))
        assert user.issuer == "https://lms.example.edu" and user.name == "Ana Lima"
        assert Role.LEARNER in user.roles
