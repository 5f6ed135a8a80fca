"""``python -m photosieve.pipelines.sdk_worker``: Beam's SDK worker process, started without its noise.

The local multi-process runner (``--direct_running_mode=multi_processing``)
starts one of these per worker instead of
``python -m apache_beam.runners.worker.sdk_worker_main`` (see
``photosieve.pipelines.running._local_runner``): the same worker, with
:func:`photosieve.pipelines.quiet.install_in_worker` applied before Beam is imported.
"""

from __future__ import annotations

import sys

from photosieve.pipelines import quiet

quiet.install_in_worker()

# Only now: importing Beam logs the apitools warning the filter drops.
from apache_beam.runners.worker import sdk_worker_main

if __name__ == "__main__":
    sdk_worker_main.main(sys.argv)
