"""Open Badges 3.0 credentials: a signed, machine-verifiable twin of each certificate.

Format: an ``OpenBadgeCredential`` (W3C Verifiable Credentials Data Model 2.0) secured as
a VC-JWT, the "JSON Web Token Proof Format" of Open Badges 3.0 §8.2:

- JOSE header ``{"alg": "RS256", "kid": <URL of the public JWK>, "typ": "JWT"}``. RS256
  because §8.2.3 makes it the one algorithm every OB 3.0 verifier must support; ``kid``
  is a URL that dereferences to the JWK (§8.2.3, §8.4 "Dereferencing the Public Key").
- JWT payload: the credential itself plus ``iss`` (= issuer.id), ``jti`` (= id), ``nbf``
  (= validFrom) and ``sub`` (= credentialSubject.id), §8.2.4.

Revocation travels with it: ``credentialStatus`` is a W3C Bitstring Status List v1.0
entry pointing into its issuer's status list (``/certificates/status/<partner>/<n>``), a
credential of its own, signed the same way, that any verifier can fetch to see whether
the bit for this certificate is set, without asking us who holds it.

Keys: the private key is a PEM file (``SHIFTWELL_CERTIFICATES_SIGNING_KEY_FILE``, default
``instance/certificates-signing-key.pem``, created on first use with mode 0600) or PEM text
in ``SHIFTWELL_CERTIFICATES_SIGNING_KEY``. Its public half is recorded in
``certificates_signing_key`` the first time it signs and published for ever at
``/certificates/keys/<thumbprint>`` and in ``/certificates/jwks.json``, so a credential
signed before a key rotation still verifies.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import gzip
import json
import logging
import os
import uuid
from pathlib import Path
from typing import Any

from flask import current_app
from joserfc import jws
from joserfc.jwk import RSAKey
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from certificates.models import Certificate, CertificateSource, CertificateStatus, SigningKey
from lms_core.extensions import db

log = logging.getLogger(__name__)

ALGORITHM = "RS256"
KEY_BITS = 3072
CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
#: Entries per status list: 131,072 bits (16 KiB), the least Bitstring Status List v1.0
#: allows, so that a verifier fetching a list learns nothing of which entry it wanted.
STATUS_LIST_SIZE = 131_072
# A fixed namespace: a learner's subject URN must stay the same across reinstalls.
SUBJECT_NAMESPACE = uuid.UUID("6f0b3f4e-8d0c-5a59-9d1e-3c1b7a8e2f44")


class SigningKeyError(RuntimeError):
    """The configured signing key cannot be read or is not an RSA private key."""


# -- keys -------------------------------------------------------------------------------


def key_path() -> Path:
    configured = current_app.config.get("CERTIFICATES_SIGNING_KEY_FILE")
    if configured:
        return Path(configured)
    return Path(current_app.instance_path) / "certificates-signing-key.pem"


def signing_key() -> RSAKey:
    """This installation's private key, read once per process (created on first use)."""
    pem = current_app.config.get("CERTIFICATES_SIGNING_KEY")
    if pem:
        return _import_private(str(pem))
    path = key_path()
    if not path.exists():
        _create_key_file(path)
    stat = path.stat()
    return _load_key_file(str(path), stat.st_mtime_ns)


@functools.lru_cache(maxsize=4)
def _load_key_file(path: str, mtime_ns: int) -> RSAKey:
    return _import_private(Path(path).read_text())


@functools.lru_cache(maxsize=4)
def _import_private(pem: str) -> RSAKey:
    try:
        key = RSAKey.import_key(pem)
    except ValueError as exc:
        raise SigningKeyError(f"the certificate signing key is not a PEM RSA key: {exc}") from exc
    if not key.is_private:
        raise SigningKeyError("the certificate signing key must be the private key")
    return key


def _create_key_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    key = RSAKey.generate_key(KEY_BITS, private=True)
    try:
        # O_EXCL: two processes starting together never overwrite each other's key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as handle:
        handle.write(key.as_pem(private=True))
    log.info("certificates: created a new signing key at %s", path)


def public_jwk(key: RSAKey) -> dict[str, Any]:
    jwk = key.as_dict(private=False)
    assert "d" not in jwk  # OB 3.0 §8.2.3: a published JWK MUST never contain "d"
    return {**jwk, "kid": key.thumbprint(), "alg": ALGORITHM, "use": "sig"}


def register_public_key(key: RSAKey) -> SigningKey:
    """Record the key's public half (once), in a savepoint so a race costs nothing."""
    kid = key.thumbprint()
    row = db.session.get(SigningKey, kid)
    if row is not None:
        return row
    row = SigningKey(kid=kid, algorithm=ALGORITHM, public_jwk=public_jwk(key))
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        row = db.session.get(SigningKey, kid)
        assert row is not None
    return row


def published_keys() -> list[dict[str, Any]]:
    return [k.public_jwk for k in db.session.scalars(select(SigningKey).order_by(SigningKey.kid))]


# -- the credential ---------------------------------------------------------------------


def base_url() -> str:
    return str(current_app.config["BASE_URL"]).rstrip("/")


def key_url(kid: str) -> str:
    return f"{base_url()}/certificates/keys/{kid}"


def issuer_id(partner_slug: str) -> str:
    return f"{base_url()}/certificates/issuers/{partner_slug}"


