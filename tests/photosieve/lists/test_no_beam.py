"""The list readers and indexes are core: importing them must not import Beam."""

from __future__ import annotations

import subprocess
import sys


def test_lists_and_index_do_not_import_apache_beam():
    code = (
        "import sys, photosieve.lists, photosieve.index; "
        "sys.exit(1 if any(m.split('.')[0] == 'apache_beam' for m in sys.modules) else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
