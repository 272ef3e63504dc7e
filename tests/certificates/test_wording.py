"""Accreditation wording per credit type, with the provider from the partner's settings."""

from __future__ import annotations

from decimal import Decimal

import pytest

from certificates import wording
from lms_core.errors import InvalidInput


def test_ancc_names_the_accredited_provider_and_the_contact_hours():
    w = wording.wording_for(
        "ancc-contact-hours",
        Decimal("0.25"),
        "Northbridge",
        {"accreditation": {"ancc-contact-hours": {"provider": "Northbridge School of Nursing"}}},
    )
    assert w.accreditation == (
        "Northbridge School of Nursing is accredited as a provider of nursing continuing "
        "professional development by the American Nurses Credentialing Center's Commission "
        "on Accreditation."
    )
    assert w.designation == "Awarded 0.25 nursing contact hours."
    assert w.unit(Decimal("0.25")) == "Nursing contact hours"


def test_ama_carries_its_required_designation_statement_with_the_trademark():
    w = wording.wording_for(
        "ama-pra-category-1", Decimal("1"), "Northbridge", {"accreditation_provider": "NU CME"}
    )
    assert w.designation == (
        "NU CME designates this enduring material for a maximum of 1 AMA PRA Category 1 "
        "Credit™. Physicians should claim only the credit commensurate with the extent of "
        "their participation in the activity."
    )
    assert "(ACCME)" in w.accreditation
    assert w.unit(Decimal("0.5")) == "AMA PRA Category 1 Credits™"


def test_ipce_uses_the_joint_accreditation_statement():
    w = wording.wording_for("ipce", Decimal("1.5"), "Northbridge Health Sciences")
    assert w.accreditation.startswith(
        "In support of improving patient care, Northbridge Health Sciences is jointly accredited"
    )
    assert "receive 1.5 Interprofessional Continuing Education (IPCE) credits" in w.designation


def test_an_ancc_approved_provider_prints_the_approver_statement():
    settings = {
        "accreditation": {"ancc-contact-hours": {"approver": "Colorado Nurses Association"}}
    }
    w = wording.wording_for("ancc-contact-hours", Decimal("1"), "Rocky Clinic", settings)
    assert "approved by Colorado Nurses Association, an accredited approver" in w.accreditation
    assert w.designation == "Awarded 1 nursing contact hour."


def test_a_package_statement_replaces_the_accreditation_sentence_but_not_the_amount():
    w = wording.wording_for("ipce", Decimal("0.25"), "NU", package_statement="Our own statement.")
    assert w.accreditation == "Our own statement."
    assert "receive 0.25 Interprofessional" in w.designation


def test_unknown_credit_types_are_refused():
    with pytest.raises(InvalidInput):
        wording.wording_for("ceu", Decimal("1"), "NU")
