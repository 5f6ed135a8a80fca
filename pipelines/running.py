"""Running a built job: the runner, the umask, live progress, and ``summary.json`` last.

:func:`execute` runs the pipeline (with live progress on local runners)
under a private umask, then turns the ledger into ``summary.json`` with the
accounting check, and returns the exit status. ``summary.json`` is written
last and whole: a directory without one is an incomplete run. The run ends
with the closing block on stdout (:mod:`photosieve.pipelines.closing`):
what it did and where its outputs are, or that it is incomplete and why.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import platform
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone

import apache_beam as beam
import numpy as np
import PIL
import pyarrow as pa
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.portability.api import beam_provision_api_pb2
from apache_beam.runners.portability.fn_api_runner import fn_runner
from apache_beam.runners.portability.portable_runner import JobServiceHandle
from apache_beam.runners.runner import PipelineState
from apache_beam.transforms import environments

import photosieve
from photosieve import ledger as keys
from photosieve import schemas
from photosieve.ledger import Ledger
from photosieve.listing import is_local as is_local_path
from photosieve.listing import pop_skip_examples
from photosieve.run_config import RunConfig
from photosieve.summary import SUMMARY_FILE, Accounting, Summary
from photosieve.pipelines import beam_options, quiet, redaction
from photosieve.pipelines.closing import closing_block, failed_block
from photosieve.pipelines.flags import DEFAULT_RUNNER
from photosieve.pipelines.summary_file import write_summary
from photosieve.transforms.known_lists import temp_index_dir
from photosieve.transforms.ledger import LEDGER_FILE
from photosieve.transforms.progress import ProgressMonitor

__all__ = [
    "PRIVATE_UMASK",
    "RunContext",
    "build_summary",
    "execute",
    "is_local",
    "library_versions",
    "new_context",
    "output_umask",
]

_LOG = logging.getLogger(__name__)

_LOCAL_RUNNERS = ("DirectRunner", "SwitchingDirectRunner", "FnApiRunner")
# --output-mode private: outputs say which paths matched which list, so by
# default only their owner may read them (directories 0700, files 0600).
PRIVATE_UMASK = 0o077


@dataclass(frozen=True)
class RunContext:
    """Per-run values every pipeline builder needs.

    Attributes:
        command: ``audit``, ``scan`` or ``match``.
        run_id: written on every row and in the summary.
        started_us: the run's start, microseconds since the epoch (UTC).
        output: the output directory.
        num_shards: Parquet files per table (0: the runner decides).
        progress_dir: local directory for live progress files, or None.
        index_dir: where the side-input join writes the lists' index files
            (:func:`run_index_dir`); None: the transform's default.
        index_dir_is_temporary: ``index_dir`` is this run's own and is
            removed when the run ends.
    """

    command: str
    run_id: str
    started_us: int
    output: str
    num_shards: int = 0
    progress_dir: str | None = None
    index_dir: str | None = None
    index_dir_is_temporary: bool = False


# Inside the output when the run has no temp location: a shared place every worker can reach.
OUTPUT_INDEX_FOLDER = ".photosieve-index"


def run_index_dir(config: RunConfig) -> tuple[str, bool]:
    """Where the run's lists' index files go, and whether the folder is the run's own.

    Under ``--temp_location`` (or ``--staging_location``) when given: files
    there are named by the list's content, so later runs with the same list
    reuse them (clear ``<temp_location>/photosieve-index`` when lists
    change often). Otherwise a folder inside the output, which every worker
    of any runner can reach, removed when the run ends.
    """
    shared = temp_index_dir(PipelineOptions(list(config.pipeline_args)))
    if shared is not None:
        return shared, False
    output = config.output.path
    try:
        return FileSystems.join(output, OUTPUT_INDEX_FOLDER), True
    except ValueError:  # no filesystem for the output: preflight says so, with the URL redacted
        return f"{output.rstrip('/')}/{OUTPUT_INDEX_FOLDER}", True


def new_context(config: RunConfig) -> RunContext:
    """The run's id (``--run-id``, or the UTC start time and a random suffix) and start time."""
    started = datetime.now(timezone.utc)
    run_id = config.output.run_id or f"{started:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
    index_dir, temporary = run_index_dir(config)
    return RunContext(
        command=config.command,
        run_id=run_id,
        started_us=int(started.timestamp() * 1_000_000),
        output=config.output.path,
        num_shards=config.output.num_shards,
        index_dir=index_dir,
        index_dir_is_temporary=temporary,
    )


def is_local(pipeline_args: list[str]) -> bool:
    """True for the DirectRunner (in-process or multi-processing on this machine)."""
    runner = PipelineOptions(pipeline_args).view_as(StandardOptions).runner or DEFAULT_RUNNER
    return runner.rsplit(".", 1)[-1] in _LOCAL_RUNNERS


