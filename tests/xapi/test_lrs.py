"""The embedded LRS over HTTP, as LRS clients use it (the ADL suite covers the rest)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import uuid
from urllib.parse import quote

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.xapi.conftest import XAPI_HEADERS, statement

AGENT = {
    "objectType": "Agent",
    "account": {"homePage": "https://lms.example.edu", "name": "nurse-1"},
}


def post(client, creds, data, **headers):
    return client.post("/xapi/statements", json=data, headers={**creds.headers, **headers})


def get(client, creds, path="/xapi/statements", **params):
    query = "&".join(
        f"{k}={quote(json.dumps(v) if isinstance(v, dict) else str(v), safe='')}"
        for k, v in params.items()
    )
    return client.get(f"{path}?{query}" if query else path, headers=creds.headers)


def test_statements_are_found_by_agent_verb_activity_registration_and_since(client, lrs):
    registration = str(uuid.uuid4())
    first = post(client, lrs, statement(context={"registration": registration})).json[0]
    other = {
        "objectType": "Agent",
        "account": {"homePage": "https://lms.example.edu", "name": "nurse-2"},
    }
    second = post(
        client,
        lrs,
        [
            statement(actor=other, verb={"id": "http://adlnet.gov/expapi/verbs/answered"}),
            statement(object={"id": "https://courses.example.org/other"}),
        ],
    ).json
    stored = get(client, lrs, statementId=second[1]).json["stored"]

    def ids(**params):
        response = get(client, lrs, **params)
        assert response.status_code == 200, response.json
        return [s["id"] for s in response.json["statements"]]

    assert ids() == [second[1], second[0], first]  # newest first
    assert ids(ascending="true") == [first, second[0], second[1]]
    assert ids(agent=AGENT) == [second[1], first]
    assert ids(verb="http://adlnet.gov/expapi/verbs/answered") == [second[0]]
    assert ids(activity="https://courses.example.org/resilience") == [second[0], first]
    assert ids(registration=registration) == [first]
    assert ids(agent=other, verb="http://adlnet.gov/expapi/verbs/experienced") == []
    assert ids(until=stored) == [second[1], second[0], first]
    assert ids(since=stored) == []
    assert ids(agent={"mbox": "mailto:nobody@example.org"}) == []


def test_more_pages_through_every_statement_once(client, lrs):
    sent = post(client, lrs, [statement() for _ in range(7)]).json
    seen, url = [], f"/xapi/statements?limit=3&agent={quote(json.dumps(AGENT))}"
    while url:
        page = client.get(url, headers=lrs.headers).json
        seen.extend(s["id"] for s in page["statements"])
        url = page["more"]
    assert seen == list(reversed(sent))


def test_a_voided_statement_disappears_but_what_targets_it_is_found_by_its_filters(client, lrs):
    original = post(client, lrs, statement()).json[0]
    voiding = post(
        client,
        lrs,
        statement(
            actor={"mbox": "mailto:educator@hospital.example"},
            verb={"id": "http://adlnet.gov/expapi/verbs/voided"},
            object={"objectType": "StatementRef", "id": original},
        ),
    ).json[0]
    assert get(client, lrs, statementId=original).status_code == 404
    assert get(client, lrs, voidedStatementId=original).json["id"] == original
    # Communication §2.1.3: the voiding statement matches the voided one's agent.
    found = get(client, lrs, agent=AGENT).json["statements"]
    assert [s["id"] for s in found] == [voiding]


def test_a_reference_stored_before_its_target_matches_once_the_target_arrives(client, lrs):
    target = str(uuid.uuid4())
    reference = post(
        client,
        lrs,
        statement(
            actor={"mbox": "mailto:educator@hospital.example"},
            verb={"id": "http://adlnet.gov/expapi/verbs/attested"},
            object={"objectType": "StatementRef", "id": target},
        ),
    ).json[0]
    assert (
        get(client, lrs, activity="https://courses.example.org/resilience").json["statements"] == []
    )
    post(client, lrs, statement(id=target))
    found = get(client, lrs, activity="https://courses.example.org/resilience").json["statements"]
    assert [s["id"] for s in found] == [target, reference]


def test_the_same_statement_again_is_accepted_and_a_different_one_under_its_id_conflicts(
    client, lrs
):
    data = statement(id=str(uuid.uuid4()))
    assert post(client, lrs, data).status_code == 200
    assert post(client, lrs, data).status_code == 200
    changed = {**data, "verb": {"id": "http://adlnet.gov/expapi/verbs/failed"}}
    response = post(client, lrs, changed)
    assert response.status_code == 409
    assert "already stored" in response.json["detail"]
    assert len(get(client, lrs).json["statements"]) == 1


def test_attachments_travel_in_multipart_mixed_both_ways(client, lrs):
    data = b"\x89PNG\r\n--not-a-boundary\r\n" + bytes(range(256))
    sha2 = hashlib.sha256(data).hexdigest()
    body_statement = statement(
        attachments=[
            {
                "usageType": "http://id.tincanapi.com/attachment/certificate-of-completion",
                "display": {"en-US": "Certificate"},
                "contentType": "image/png",
                "length": len(data),
                "sha2": sha2,
            }
        ]
    )
    boundary = "xapi-boundary-1"
    body = (
        (
            f"--{boundary}\r\nContent-Type: application/json\r\n\r\n"
            f"{json.dumps(body_statement)}\r\n"
            f"--{boundary}\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: binary\r\n"
            f"X-Experience-API-Hash: {sha2}\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--".encode()
    )
    headers = {**lrs.headers, "Content-Type": f"multipart/mixed; boundary={boundary}"}
    statement_id = client.post("/xapi/statements", data=body, headers=headers).json[0]

    response = get(client, lrs, statementId=statement_id, attachments="true")
    assert response.mimetype == "multipart/mixed"
    raw = response.get_data()
    assert data in raw and f"X-Experience-API-Hash: {sha2}".encode() in raw

    without_data = dict(body_statement, id=str(uuid.uuid4()))
    missing = post(client, lrs, without_data)
    assert missing.status_code == 400
    assert "no fileUrl" in missing.json["detail"]


def _signed(
    data: dict, *, key: rsa.RSAPrivateKey, certificate: x509.Certificate | None
) -> tuple[bytes, str]:
    headers = (
        {"x5c": [base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()]}
        if certificate
        else None
    )
    token = jwt.encode(data, key, algorithm="RS256", headers=headers).encode()
    signed = dict(
        data,
        attachments=[
            {
                "usageType": "http://adlnet.gov/expapi/attachments/signature",
                "display": {"en-US": "Signature"},
                "contentType": "application/octet-stream",
                "length": len(token),
                "sha2": hashlib.sha256(token).hexdigest(),
            }
        ],
    )
    boundary = "sig-boundary"
    body = (
        (
            f"--{boundary}\r\nContent-Type: application/json\r\n\r\n{json.dumps(signed)}\r\n"
            f"--{boundary}\r\nContent-Type: application/octet-stream\r\n"
            "Content-Transfer-Encoding: binary\r\n"
            f"X-Experience-API-Hash: {hashlib.sha256(token).hexdigest()}\r\n\r\n"
        ).encode()
        + token
        + f"\r\n--{boundary}--".encode()
    )
    return body, f"multipart/mixed; boundary={boundary}"


def test_a_signed_statement_is_checked_against_its_certificate(client, lrs):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Northbridge University")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    body, content_type = _signed(statement(), key=key, certificate=certificate)
    headers = {**lrs.headers, "Content-Type": content_type}
    assert client.post("/xapi/statements", data=body, headers=headers).status_code == 200

    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged, content_type = _signed(statement(), key=other_key, certificate=certificate)
    response = client.post(
        "/xapi/statements", data=forged, headers={**lrs.headers, "Content-Type": content_type}
    )
    assert response.status_code == 400
    assert "certificate" in response.json["detail"]


def test_documents_are_guarded_by_their_etags(client, lrs):
    params = f"activityId={quote('https://courses.example.org/resilience')}&profileId=settings"
    url = f"/xapi/activities/profile?{params}"
    json_headers = {**lrs.headers, "Content-Type": "application/json"}
    assert (
        client.put(url, data='{"a": 1}', headers={**json_headers, "If-None-Match": "*"}).status_code
        == 204
    )
    first = client.get(url, headers=lrs.headers)
    etag = first.headers["ETag"]
    assert etag == f'"{hashlib.sha1(first.get_data()).hexdigest()}"'
    assert client.put(url, data='{"a": 2}', headers=json_headers).status_code == 409
    assert (
        client.post(url, data='{"b": 3}', headers={**json_headers, "If-Match": etag}).status_code
        == 204
    )
    stale = client.put(url, data='{"a": 9}', headers={**json_headers, "If-Match": etag})
    assert stale.status_code == 412
    assert client.get(url, headers=lrs.headers).json == {"a": 1, "b": 3}


@pytest.mark.parametrize(
    ("data", "where"),
    [
        (statement(actor={"mbox": "nurse@hospital.example"}), "/actor/mbox"),
        (statement(verb={"id": "experienced"}), "/verb/id"),
        (statement(result={"score": {"scaled": 1.5}}), "/result/score/scaled"),
        (statement(result={"duration": "4 minutes"}), "/result/duration"),
        (statement(timestamp="2024-05-01T08:30:00.000-00:00"), "/timestamp"),
        (statement(context={"registration": "not-a-uuid"}), "/context/registration"),
        (statement(Verb={"id": "http://adlnet.gov/expapi/verbs/experienced"}), "/Verb"),
        (
            [
                statement(),
                statement(
                    object={"id": "https://x.example", "definition": {"name": {"en_US": "x"}}}
                ),
            ],
            "/1/object/definition/name/en_US",
        ),
    ],
)
def test_an_invalid_statement_is_refused_with_400_naming_where_and_nothing_is_stored(
    client, lrs, data, where
):
    response = post(client, lrs, data)
    assert response.status_code == 400
    problem = response.json
    assert any(e["location"].endswith(where) for e in problem["errors"]), problem
    assert get(client, lrs).json["statements"] == []


@pytest.mark.parametrize(
    ("path", "body", "headers", "expected"),
    [
        ("/xapi/statements?Agent=x", None, {}, "case-sensitive"),
        ("/xapi/statements?limit=-1", None, {}, "limit"),
        (
            "/xapi/statements",
            b"{not json",
            {"Content-Type": "application/json"},
            "not valid UTF-8 JSON",
        ),
        (
            "/xapi/statements",
            b"<statement/>",
            {"Content-Type": "application/xml"},
            "application/json",
        ),
        ("/xapi/statements", None, {"X-Experience-API-Version": "2.0.0"}, "1.0.x"),
        ("/xapi/activities/state?activityId=x", None, {}, "IRI"),
    ],
)
def test_a_bad_request_gets_400_with_a_message_never_500(
    client, lrs, path, body, headers, expected
):
    method = client.post if body is not None else client.get
    response = method(path, data=body, headers={**lrs.headers, **headers})
    assert response.status_code == 400
    assert expected in response.json["detail"]
    assert response.headers["X-Experience-API-Version"] == "1.0.3"


def test_credentials_see_only_their_own_tenants_data(client, lrs, make_tenant, make_credentials):
    other = make_credentials(make_tenant("st-lukes", "St Luke's"))
    mine = post(client, lrs, statement()).json[0]
    state = f"/xapi/activities/state?activityId={quote('https://x.example/a')}&agent={quote(json.dumps(AGENT))}&stateId=s"
    client.put(state, data=b"mine", headers={**lrs.headers, "Content-Type": "text/plain"})

    assert get(client, other).json["statements"] == []
    assert get(client, other, statementId=mine).status_code == 404
    assert client.get(state, headers=other.headers).status_code == 404
    more = get(client, lrs, limit=1)
    post(client, lrs, statement())
    page = get(client, lrs, limit=1).json
    assert page["more"] and more.status_code == 200
    assert client.get(page["more"], headers=other.headers).status_code == 400


def test_read_only_credentials_cannot_write_and_bad_ones_get_401(
    client, lrs, make_credentials, tenant
):
    reader = make_credentials(tenant, read_only=True)
    assert post(client, reader, statement()).status_code == 403
    assert get(client, reader).status_code == 200
    wrong = client.get(
        "/xapi/statements", headers={**XAPI_HEADERS, "Authorization": "Basic Zm9vOmJhcg=="}
    )
    assert wrong.status_code == 401
    assert wrong.headers["WWW-Authenticate"].startswith("Basic")
    assert client.get("/xapi/about").json["version"][0] == "1.0.3"  # about needs nothing


def test_the_alternate_request_syntax_and_cors_serve_browser_clients(client, lrs):
    statement_id = str(uuid.uuid4())
    form = {
        "statementId": statement_id,
        "content": json.dumps(statement()),
        "Authorization": lrs.headers["Authorization"],
        "X-Experience-API-Version": "1.0.3",
    }
    assert client.post("/xapi/statements?method=PUT", data=form).status_code == 204
    preflight = client.options(
        "/xapi/statements",
        headers={
            "Origin": "https://player.example.org",
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "authorization,x-experience-api-version,content-type",
        },
    )
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "x-experience-api-version" in preflight.headers["Access-Control-Allow-Headers"].lower()
    head = client.head(f"/xapi/statements?statementId={statement_id}", headers=lrs.headers)
    assert head.status_code == 200 and head.get_data() == b""
    assert head.headers["X-Experience-API-Consistent-Through"]
