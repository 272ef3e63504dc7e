"""Certificate PDFs: a Jinja template, WeasyPrint, and everything that makes it fast and safe.

Measured on this project's machine (docs/benchmarks.md), what costs time in a warm
render is building fonts and styles, not the certificate itself. So one process keeps:

- one ``FontConfiguration`` (fontconfig's font list; building it takes ~40 ms),
- the parsed stylesheets of each template folder and paper size,
- the compiled Jinja templates, and the QR code's inline SVG is made by ``segno``.

The template only uses block flow and absolute positioning (flexbox costs ~2.4x in
layout). Fonts come from Debian packages by family name; nothing is fetched from the
network: :class:`LocalOnlyFetcher` refuses any URL that is not ``data:`` or a file inside
the template folders. Partner templates run in Jinja's sandbox.

Rendering is deterministic: the PDF's dates come from the certificate (``dcterms``
metadata), its file identifier is a hash of its content, and font subsets are named by
hash, so the same snapshot gives byte-identical PDFs (tests check this).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import gc
import io
import logging
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import jinja2
import segno
from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

log = logging.getLogger(__name__)

DEFAULT_TEMPLATE_DIR = Path(__file__).parent / "templates" / "certificates" / "pdf" / "default"
TEMPLATE_NAME = "certificate.html"
STYLESHEET_NAME = "certificate.css"
PAPER_SIZES = {"letter": "letter landscape", "a4": "A4 landscape"}
#: PDF/A-3b: archival, and (unlike /A-1 and /A-2) it may carry the signed credential as
#: an embedded file. WeasyPrint writes the XMP metadata and the sRGB output intent.
DEFAULT_PDF_VARIANT = "pdf/a-3b"

# ISO 3166 regions whose offices use US Letter; everyone else uses A4.
LETTER_REGIONS = frozenset({"US", "CA", "MX", "PH", "CL", "CO", "VE", "CR", "GT", "PA", "PR"})


def paper_for_locale(locale: str | None) -> str:
    """``letter`` for the Americas' Letter countries (en-US, fr-CA, es-MX...), else ``a4``."""
    parts = (locale or "").replace("_", "-").split("-")
    regions = {p.upper() for p in parts[1:] if len(p) == 2 and p.isalpha()}
    return "letter" if regions & LETTER_REGIONS else "a4"


@dataclass(frozen=True)
class CertificateView:
    """Everything a certificate template prints; built from the immutable snapshot."""

    number: str
    learner_name: str
    course_title: str
    course_version: str
    partner_name: str
    credit_amount: str
    credit_unit: str
    accreditation: str
    designation: str
    completed_on: str
    issued_on: str
    issued_iso: str  # W3C datetime: the PDF's creation date, so renders are reproducible
    issuing_organisation: str
    tenant_name: str
    verify_url: str
    signatory_name: str
    signatory_title: str
    lang: str = "en"
    paper: str = "letter"
    title: str = "Certificate of Completion"
    kicker: str = "Continuing Education"
    logo_uri: str | None = None  # the partner's logo as a data: URI (else the seal)
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Attachment:
    """A file embedded in the PDF (PDF/A-3 associated file), e.g. the signed credential."""

    filename: str
    content: bytes
    description: str
    relationship: str = "Supplement"


class TemplateError(RuntimeError):
    """A partner's certificate template is missing or broken."""


def _is_local(url: str, roots: tuple[Path, ...]) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "data":
        return True
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        return False
    path = Path(unquote(parts.path)).resolve()
    return any(path.is_relative_to(root) for root in roots)


@functools.cache
def _fetcher_class() -> type:
    # Built on first use: importing WeasyPrint loads Pango and friends, which the web app
    # and most CLI commands never need.
    from weasyprint.urls import URLFetcher

    class _LocalOnlyFetcher(URLFetcher):
        def __init__(self, roots: Iterable[Path]) -> None:
            super().__init__(allowed_protocols={"file", "data"}, allow_redirects=False)
            self.roots = tuple(Path(r).resolve() for r in roots)

        def allows(self, url: str) -> bool:
            return _is_local(url, self.roots)

        def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> Any:
            if not self.allows(url):
                log.warning("certificate template asked for %s; refused (local files only)", url)
                raise ValueError(f"refused {url}: certificates use local files only")
            return super().fetch(url, headers)

    return _LocalOnlyFetcher


def LocalOnlyFetcher(roots: Iterable[Path]) -> Any:
    """WeasyPrint URL fetcher: ``data:`` URLs and files inside ``roots``, nothing else.

    Certificates must render the same in ten years and never leak a learner's name to a
    font CDN, so there is no network access at all, whatever a template asks for.
    """
    return _fetcher_class()(roots)


def qr_data_uri(url: str) -> str:
    """The verification URL as a QR code, a tiny PNG drawn without smoothing.

    A PNG, not segno's SVG: WeasyPrint parses and draws an SVG path in Python, which
    cost 7 ms per certificate; the PNG (4 pixels per module, ~350 bytes) is placed with
    ``image-rendering: pixelated`` (PDF ``/Interpolate false``), so it prints as sharp
    as the vector would.
    """
    qr = segno.make(url, error="m", micro=False)
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=4, border=0, dark="#1b1f23", light="#ffffff")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