def execute(
    config: RunConfig,
    context: RunContext,
    build: Callable[[beam.Pipeline, RunContext], None],
    *,
    check: Callable[[dict], list[str]],
    total: int | None = None,
    extra: dict | Callable[[dict], dict] | None = None,
) -> int:
    """Run a built pipeline, write ``summary.json``, return the exit status.

    Args:
        config: the run.
        context: the run's id and start (``progress_dir`` is set here for local runs).
        build: adds the job's steps to the pipeline, including a
            :class:`~transforms.ledger.WriteLedger` into ``context.output``.
        check: returns the accounting problems found in the ledger (empty
            when every object is accounted for).
        total: objects expected, for progress lines (None: no progress lines).
        extra: more :class:`~photosieve.summary.Summary` fields (e.g. ``lists``),
            or a function of the ledger returning them (sections that need the counts).

    Returns:
        0 when the run finished and balanced, 1 otherwise.
    """
    pipeline_args = list(config.pipeline_args)
    quiet.install(verbose=config.verbose)
    options = PipelineOptions(pipeline_args)
    runner = _local_runner(options, verbose=config.verbose)
    progress_dir = None
    if config.progress and total is not None and is_local(pipeline_args):
        progress_dir = tempfile.mkdtemp(prefix="photosieve-progress-")
        context = replace(context, progress_dir=progress_dir)
    clock = time.monotonic()
    try:
        with output_umask(context.output, config.output.mode):
            pipeline = beam.Pipeline(runner=runner, options=options)
            build(pipeline, context)
            if progress_dir:
                archives = bool(config.inputs and config.inputs.archives)
                with ProgressMonitor(progress_dir, total=total, archives=archives):
                    state = pipeline.run().wait_until_finish()
            else:
                state = pipeline.run().wait_until_finish()
            wall = time.monotonic() - clock
            if state not in (PipelineState.DONE, None):
                _LOG.error(
                    "the pipeline ended in state %s; the run in %s is incomplete (no %s)",
                    state,
                    context.output,
                    SUMMARY_FILE,
                )
                reason = f"the pipeline ended in state {state}"
                _print(failed_block(context.command, context.run_id, _shown(context.output), reason))
                return 1
            ledger = _take_ledger(context.output)
            skipped = pop_skip_examples(ledger)
            problems = check(ledger)
            sections = (extra(ledger) if callable(extra) else extra) or {}
            summary = build_summary(context, config, ledger, problems, wall)
            summary = replace(summary, skipped=skipped, **sections)
            write_summary(context.output, summary)
    except Exception as exc:  # noqa: BLE001  (any failure: reported, and no summary)
        # A failed run must not look finished: summary.json, its mark, is written last.
        _LOG.error(
            "the run failed (%s: %s); the output %s is incomplete (no %s)",
            type(exc).__name__,
            exc,
            context.output,
            SUMMARY_FILE,
            exc_info=config.verbose,
        )
        reason = _shown(f"{type(exc).__name__}: {exc}")
        _print(failed_block(context.command, context.run_id, _shown(context.output), reason))
        return 1
    finally:
        if progress_dir:
            shutil.rmtree(progress_dir, ignore_errors=True)
        _remove_index_dir(context)
    _log_summary(summary)
    _print(closing_block(summary))
    if problems:
        for problem in problems:
            _LOG.error("accounting: %s", problem)
        return 1
    return 0


def _remove_index_dir(context: RunContext) -> None:
    """The run's own index folder goes when the run ends, finished or not (never a shared one)."""
    if not (context.index_dir and context.index_dir_is_temporary):
        return
    try:
        if FileSystems.exists(context.index_dir):
            FileSystems.delete([context.index_dir])
    except Exception as exc:  # noqa: BLE001  (the run's result stands; say what is left)
        _LOG.warning("could not remove the lists' index files in %s: %s", context.index_dir, exc)


@contextlib.contextmanager
def output_umask(output: str, mode: str):
    """With ``private``, the umask 077 while the run writes a local output (workers inherit it).

    The SDK worker processes of the local multi-process runner are started
    during the run, by this process, and inherit its umask; so do the
    directories Beam's file sinks create. The umask is per process (a
    program calling photosieve creates private files meanwhile too); the
    previous one is restored after the run.
    """
    if mode != "private" or not is_local_path(output):
        yield
        return
    previous = os.umask(PRIVATE_UMASK)
    try:
        yield
    finally:
        os.umask(previous)


