"""``python -m lms_core`` is the ``shiftwell`` command."""

from lms_core.cli import main

main()
