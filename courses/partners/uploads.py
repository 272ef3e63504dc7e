"""A package uploaded through the web: a zip, or a folder's files, checked exactly as
``shiftwell courses validate`` checks a path, then imported as a draft.

The upload is spooled by Werkzeug (to temporary files past a few hundred KB) and only
after ``MAX_CONTENT_LENGTH`` allowed it in; then it becomes one zip on disk, so the very
same reader and validator as the CLI's run on it: every limit on names, types, sizes and
counts is checked on the zip's directory before any entry is read. Nothing is written to
the database unless the whole package passes.
"""

from __future__ import annotations

import posixpath
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from courses import services
from courses.models import Course, CourseVersion, Partner
from courses.package import Limits, PackageInvalid
from lms_core import audit
from lms_core.errors import InvalidInput, Problem
from lms_core.extensions import db

#: What a multipart request adds around the files themselves (boundaries, headers).
MULTIPART_SLACK = 64 * 1024
PER_FILE_SLACK = 1024


def request_limits(limits: Limits) -> tuple[int, int]:
    """(max content length, max form parts) for an upload request under ``limits``."""
    return (
        limits.max_total_bytes + MULTIPART_SLACK + PER_FILE_SLACK * limits.max_files,
        limits.max_files + 20,
    )


@dataclass(frozen=True)
class UploadResult:
    result: services.ImportResult
    replaced_draft: bool


def upload_package(
    partner: Partner, package: FileStorage | None, folder: Sequence[FileStorage]
) -> UploadResult:
    """Check and import an upload as a draft of ``partner``; raises PackageInvalid and
    the importer's errors (another partner's slug, an old version) with nothing written."""
    files = [f for f in folder if f.filename]
    if package is not None and package.filename and files:
        raise InvalidInput(
            "Choose a zip or a folder, not both.",
            [Problem("choose a zip or a folder, not both", "package")],
        )
    with tempfile.TemporaryDirectory(prefix="shiftwell-upload-") as tmp:
        target = Path(tmp) / "upload.zip"
        if package is not None and package.filename:
            label = posixpath.basename(package.filename.replace("\\", "/")) or "upload.zip"
            with target.open("wb") as out:
                shutil.copyfileobj(package.stream, out, 1024 * 1024)
        elif files:
            label = _folder_label(files)
            _zip_folder(files, target)
        else:
            raise InvalidInput(
                "Choose the course package: a zip file, or the package's folder.",
                [Problem("choose a zip file or a folder", "package")],
            )
        try:
            parsed = services.check_package(target)
        except PackageInvalid as exc:
            raise _relabelled(exc, str(target), label) from None
    replaced = _replace_draft(partner, parsed.slug, parsed.version, parsed.content_hash)
    result = services.import_parsed(parsed, partner.slug, publish=False)
    if result.created:
        audit.record(
            "course.uploaded",
            target_type="course",
            target_id=parsed.slug,
            partner=partner.slug,
            slug=parsed.slug,
            version=parsed.version,
            source=label,
            replaced_draft=replaced,
        )
    return UploadResult(result, replaced)


def _folder_label(files: Sequence[FileStorage]) -> str:
    first = (files[0].filename or "").replace("\\", "/").lstrip("/")
    top = first.split("/", 1)[0] if "/" in first else ""
    return f"{top}/" if top else "the uploaded folder"


def _zip_folder(files: Sequence[FileStorage], target: Path) -> None:
    """The folder's files, under the paths the browser gave (``webkitdirectory`` sends
    each file's path inside the chosen folder), stored uncompressed: names are checked
    later exactly as in a zip an author made, traversal attempts included."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as archive:
        for upload in files:
            name = (upload.filename or "").replace("\\", "/")
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_STORED
            with archive.open(info, "w", force_zip64=True) as out:
                shutil.copyfileobj(upload.stream, out, 1024 * 1024)


def _relabelled(exc: PackageInvalid, path: str, label: str) -> PackageInvalid:
    """The same problems, naming the upload as the author knows it, not our temp file."""
    problems = [
        Problem(p.message, label if p.location == path else p.location, p.hint)
        for p in exc.problems
    ]
    return PackageInvalid(label, problems)


def _replace_draft(partner: Partner, slug: str, version: str, content_hash: str) -> bool:
    """Uploading the same version number again replaces its draft: no learner has seen it."""
    draft = db.session.scalar(
        select(CourseVersion)
        .join(Course, CourseVersion.course_id == Course.id)
        .where(
            Course.slug == slug,
            Course.partner_id == partner.id,
            CourseVersion.version == version,
            CourseVersion.published_at.is_(None),
        )
    )
    if draft is None or draft.content_hash == content_hash:
        return False
    services.discard_draft(draft)
    return True
