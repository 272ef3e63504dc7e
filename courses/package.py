"""Reading an untrusted course package (a folder or a zip) into memory, safely.

Every check on names, types, sizes and counts runs on the zip's central directory (or
the folder's ``lstat``) *before* a single byte is decompressed or read, and nothing is
ever extracted to disk: a package that fails is never half on the server. Problems are
collected, not raised one at a time, so an author sees every one of them in one report.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import stat
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from lms_core.errors import InvalidInput, Problem

#: Extension → media type. Anything else is refused: a package carries no code, no
#: HTML and no SVG (an SVG can carry script).
ALLOWED_TYPES: Mapping[str, str] = {
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".md": "text/markdown",
    ".txt": "text/plain",
    ".vtt": "text/vtt",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
}
TEXT_TYPES = frozenset({".yaml", ".yml", ".md", ".txt", ".vtt"})

#: Leading bytes each binary type must start with: a file is what its name says.
SIGNATURES: Mapping[str, tuple[bytes, ...]] = {
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".gif": (b"GIF87a", b"GIF89a"),
    ".webp": (b"RIFF",),
    ".webm": (b"\x1a\x45\xdf\xa3",),
    ".mp3": (b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"),
    ".ogg": (b"OggS",),
    ".oga": (b"OggS",),
}


@dataclass(frozen=True)
class Limits:
    """What one package may hold. Operators change them with ``SHIFTWELL_COURSES_*``."""

    max_total_bytes: int = 50 * 1024 * 1024
    max_file_bytes: int = 20 * 1024 * 1024
    max_text_bytes: int = 512 * 1024
    max_files: int = 300
    #: Uncompressed size over compressed size. Text compresses about 10 to 1, media hardly
    #: at all; a zip bomb reaches 1000 to 1 and more.
    max_compression_ratio: int = 100

    @classmethod
    def from_config(cls, config: Mapping[str, object]) -> Limits:
        defaults = cls()
        return cls(
            **{
                name: int(config.get(f"COURSES_{name.upper()}", getattr(defaults, name)))  # type: ignore[arg-type]
                for name in cls.__dataclass_fields__
            }
        )


@dataclass
class PackageFiles:
    """A package's files, by normalised relative POSIX path, read into memory."""

    source: str
    files: dict[str, bytes] = field(default_factory=dict)

    def text(self, path: str) -> str:
        return self.files[path].decode("utf-8-sig")

    def content_hash(self) -> str:
        """The same files with the same bytes give the same hash, folder or zip alike."""
        digest = hashlib.sha256()
        for path in sorted(self.files):
            digest.update(path.encode() + b"\0")
            digest.update(hashlib.sha256(self.files[path]).digest())
        return digest.hexdigest()


