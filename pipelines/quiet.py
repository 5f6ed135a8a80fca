"""Quiet command-line runs: Beam's import-time and per-worker messages silenced where they start.

A normal run and ``--help`` printed lines that say nothing about the run:

* ``apitools not found, and bigquery client libraries are not available``:
  a ``logging.warning`` on the root logger when Beam's BigQuery client
  module is imported (every ``import apache_beam``, also in each SDK worker
  process, where it also installs a stderr handler: ``logging.warning``
  calls ``basicConfig()`` on a root logger without handlers, so every later
  worker record is printed to stderr as well as sent to the runner).
* ``No module named google.cloud.bigquery_storage_v1 ...``: INFO of
  ``apache_beam.io.gcp.bigquery`` at import.
* ``No semi_persistent_directory found``: each SDK worker's start-up (no
  main session to load: photosieve is an installed package), relayed by
  the runner as a ``Worker: ...`` warning.
* ``Discarding unparseable args: ['--direct_runner_use_stacked_bundle',
  '--pipeline_type_check']``: also per worker, because the options handed
  to the workers held every default, and Beam cannot parse back two of
  them; ``running._local_runner`` hands over only the options that were set.

:func:`install` drops the apitools record (a filter on its message) and
keeps Beam's own loggers at WARNING; ``-v`` brings them back. The local
multi-process runner starts its workers with ``python -m photosieve.pipelines.sdk_worker``,
which applies :func:`install_in_worker` before Beam is imported.
"""

from __future__ import annotations

import logging

__all__ = ["NOISE", "install", "install_in_worker"]

# Messages (their start) that carry no information for a photosieve run.
NOISE = ("apitools not found", "No semi_persistent_directory found")
# Beam's loggers stay at this level unless --verbose.
BEAM_LEVEL = logging.WARNING
_BEAM_LOGGER = "apache_beam"


class _DropNoise(logging.Filter):
    """Rejects records whose message starts with one of :data:`NOISE`."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith(NOISE))


_FILTER = _DropNoise()


def install(*, verbose: bool) -> None:
    """Quiet (or, with ``verbose``, restore) Beam's logging in this process; idempotent.

    The filter sits on the root logger, where the apitools warning is
    logged directly (a logger's filters see only its own records).
    """
    root = logging.getLogger()
    beam = logging.getLogger(_BEAM_LOGGER)
    if verbose:
        beam.setLevel(logging.NOTSET)
        root.removeFilter(_FILTER)
        return
    beam.setLevel(BEAM_LEVEL)
    if _FILTER not in root.filters:
        root.addFilter(_FILTER)


def install_in_worker() -> None:
    """In an SDK worker process, before Beam is imported: no implicit stderr handler, no noise.

    A NullHandler on the root logger keeps ``logging.warning`` from calling
    ``basicConfig()``: the worker's records then go only where Beam sends
    them (the runner, at ``--default_sdk_harness_log_level``), as when
    apitools is installed. Uncaught exceptions still reach stderr.
    """
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.NullHandler())
    root.addFilter(_FILTER)
    logging.getLogger("apache_beam.runners.worker.sdk_worker_main").addFilter(_FILTER)