def _local_runner(options: PipelineOptions, *, verbose: bool = False):
    """The FnApiRunner set up as Beam's DirectRunner sets it up, or None for other runners.

    Named directly (``--runner=FnApiRunner``), Beam builds it without the
    pipeline options, so SDK worker processes would not see options such as
    ``--default_sdk_harness_log_level``; the DirectRunner hands them over in
    the provision info, and so does this (same four calls as
    ``apache_beam/runners/direct/direct_runner.py``), with only the options
    that differ from their defaults: all of them include dests such as
    ``pipeline_type_check`` that each worker cannot parse back and warns
    about. Unless ``verbose``, multi-process workers start through
    :mod:`photosieve.pipelines.sdk_worker` (without their start-up noise).
    """
    runner = options.view_as(StandardOptions).runner or DEFAULT_RUNNER
    if runner.rsplit(".", 1)[-1] != "FnApiRunner":
        return None
    encoded = JobServiceHandle.encode_pipeline_options(options.get_all_options(drop_default=True))
    provision = beam_provision_api_pb2.ProvisionInfo(pipeline_options=encoded)
    runner_class = fn_runner.FnApiRunner if verbose else _QuietWorkersRunner
    return runner_class(provision_info=fn_runner.ExtendedProvisionInfo(provision))


# The SDK worker command Beam's FnApiRunner uses in multi_processing mode, and ours.
_BEAM_WORKER_MODULE = "apache_beam.runners.worker.sdk_worker_main"
_QUIET_WORKER_MODULE = "photosieve.pipelines.sdk_worker"


class _QuietWorkersRunner(fn_runner.FnApiRunner):
    """The FnApiRunner, starting multi-process SDK workers as ``python -m photosieve.pipelines.sdk_worker``.

    ``run_pipeline`` sets the subprocess environment from
    ``--direct_running_mode`` with a fixed command; this swaps the module
    of that command as it is set, and nothing else.
    """

    @property
    def _default_environment(self):
        return self.__dict__["_photosieve_environment"]

    @_default_environment.setter
    def _default_environment(self, environment):
        if isinstance(environment, environments.SubprocessSDKEnvironment):
            command = environment.command_string
            if command.endswith(f" -m {_BEAM_WORKER_MODULE}"):
                environment = environments.SubprocessSDKEnvironment.from_command_string(
                    command.removesuffix(_BEAM_WORKER_MODULE) + _QUIET_WORKER_MODULE
                )
        self.__dict__["_photosieve_environment"] = environment


def _take_ledger(output: str) -> dict:
    """Read the ledger the pipeline wrote, then delete it (summary.json supersedes it)."""
    path = FileSystems.join(output, LEDGER_FILE)
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
        ledger = json.loads(handle.read().decode("utf-8") or "{}")
    FileSystems.delete([path])
    return ledger


def build_summary(
    context: RunContext,
    config: RunConfig,
    ledger: dict,
    problems: list[str],
    wall_seconds: float,
) -> Summary:
    """The run's :class:`~photosieve.summary.Summary`: counts, the accounting verdict, settings, versions."""
    tables = table_rows(ledger)
    started = datetime.fromtimestamp(context.started_us / 1e6, timezone.utc)
    return Summary(
        command=context.command,
        run_id=context.run_id,
        started_at=started.isoformat(),
        wall_seconds=round(wall_seconds, 3),
        output=redaction.redact_url_password(context.output),
        accounting=Accounting(not problems, tuple(problems)),
        tables=tables,
        counts=ledger,
        settings=config.settings(),
        options=dict(config.flags),
        pipeline_options=tuple(_redacted(list(config.pipeline_args))),
        versions=library_versions(),
    )


def table_rows(ledger: dict) -> dict[str, int]:
    """Rows written per table, as the ledger counted them (the files table only for jobs with one)."""
    counts = Ledger(ledger)
    tables = {
        schemas.HASHES: counts.total(keys.HASHES_ALGORITHM),
        schemas.ERRORS: counts.total(keys.ERRORS_CLASS),
        schemas.MATCHES: counts.total(keys.MATCHES_STATUS),
    }
    if counts.has(keys.FILES_STATE):
        tables[schemas.FILES] = counts.total(keys.FILES_STATE)
    return tables


def library_versions() -> dict[str, str]:
    """The versions of photosieve and what it runs on, as summary.json records them."""
    return {
        "photosieve": photosieve.__version__,
        "apache_beam": beam.__version__,
        "pyarrow": pa.__version__,
        "numpy": np.__version__,
        "pillow": PIL.__version__,
        "python": platform.python_version(),
    }


def _print(block: str) -> None:
    """The closing block on stdout (logs are on stderr), flushed before the exit status."""
    print(block, flush=True)


def _shown(text: str) -> str:
    """``text`` with URL passwords hidden: stdout has no log filter to do it."""
    return redaction.redact_url_password(text)


def _redacted(pipeline_args: list[str]) -> list[str]:
    """Beam options with credentials hidden (see :func:`photosieve.pipelines.beam_options.redacted`)."""
    return beam_options.redacted(pipeline_args)


def _log_summary(summary: dict) -> None:
    tables = ", ".join(f"{count} {name}" for name, count in summary.tables.items())
    verdict = "balanced" if summary.accounting.balanced else "NOT balanced"
    _LOG.info(
        "%s %s finished in %.1f s: %s rows; accounting %s; summary in %s",
        summary.command,
        summary.run_id,
        summary.wall_seconds,
        tables,
        verdict,
        FileSystems.join(summary.output, SUMMARY_FILE),
    )