class PackageInvalid(InvalidInput):
    """The package cannot be used; ``problems`` says every reason, where, and how to fix."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        count = len(problems)
        super().__init__(
            f"The course package {source} has {count} problem{'s' if count != 1 else ''}; "
            "nothing was imported.",
            problems,
        )


def read_package(path: str | os.PathLike[str], limits: Limits | None = None) -> PackageFiles:
    """Read a folder or zip after checking it; raise :class:`PackageInvalid` on any problem."""
    limits = limits or Limits()
    source = Path(path)
    label = str(path)
    if source.is_symlink():
        raise PackageInvalid(
            label,
            [Problem("the package is a symbolic link", label, "give the real folder or zip")],
        )
    if source.is_dir():
        return _read_folder(source, label, limits)
    if not source.exists():
        raise PackageInvalid(
            label,
            [Problem("no such file or folder", label, "check the path to the package")],
        )
    if not source.is_file() or not zipfile.is_zipfile(source):
        raise PackageInvalid(
            label,
            [
                Problem(
                    "not a zip file or a folder",
                    label,
                    "give the package folder, or a .zip made from it (course.yaml at its top)",
                )
            ],
        )
    return _read_zip(source, label, limits)


def _check_name(name: str) -> tuple[str | None, Problem | None]:
    """Normalise a member name, or say why it is refused (traversal, absolute path)."""
    if "\\" in name:
        name = name.replace("\\", "/")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":") or name.startswith("//"):
        return None, Problem(
            "absolute path in the package",
            name,
            "store files with paths relative to the package's top folder",
        )
    parts = PurePosixPath(name).parts
    if ".." in parts:
        return None, Problem(
            "path leaves the package (..)",
            name,
            "remove this entry; files must stay inside the package folder",
        )
    if "\0" in name or any(ord(c) < 32 for c in name):
        return None, Problem("control character in a file name", repr(name), "rename the file")
    normal = posixpath.normpath(name)
    if normal in (".", ""):
        return None, None
    return normal, None


def _check_type(name: str, size: int, limits: Limits) -> list[Problem]:
    problems = []
    base = posixpath.basename(name)
    ext = posixpath.splitext(base)[1].lower()
    if base.startswith(".") or "__MACOSX" in name.split("/"):
        return []  # hidden files and macOS resource forks are skipped, not refused
    if ext not in ALLOWED_TYPES:
        problems.append(
            Problem(
                f"file type {ext or '(none)'} is not allowed",
                name,
                "a package holds course.yaml, Markdown lessons, .txt transcripts, .vtt "
                "captions, PNG/JPEG/GIF/WebP images, MP4/WebM video and MP3/M4A/OGG audio",
            )
        )
    if size > limits.max_file_bytes:
        problems.append(
            Problem(
                f"file is {_mb(size)}, more than the {_mb(limits.max_file_bytes)} allowed",
                name,
                "compress the media or split it",
            )
        )
    elif ext in TEXT_TYPES and size > limits.max_text_bytes:
        problems.append(
            Problem(
                f"text file is {_mb(size)}, more than the {_mb(limits.max_text_bytes)} allowed",
                name,
                "split the lesson into shorter ones",
            )
        )
    return problems


def _skip(name: str) -> bool:
    base = posixpath.basename(name)
    return base.startswith(".") or "__MACOSX" in name.split("/")


def _mb(size: int) -> str:
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def _totals(source: str, names: list[str], total: int, limits: Limits) -> list[Problem]:
    problems = []
    if not names:
        problems.append(
            Problem(
                "the package is empty",
                source,
                "a package needs course.yaml and at least one lesson",
            )
        )
    if len(names) > limits.max_files:
        problems.append(
            Problem(
                f"{len(names)} files, more than the {limits.max_files} allowed",
                source,
                "remove files the course does not use",
            )
        )
    if total > limits.max_total_bytes:
        problems.append(
            Problem(
                f"{_mb(total)} in all, more than the {_mb(limits.max_total_bytes)} allowed",
                source,
                "compress media or host long videos elsewhere",
            )
        )
    return problems


def _read_zip(source: Path, label: str, limits: Limits) -> PackageFiles:
    problems: list[Problem] = []
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise PackageInvalid(
            label, [Problem(f"the zip cannot be read: {exc}", label, "make the zip again")]
        ) from None
    with archive:
        members: list[tuple[str, zipfile.ZipInfo]] = []
        seen: set[str] = set()
        total = 0
        for info in archive.infolist():
            name, problem = _check_name(info.filename)
            if problem:
                problems.append(problem)
                continue
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                problems.append(
                    Problem(
                        "symbolic link in the package",
                        info.filename,
                        "replace the link with the file itself",
                    )
                )
                continue
            if name is None or info.is_dir() or _skip(name):
                continue
            if name in seen:
                problems.append(Problem("the zip holds this path twice", name, "make it again"))
                continue
            seen.add(name)
            if info.flag_bits & 0x1:
                problems.append(Problem("encrypted entry", name, "zip without a password"))
                continue
            problems.extend(_check_type(name, info.file_size, limits))
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > 1024 * 1024 and ratio > limits.max_compression_ratio:
                problems.append(
                    Problem(
                        f"compressed {ratio:.0f}:1, more than {limits.max_compression_ratio}:1 "
                        "(a zip bomb?)",
                        name,
                        "package real course files only",
                    )
                )
            total += info.file_size
            members.append((name, info))
        problems.extend(_totals(label, [n for n, _ in members], total, limits))
        if problems:
            raise PackageInvalid(label, problems)
        package = PackageFiles(label)
        for name, info in members:
            package.files[name] = _read_member(archive, info, label)
    _strip_top_folder(package)
    return package


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, label: str) -> bytes:
    # ZipExtFile stops at the declared size and checks the CRC, so a header that lies
    # about the size cannot make us decompress more than the limits allowed.
    try:
        with archive.open(info) as member:
            data = member.read(info.file_size + 1)
    except (zipfile.BadZipFile, OSError, NotImplementedError, EOFError) as exc:
        raise PackageInvalid(
            label,
            [Problem(f"the entry cannot be read: {exc}", info.filename, "make the zip again")],
        ) from None
    if len(data) != info.file_size:
        raise PackageInvalid(
            label,
            [Problem("the entry's size differs from its header", info.filename, "zip it again")],
        )
    return data


def _strip_top_folder(package: PackageFiles) -> None:
    """Zips made by "compress folder" put everything under one top folder: look inside it."""
    if "course.yaml" in package.files:
        return
    tops = {path.split("/", 1)[0] for path in package.files}
    if len(tops) == 1 and all("/" in p for p in package.files):
        top = tops.pop() + "/"
        package.files = {path[len(top) :]: data for path, data in package.files.items()}


def _read_folder(root: Path, label: str, limits: Limits) -> PackageFiles:
    problems: list[Problem] = []
    entries: list[tuple[str, Path, int]] = []
    total = 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        for name in sorted(dirnames):
            if (here / name).is_symlink():
                rel = (here / name).relative_to(root).as_posix()
                problems.append(
                    Problem(
                        "symbolic link in the package",
                        rel,
                        "replace the link with the folder itself",
                    )
                )
        dirnames[:] = [d for d in sorted(dirnames) if not (here / d).is_symlink()]
        for name in sorted(filenames):
            full = here / name
            rel = full.relative_to(root).as_posix()
            info = full.lstat()
            if stat.S_ISLNK(info.st_mode):
                problems.append(
                    Problem(
                        "symbolic link in the package",
                        rel,
                        "replace the link with the file itself",
                    )
                )
                continue
            if not stat.S_ISREG(info.st_mode) or _skip(rel):
                continue
            problems.extend(_check_type(rel, info.st_size, limits))
            total += info.st_size
            entries.append((rel, full, info.st_size))
    problems.extend(_totals(label, [rel for rel, _, _ in entries], total, limits))
    if problems:
        raise PackageInvalid(label, problems)
    package = PackageFiles(label)
    for rel, full, _size in entries:
        package.files[rel] = full.read_bytes()
    return package


def signature_problem(path: str, data: bytes) -> Problem | None:
    """A binary file whose bytes are not of the type its name claims."""
    ext = posixpath.splitext(path)[1].lower()
    if ext in (".mp4", ".m4a"):
        ok = data[4:8] == b"ftyp"
    elif ext == ".webp":
        ok = data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    elif ext in SIGNATURES:
        ok = data.startswith(SIGNATURES[ext])
    else:
        return None
    if ok:
        return None
    return Problem(
        f"the file's content is not {ALLOWED_TYPES[ext]}",
        path,
        "export the file again in the format its extension names",
    )


def media_type(path: str) -> str:
    return ALLOWED_TYPES.get(posixpath.splitext(path)[1].lower(), "application/octet-stream")