def subject_id(certificate: Certificate) -> str:
    """A stable, opaque URN for the learner: the LMS identity, never exposed as such."""
    identity = "|".join(
        str(part or "")
        for part in (certificate.tenant_id, certificate.learner_issuer, certificate.learner_subject)
    )
    return f"urn:uuid:{uuid.uuid5(SUBJECT_NAMESPACE, identity)}"


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def build_credential(certificate: Certificate) -> dict[str, Any]:
    """The OpenBadgeCredential for an issued certificate (OB 3.0 §B.1.1)."""
    assert certificate.issued_at is not None and certificate.learner_name
    # The issuer is the partner institution; the accredited provider (which may be one of
    # its schools, per credit type) is named in the achievement's description.
    issuer = {
        "id": issuer_id(certificate.partner_slug),
        "type": ["Profile"],
        "name": certificate.partner_name,
    }
    if certificate.source == CertificateSource.COURSE:
        criteria = (
            "Completed every required step of the course and reached its pass score in Shiftwell."
        )
    else:
        criteria = "Completed the activity, as recorded by the learner's education department."
    achievement = {
        "id": f"{base_url()}/certificates/achievements/{certificate.course_slug}/"
        f"{certificate.course_version}",
        "type": ["Achievement"],
        "achievementType": "CertificateOfCompletion",
        "name": certificate.course_title,
        "description": (
            f"{certificate.course_title} (version {certificate.course_version}), offered by "
            f"{certificate.partner_name}. {certificate.accreditation} {certificate.designation}"
        ),
        "criteria": {"narrative": criteria},
        "creditsAvailable": float(certificate.credit_amount),
        "creator": issuer,
        "inLanguage": certificate.course_language,
        "version": certificate.course_version,
        "tag": [certificate.credit_type],
    }
    return {
        "@context": CONTEXT,
        "id": certificate.verify_url,
        "credentialStatus": status_entry(certificate),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": issuer,
        "validFrom": _iso(certificate.issued_at),
        "name": f"{certificate.course_title}: {certificate.credit_unit}",
        "credentialSubject": {
            "id": subject_id(certificate),
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityType": "name",
                    "hashed": False,
                    "identityHash": certificate.learner_name,
                }
            ],
            "activityEndDate": _iso(
                dt.datetime.combine(certificate.completed_on, dt.time(), tzinfo=dt.UTC)
            ),
            "creditsEarned": float(certificate.credit_amount),
            "achievement": achievement,
        },
    }


def sign_credential(certificate: Certificate) -> tuple[str, str]:
    """(compact JWS, kid) for ``certificate``; registers the public key if it is new."""
    if certificate.id is None:
        db.session.flush()  # the status list index is the certificate's id
    credential = build_credential(certificate)
    return _sign(
        {
            **credential,
            "iss": credential["issuer"]["id"],
            "jti": credential["id"],
            "nbf": int(certificate.issued_at.timestamp()),  # type: ignore[union-attr]
            "sub": credential["credentialSubject"]["id"],
        }
    )


def _sign(claims: dict[str, Any]) -> tuple[str, str]:
    key = signing_key()
    row = register_public_key(key)
    header = {"alg": ALGORITHM, "kid": key_url(row.kid), "typ": "JWT"}
    payload = json.dumps(claims, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    token = jws.serialize_compact(header, payload.encode("utf-8"), key, algorithms=[ALGORITHM])
    return token, row.kid


# -- revocation: Bitstring Status List v1.0 ----------------------------------------------


def status_list_url(partner_slug: str, list_number: int) -> str:
    return f"{base_url()}/certificates/status/{partner_slug}/{list_number}"


def status_entry(certificate: Certificate) -> dict[str, Any]:
    """Where a verifier reads whether ``certificate`` is revoked (a BitstringStatusListEntry).

    The index is the certificate's id: stable, never reused, and lists stay per issuer
    (the status list's issuer must be the credential's)."""
    list_number, index = divmod(certificate.id, STATUS_LIST_SIZE)
    url = status_list_url(certificate.partner_slug, list_number)
    return {
        "id": f"{url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": str(index),
        "statusListCredential": url,
    }


def status_list_credential(partner_slug: str, list_number: int) -> str | None:
    """The signed BitstringStatusListCredential, as it stands now; None if that issuer has
    no certificate in the list's range."""
    low = list_number * STATUS_LIST_SIZE
    in_range = (
        Certificate.partner_slug == partner_slug,
        Certificate.id >= low,
        Certificate.id < low + STATUS_LIST_SIZE,
    )
    if db.session.scalar(select(Certificate.id).where(*in_range).limit(1)) is None:
        return None
    bits = bytearray(STATUS_LIST_SIZE // 8)
    revoked = select(Certificate.id).where(
        *in_range, Certificate.status == CertificateStatus.REVOKED
    )
    for certificate_id in db.session.scalars(revoked):
        index = certificate_id - low
        bits[index // 8] |= 0x80 >> (index % 8)  # index 0 is the first byte's leftmost bit
    # Multibase base64url without padding ("u"), of the GZIP-compressed bitstring.
    encoded = "u" + base64.urlsafe_b64encode(gzip.compress(bytes(bits), mtime=0)).decode()
    url = status_list_url(partner_slug, list_number)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    credential = {
        "@context": [CONTEXT[0]],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_id(partner_slug),
        "validFrom": _iso(now),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encoded.rstrip("="),
        },
    }
    token, _ = _sign(
        {**credential, "iss": credential["issuer"], "jti": url, "iat": int(now.timestamp())}
    )
    return token
