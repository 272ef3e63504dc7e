"""What a certificate says about its credit, per credit type, in the accreditors' words.

Each accreditor prescribes sentences that must appear on the certificate, with the
accredited provider's name (from the partner's settings) and the credit amount filled
in. The sources are listed in docs/certificates.md; change the wording only from them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from lms_core.errors import InvalidInput

ANCC = "ancc-contact-hours"
AMA = "ama-pra-category-1"
IPCE = "ipce"
NONE = "none"
CREDIT_TYPES = (ANCC, AMA, IPCE)


@dataclass(frozen=True)
class CreditWording:
    """The printed parts of a certificate that depend on the credit type."""

    unit_singular: str  # shown in the credit box under the amount
    unit_plural: str
    accreditation: str  # "X is accredited by ..."
    designation: str  # the sentence naming the amount
    provider_name: str

    def unit(self, amount: Decimal) -> str:
        return self.unit_singular if amount == 1 else self.unit_plural

    @property
    def statement(self) -> str:
        return f"{self.accreditation} {self.designation}".strip()


def credit_amount(value: float | str | Decimal) -> Decimal:
    """Credit in hundredths: accreditors award in quarter hours (0.25) and print 2 decimals."""
    amount = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if amount <= 0:
        raise InvalidInput(f"A certificate needs a positive credit amount, not {value}.")
    return amount


def format_amount(amount: Decimal) -> str:
    """0.25 → "0.25", 1.00 → "1", 1.50 → "1.5": as accreditors print them."""
    text = f"{amount:.2f}".rstrip("0").rstrip(".")
    return text or "0"


def provider_settings(settings: Mapping[str, Any], credit_type: str) -> dict[str, Any]:
    """The partner's accreditation settings for one credit type (see docs/certificates.md).

    Accepted shapes, most specific first::

        {"accreditation": {"ama-pra-category-1": {"provider": "...", "statement": "..."}}}
        {"accreditation": {"provider": "..."}}
        {"accreditation_provider": "..."}
    """
    accreditation = settings.get("accreditation") or {}
    if not isinstance(accreditation, Mapping):
        accreditation = {}
    specific = accreditation.get(credit_type)
    merged: dict[str, Any] = {}
    if isinstance(accreditation.get("provider"), str):
        merged["provider"] = accreditation["provider"]
    if isinstance(settings.get("accreditation_provider"), str):
        merged.setdefault("provider", settings["accreditation_provider"])
    if isinstance(specific, Mapping):
        merged.update(specific)
    elif isinstance(specific, str):
        merged["provider"] = specific
    return merged


def wording_for(
    credit_type: str,
    amount: Decimal,
    partner_name: str,
    settings: Mapping[str, Any] | None = None,
    package_statement: str | None = None,
) -> CreditWording:
    """The wording for ``credit_type``; ``package_statement`` (from the course package)
    replaces the accreditation sentence, never the designation sentence, whose amount must
    match the certificate's."""
    options = provider_settings(settings or {}, credit_type)
    provider = str(options.get("provider") or partner_name).strip()
    amount_text = format_amount(amount)
    if credit_type == ANCC:
        approver = options.get("approver")
        if approver:
            # ANCC approved-provider model: the approver's statement replaces the provider's.
            accreditation = (
                "This nursing continuing professional development activity was approved by "
                f"{approver}, an accredited approver by the American Nurses Credentialing "
                "Center's Commission on Accreditation."
            )
        else:
            accreditation = (
                f"{provider} is accredited as a provider of nursing continuing professional "
                "development by the American Nurses Credentialing Center's Commission on "
                "Accreditation."
            )
        unit = "contact hour" if amount == 1 else "contact hours"
        designation = f"Awarded {amount_text} nursing {unit}."
        wording = CreditWording(
            "Nursing contact hour", "Nursing contact hours", accreditation, designation, provider
        )
    elif credit_type == AMA:
        accreditation = (
            f"{provider} is accredited by the Accreditation Council for Continuing Medical "
            "Education (ACCME) to provide continuing medical education for physicians."
        )
        learning_format = options.get("learning_format") or "enduring material"
        credits = "Credit" if amount == 1 else "Credits"
        # AMA PRA booklet: the designation statement is required verbatim, with the ™.
        designation = (
            f"{provider} designates this {learning_format} for a maximum of {amount_text} "
            f"AMA PRA Category 1 {credits}™. Physicians should claim only the credit "
            "commensurate with the extent of their participation in the activity."
        )
        wording = CreditWording(
            "AMA PRA Category 1 Credit™",
            "AMA PRA Category 1 Credits™",
            accreditation,
            designation,
            provider,
        )
    elif credit_type == IPCE:
        accreditation = (
            f"In support of improving patient care, {provider} is jointly accredited by the "
            "Accreditation Council for Continuing Medical Education (ACCME), the Accreditation "
            "Council for Pharmacy Education (ACPE), and the American Nurses Credentialing "
            "Center (ANCC), to provide continuing education for the healthcare team."
        )
        credits = "credit" if amount == 1 else "credits"
        designation = (
            "This activity was planned by and for the healthcare team, and learners will "
            f"receive {amount_text} Interprofessional Continuing Education (IPCE) {credits} for "
            "learning and change."
        )
        wording = CreditWording("IPCE credit", "IPCE credits", accreditation, designation, provider)
    else:
        raise InvalidInput(
            f"Credit type {credit_type!r} is not one a certificate can carry; use one of "
            f"{', '.join(CREDIT_TYPES)}."
        )
    statement = (package_statement or options.get("statement") or "").strip()
    if statement:
        return CreditWording(
            wording.unit_singular, wording.unit_plural, statement, wording.designation, provider
        )
    return wording
