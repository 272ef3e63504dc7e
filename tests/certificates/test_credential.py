"""The Open Badges 3.0 credential, checked as an outside verifier would: with jwcrypto, a
JOSE library the implementation does not use, and the key the credential points to."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import urlsplit

import pytest
from jwcrypto import jwk, jws
from sqlalchemy import select

from certificates.models import Certificate
from lms_core.extensions import db
from tests.certificates.conftest import complete_course
from tests.conftest import login


def _credential(app, client, learner):
    complete_course(app, learner)
    with app.app_context():
        number = db.session.scalar(select(Certificate.number))
    login(client, learner)
    response = client.get(f"/certificates/{number}.jwt")
    assert response.status_code == 200
    return number, response.get_data(as_text=True)


def _dereference(client, url: str):
    """Fetch a URL of ours the way a verifier would, through the test client."""
    response = client.get(urlsplit(url).path)
    assert response.status_code == 200, url
    return response.get_json()


def test_anyone_can_verify_the_signature_with_the_published_key(app, client, catalog, learner):
    number, token = _credential(app, client, learner)
    header = json.loads(jws.base64url_decode(token.split(".")[0]))
    # OB 3.0 §8.2.3: RS256, a kid that dereferences to the JWK, typ JWT, nothing else
    assert set(header) == {"alg", "kid", "typ"}
    assert header["alg"] == "RS256" and header["typ"] == "JWT"
    assert header["kid"].startswith("http://localhost/certificates/keys/")
    key_json = _dereference(client, header["kid"])
    assert "d" not in key_json
    key = jwk.JWK(**key_json)

    verifier = jws.JWS()
    verifier.deserialize(token)
    verifier.verify(key, alg="RS256")  # raises if the signature is wrong
    claims = json.loads(verifier.payload)

    # the JWKS lists the same key
    jwks = jwk.JWKSet.from_json(client.get("/certificates/jwks.json").get_data(as_text=True))
    assert jwks.get_key(key_json["kid"]) is not None

    # OB 3.0 §8.2.4: the registered claims mirror the credential
    assert claims["iss"] == claims["issuer"]["id"]
    assert claims["jti"] == claims["id"] == f"http://localhost/verify/{number}"
    assert claims["sub"] == claims["credentialSubject"]["id"]
    valid_from = dt.datetime.fromisoformat(claims["validFrom"].replace("Z", "+00:00"))
    assert claims["nbf"] == int(valid_from.timestamp())
    assert claims["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert claims["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    subject = claims["credentialSubject"]
    assert subject["identifier"][0]["identityHash"] == "Maria Gómez"
    assert subject["creditsEarned"] == 0.25
    assert subject["achievement"]["name"] == "Steadying Yourself After a Difficult Shift"
    assert "nurse-042" not in verifier.payload.decode()  # the LMS identity stays opaque
    issuer = _dereference(client, claims["iss"])
    assert issuer["type"] == ["Profile"] and issuer["name"] == claims["issuer"]["name"]


def test_a_tampered_credential_fails_verification(app, client, catalog, learner):
    _, token = _credential(app, client, learner)
    header_b64, payload_b64, signature = token.split(".")
    claims = json.loads(jws.base64url_decode(payload_b64))
    claims["credentialSubject"]["creditsEarned"] = 20
    forged_payload = jws.base64url_encode(json.dumps(claims).encode())
    forged = f"{header_b64}.{forged_payload}.{signature}"
    key = jwk.JWK(**_dereference(client, json.loads(jws.base64url_decode(header_b64))["kid"]))
    verifier = jws.JWS()
    verifier.deserialize(forged)
    with pytest.raises(jws.InvalidJWSSignature):
        verifier.verify(key, alg="RS256")


def test_credentials_signed_before_a_key_rotation_still_verify(
    app, client, catalog, learner, tmp_path
):
    _, old_token = _credential(app, client, learner)
    old_kid = json.loads(jws.base64url_decode(old_token.split(".")[0]))["kid"]
    app.config["CERTIFICATES_SIGNING_KEY_FILE"] = str(tmp_path / "new-key.pem")
    complete_course(app, learner, registration="second-attempt")
    keys = client.get("/certificates/jwks.json").get_json()["keys"]
    assert len(keys) == 2
    key = jwk.JWK(**_dereference(client, old_kid))
    verifier = jws.JWS()
    verifier.deserialize(old_token)
    verifier.verify(key, alg="RS256")


def test_an_unknown_key_is_a_404(client):
    assert client.get("/certificates/keys/not-a-key").status_code == 404
    assert client.get("/certificates/issuers/nobody").status_code == 404


def _revoked_bit(client, entry: dict) -> int:
    """Read the certificate's bit the way a Bitstring Status List verifier would."""
    import base64
    import gzip

    response = client.get(urlsplit(entry["statusListCredential"]).path)
    assert response.status_code == 200
    assert response.mimetype == "application/vc+jwt"
    token = response.get_data(as_text=True)
    header = json.loads(jws.base64url_decode(token.split(".")[0]))
    verifier = jws.JWS()
    verifier.deserialize(token)
    verifier.verify(jwk.JWK(**_dereference(client, header["kid"])), alg="RS256")
    status_list = json.loads(verifier.payload)
    assert status_list["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert status_list["id"] == entry["statusListCredential"]
    subject = status_list["credentialSubject"]
    assert subject["type"] == "BitstringStatusList" and subject["statusPurpose"] == "revocation"
    encoded = subject["encodedList"]
    assert encoded.startswith("u")  # multibase base64url, no padding
    bits = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert len(bits) * 8 >= 131_072  # the least the spec allows, for herd privacy
    index = int(entry["statusListIndex"])
    return (bits[index // 8] >> (7 - index % 8)) & 1


def test_a_verifier_reads_a_revocation_from_the_status_list(app, client, runner, catalog, learner):
    number, token = _credential(app, client, learner)
    claims = json.loads(jws.base64url_decode(token.split(".")[1]))
    entry = claims["credentialStatus"]
    assert entry["type"] == "BitstringStatusListEntry" and entry["statusPurpose"] == "revocation"
    assert entry["statusListCredential"].startswith("http://localhost/certificates/status/")
    issuer_of_list = urlsplit(entry["statusListCredential"]).path.split("/")[3]
    assert claims["iss"].endswith(f"/certificates/issuers/{issuer_of_list}")
    assert _revoked_bit(client, entry) == 0

    revoked = runner.invoke(args=["certificates", "revoke", number, "--reason", "Issued in error"])
    assert revoked.exit_code == 0, revoked.output
    assert _revoked_bit(client, entry) == 1
    assert _revoked_bit(app.test_client(), entry) == 1  # anyone may read it, no login
    assert client.get("/certificates/status/nobody-university/0").status_code == 404
    assert client.get(f"/certificates/status/{issuer_of_list}/7").status_code == 404
