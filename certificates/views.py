"""Certificates on the web: public verification and keys, the learner's own certificates,
downloads for the learner and their education department."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from certificates import catalog, credentials, exports, numbering, services, wording
from certificates.forms import NameForm
from certificates.models import Certificate, CertificateExport, CertificateStatus, SigningKey
from lms_core.auth import login_required, roles_required
from lms_core.errors import InvalidInput, ShiftwellError
from lms_core.extensions import db, limiter
from lms_core.models import STAFF_ROLES

bp = Blueprint("certificates", __name__, template_folder="templates")

#: Verification is public: generous for a person, useless for enumerating numbers.
VERIFY_LIMIT = "30 per minute; 300 per hour"


def _amount(certificate: Certificate) -> str:
    return wording.format_amount(certificate.credit_amount)


# -- public ---------------------------------------------------------------------------------


@bp.get("/verify/")
@limiter.limit(VERIFY_LIMIT)
def verify_form() -> Any:
    number = request.args.get("number", "").strip()
    if not number:
        return render_template("certificates/verify_form.html", number="", error=None)
    try:
        canonical = numbering.normalise(number)
    except numbering.NumberMistyped as error:
        return render_template("certificates/verify_form.html", number=number, error=error), 400
    return redirect(url_for("certificates.verify", number=canonical))


@bp.get("/verify/<number>")
@limiter.limit(VERIFY_LIMIT)
def verify(number: str) -> Any:
    """Valid or revoked, holder, course, credit, dates: nothing else about anyone."""
    try:
        canonical = numbering.normalise(number)
    except numbering.NumberMistyped as error:
        return render_template("certificates/verify_form.html", number=number, error=error), 400
    if canonical != number:
        return redirect(url_for("certificates.verify", number=canonical), code=301)
    certificate = services.get_verifiable(canonical)
    response = Response(
        render_template(
            "certificates/verify.html", certificate=certificate, amount=_amount(certificate)
        )
    )
    response.headers["Cache-Control"] = "no-store"  # a revocation must show at once
    return response


@bp.get("/certificates/jwks.json")
@limiter.exempt
def jwks() -> Any:
    """Every key credentials were ever signed with (RFC 7517 JWK Set)."""
    response = jsonify({"keys": credentials.published_keys()})
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/certificates/keys/<kid>")
@limiter.exempt
def public_key(kid: str) -> Any:
    """The JWK a credential's ``kid`` points to (OB 3.0 §8.4, dereferencing the key)."""
    row = db.session.get(SigningKey, kid)
    if row is None:
        abort(404)
    response = jsonify(row.public_jwk)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@bp.get("/certificates/status/<slug>/<int:list_number>")
def status_list(slug: str, list_number: int) -> Any:
    """A BitstringStatusListCredential: which of this issuer's certificates are revoked,
    for verifiers of the Open Badges credentials (each names its list and index)."""
    token = credentials.status_list_credential(slug, list_number)
    if token is None:
        abort(404)
    db.session.commit()  # the signing key's public half, if it signed for the first time
    response = current_app.response_class(token, mimetype="application/vc+jwt")
    # A revocation reaches verifiers within five minutes; /verify/ shows it at once.
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/certificates/issuers/<slug>")
@limiter.exempt
def issuer_profile(slug: str) -> Any:
    """The issuer Profile a credential names (OB 3.0 Profile)."""
    name = None
    partner = catalog.get_partner(slug)
    if partner is not None:
        name = partner.name
    else:
        name = db.session.scalar(
            select(Certificate.partner_name)
            .where(Certificate.partner_slug == slug)
            .order_by(Certificate.id.desc())
            .limit(1)
        )
    if name is None:
        abort(404)
    return jsonify(
        {
            "@context": credentials.CONTEXT,
            "id": credentials.issuer_id(slug),
            "type": ["Profile"],
            "name": name,
        }
    )


# -- the learner and the education department -------------------------------------------


@bp.get("/certificates/")
@login_required
def mine() -> Any:
    certificates = services.learner_certificates(current_user)
    hospital = None
    if current_user.tenant_id and current_user.has_role(*STAFF_ROLES):
        hospital = list(
            db.session.scalars(
                Certificate.for_tenant(current_user.tenant_id)
                .where(Certificate.status != CertificateStatus.AWAITING_NAME)
                .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
                .limit(100)
            )
        )
    return render_template(
        "certificates/mine.html", certificates=certificates, hospital=hospital, amount=_amount
    )


@bp.route("/certificates/<number>/name", methods=["GET", "POST"])
@login_required
def confirm_name(number: str) -> Any:
    certificate = services.get_by_number(number)
    if certificate is None or certificate.user_id != current_user.id:
        abort(404)
    if certificate.status != CertificateStatus.AWAITING_NAME:
        return redirect(url_for("certificates.mine"))
    form = NameForm()
    if form.validate_on_submit():
        try:
            services.confirm_name(certificate, current_user, form.name.data or "")
        except InvalidInput as error:
            form.name.errors = [error.detail]
        else:
            db.session.commit()
            flash(f"Your certificate {certificate.number} is issued.", "success")
            return redirect(url_for("certificates.mine"))
    elif request.method == "GET" and not form.name.data:
        form.name.data = services.name_on_record(current_user) or ""
    status = 400 if request.method == "POST" else 200
    return render_template("certificates/name.html", form=form, certificate=certificate), status


@bp.get("/certificates/<number>.pdf")
@login_required
def download_pdf(number: str) -> Any:
    certificate = _downloadable(number)
    document = services.ensure_document(certificate)
    db.session.commit()  # a PDF rendered on demand is archived like any other
    response = current_app.response_class(document.pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="certificate-{certificate.number}.pdf"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-SHA256"] = document.sha256
    return response


@bp.get("/certificates/<number>.jwt")
@login_required
def download_credential(number: str) -> Any:
    certificate = _downloadable(number)
    if not certificate.credential_jws:
        abort(404)
    response = current_app.response_class(certificate.credential_jws, mimetype="application/jwt")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="credential-{certificate.number}.jwt"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/certificates/exports/<int:export_id>.zip")
@roles_required(*STAFF_ROLES)
def download_export(export_id: int) -> Any:
    export = db.session.get(CertificateExport, export_id)
    if export is None or export.tenant_id != current_user.tenant_id:
        abort(404)
    path = exports.export_file(export)
    if path is None:
        abort(404)
    return send_file(path, mimetype="application/zip", as_attachment=True, download_name=path.name)


def _downloadable(number: str) -> Certificate:
    try:
        return services.certificate_for_download(current_user, number)
    except numbering.NumberMistyped:
        abort(404)
    except ShiftwellError:
        raise
