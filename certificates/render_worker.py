"""A render process for bulk exports: ``python -m certificates.render_worker``.

Reads a pickled list of render jobs on stdin, writes a pickled list of ``(certificate id,
pdf bytes)`` on stdout. A plain subprocess, not :mod:`multiprocessing`: background work
runs inside Celery's prefork workers, which are daemonic processes, and those may not
start ``multiprocessing`` children. Only our own parent process ever writes to its stdin,
so unpickling is safe here.
"""

from __future__ import annotations

import pickle
import sys
from typing import Any

from certificates import rendering


def render_jobs(jobs: list[tuple[Any, ...]]) -> list[tuple[int, bytes]]:
    results = []
    for certificate_id, variant, view, template_dir, attachments in jobs:
        pdf = rendering.renderer(variant).render(view, template_dir, attachments)
        results.append((certificate_id, pdf))
    return results


def main() -> None:
    jobs = pickle.load(sys.stdin.buffer)  # noqa: S301 - see the module docstring
    pickle.dump(render_jobs(jobs), sys.stdout.buffer, protocol=pickle.HIGHEST_PROTOCOL)
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
