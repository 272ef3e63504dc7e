"""Signed statements (Data §2.6): a JWS over the statement, sent as an attachment.

The LRS checks that the signature is well formed, uses an RSA algorithm, and signs the
statement it came with; when the JWS header carries an X.509 certificate (``x5c``) the
signature is verified against it. That catches mistakes, not forgers (§2.6.s5, note):
trusting a signer is the consumer's decision.
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

import jwt
from cryptography import x509

from xapi.validation import StatementInvalid

if TYPE_CHECKING:
    from xapi.store import AttachmentData

ALGORITHMS = ("RS256", "RS384", "RS512")
CONTENT_TYPE = "application/octet-stream"


def verify(statement: dict[str, Any], attachment: dict[str, Any], data: AttachmentData) -> None:
    """Raise :class:`StatementInvalid` unless ``data`` is a good signature of ``statement``."""
    from xapi.store import same_statement

    if attachment["contentType"].split(";")[0].strip().lower() != CONTENT_TYPE:
        raise StatementInvalid(
            f"A signature attachment must have contentType {CONTENT_TYPE}, "
            f"not {attachment['contentType']!r} (Data §2.6.s4.b1)."
        )
    jws = jwt.PyJWS()
    try:
        token = data.content.decode("ascii").strip()
        parts = jws.decode_complete(token, options={"verify_signature": False})
    except (UnicodeDecodeError, jwt.InvalidTokenError) as exc:
        raise StatementInvalid(
            f"The signature is not a JWS in compact serialisation: {exc}."
        ) from None
    header = parts["header"]
    if header.get("alg") not in ALGORITHMS:
        raise StatementInvalid(
            f"The signature uses {header.get('alg')!r}; xAPI allows only "
            f"{', '.join(ALGORITHMS)} (Data §2.6.s4.b4)."
        )
    try:
        signed = json.loads(parts["payload"])
    except ValueError:
        raise StatementInvalid(
            "The signature's payload is not a JSON statement (Data §2.6.s4.b3)."
        ) from None
    if not isinstance(signed, dict) or not same_statement(signed, _unsigned(statement)):
        raise StatementInvalid(
            "The signature's payload is not the statement it is attached to (Data §2.6.s5.b3)."
        )
    if "x5c" in header:
        _verify_certificate(jws, token, header)


def _unsigned(statement: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in statement.items() if k != "attachments"}


def _verify_certificate(jws: jwt.PyJWS, token: str, header: dict[str, Any]) -> None:
    try:
        chain = header["x5c"]
        certificate = x509.load_der_x509_certificate(base64.b64decode(chain[0]))
        jws.decode_complete(token, key=certificate.public_key(), algorithms=list(ALGORITHMS))
    except (ValueError, TypeError, IndexError, KeyError, jwt.InvalidTokenError) as exc:
        raise StatementInvalid(
            f"The signature does not verify against the certificate in its x5c header: {exc}."
        ) from None