class Renderer:
    """Renders certificates; one per process (see :func:`renderer`). Thread-safe."""

    def __init__(self, pdf_variant: str | None = DEFAULT_PDF_VARIANT) -> None:
        from weasyprint.text.fonts import FontConfiguration

        self.pdf_variant = pdf_variant or None
        self.font_config = FontConfiguration()
        self._lock = threading.Lock()
        self._css: dict[tuple[Path | None, str], list[Any]] = {}
        self._environments: dict[Path | None, SandboxedEnvironment] = {}

    # -- cached, per template folder --------------------------------------------------

    def _folders(self, template_dir: Path | None) -> list[Path]:
        return [template_dir, DEFAULT_TEMPLATE_DIR] if template_dir else [DEFAULT_TEMPLATE_DIR]

    def environment(self, template_dir: Path | None) -> SandboxedEnvironment:
        env = self._environments.get(template_dir)
        if env is None:
            loader = ChoiceLoader([FileSystemLoader(str(f)) for f in self._folders(template_dir)])
            # The sandbox: a partner's template may not reach into Python objects.
            env = SandboxedEnvironment(
                loader=loader,
                autoescape=select_autoescape(["html", "svg"]),
                undefined=StrictUndefined,
                trim_blocks=True,
                lstrip_blocks=True,
            )
            self._environments[template_dir] = env
        return env

    def stylesheets(self, template_dir: Path | None, paper: str) -> list[Any]:
        key = (template_dir, paper)
        sheets = self._css.get(key)
        if sheets is None:
            from weasyprint import CSS

            sheets = []
            fetcher = LocalOnlyFetcher(self._folders(template_dir))
            for folder in reversed(self._folders(template_dir)):
                path = folder / STYLESHEET_NAME
                if path.is_file():
                    sheets.append(
                        CSS(
                            filename=str(path),
                            url_fetcher=fetcher,
                            font_config=self.font_config,
                        )
                    )
            size = PAPER_SIZES.get(paper, PAPER_SIZES["a4"])
            sheets.append(CSS(string=f"@page {{ size: {size}; }}", font_config=self.font_config))
            self._css[key] = sheets
        return sheets

    # -- rendering --------------------------------------------------------------------

    def html(self, view: CertificateView, template_dir: Path | None = None) -> str:
        env = self.environment(template_dir)
        try:
            template = env.get_template(TEMPLATE_NAME)
        except jinja2.TemplateError as exc:
            raise TemplateError(f"certificate template in {template_dir}: {exc}") from exc
        context = asdict(view)
        context["qr"] = qr_data_uri(view.verify_url)
        context["logo"] = self._logo(env, view, template_dir)
        return template.render(c=_Namespace(context))

    def _logo(
        self, env: SandboxedEnvironment, view: CertificateView, template_dir: Path | None
    ) -> Markup:
        if view.logo_uri:
            return Markup('<img src="{}" alt="">').format(view.logo_uri)
        return Markup(env.get_template("seal.svg").render())  # noqa: S704 - our own file

    def render(
        self,
        view: CertificateView,
        template_dir: Path | None = None,
        attachments: Iterable[Attachment] = (),
    ) -> bytes:
        """The certificate as PDF bytes (PDF/A-3b unless configured otherwise)."""
        from weasyprint import HTML
        from weasyprint import Attachment as WeasyAttachment

        html = self.html(view, template_dir)
        folders = self._folders(template_dir)
        fetcher = LocalOnlyFetcher(folders)
        with self._lock:  # the shared caches are built under the lock, once
            sheets = self.stylesheets(template_dir, view.paper)
        files = [
            WeasyAttachment(
                string=a.content,
                name=a.filename,
                description=a.description,
                relationship=a.relationship,
                # Fixed dates: an attachment otherwise gets "now" and the PDF changes.
                created=_parse_iso(view.issued_iso),
                modified=_parse_iso(view.issued_iso),
            )
            for a in attachments
        ]
        document = HTML(string=html, base_url=str(folders[0]) + "/", url_fetcher=fetcher).render(
            stylesheets=sheets, font_config=self.font_config
        )
        options: dict[str, Any] = {"pdf_identifier": True, "attachments": files or None}
        if self.pdf_variant:
            options["pdf_variant"] = self.pdf_variant
        return document.write_pdf(**options)


_gc_lock = threading.Lock()
_gc_pauses = 0


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic GC during a render: a layout allocates hundreds of thousands of short-lived
    objects, and the collections they trigger cost ~3 ms (6 %) per certificate. The
    garbage is collected as usual once the render is over. Nested/threaded renders share
    one pause."""
    global _gc_pauses
    with _gc_lock:
        if _gc_pauses == 0:
            was_enabled = gc.isenabled()
            gc.disable()
            _gc_state["enabled"] = was_enabled
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_state["enabled"]:
                gc.enable()


_gc_state: dict[str, bool] = {"enabled": True}


class _Namespace(dict):  # type: ignore[type-arg]
    """``c.name`` in templates, read-only (the sandbox forbids attribute writes anyway)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _parse_iso(value: str) -> Any:
    import datetime as dt

    return dt.datetime.fromisoformat(value)


@functools.cache
def renderer(pdf_variant: str | None = DEFAULT_PDF_VARIANT) -> Renderer:
    """This process's renderer for ``pdf_variant`` (its caches live as long as the process)."""
    return Renderer(pdf_variant)
