"""Workers run photosieve from its wheel alone: no source tree, no editable install.

A cluster's workers get photosieve as a wheel (``--extra_package``, the
container of the top-level ``Dockerfile``), never as the checkout the tests
run from. Here the wheel is built from the files the Dockerfile's build stage
copies and installed into a clean venv (no system site-packages) holding the
launcher's Apache Beam, as the SDK image does, by the Dockerfile's own install
command (dependencies from the package index within pyproject.toml's
ranges, Beam held at its version, ``pip check``). Then everything runs
from that venv with a working directory outside the repository and no
``PYTHONPATH``: the launching ``photosieve audit``, Beam's job service, and
the SDK workers. A module or data file the wheel leaves out (the shipped
profiles, the false-match curve) fails here as it would on a cluster.

Two ways of starting the workers, both on the ``PortableRunner``:

* ``EXTERNAL``: an SDK worker pool (``worker_pool_main``, what the SDK
  container runs in worker-pool mode), which starts one ``python`` per worker:
  the clean venv's, first on ``PATH``.
* a subprocess environment: the job service starts each worker as a command
  line, the clean venv's ``python -m apache_beam.runners.worker.sdk_worker_main``.
  (Beam's ``PROCESS`` environment runs a container's ``boot`` program and is
  started by the Flink and Spark job servers; Beam's local job service
  starts workers from a command line instead, which is this.)

Building the wheel and installing it needs the package index (PyPI): without
it the module is skipped, saying so. Measured here (2 cores): 40-60 s to build and
install, 5-8 s per audit, about a minute in all.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from photosieve import schemas
from photosieve.hashing import HashPlan, ImageHasher
from tests.pipelines.portable_services import free_port, stop, wait_for_port
from tests.test_packaging import copy_sources, dockerfile_stages
from tests.transforms import samples

REPO = Path(__file__).resolve().parents[2]
INSTALL_TIMEOUT_S = 600
RUN_TIMEOUT_S = 300
# Where the package folders install (pyproject.toml's package-dir).
INSTALLED_AS = {
    "photosieve": "photosieve",
    "transforms": "photosieve/transforms",
    "pipelines": "photosieve/pipelines",
    "configs": "photosieve/configs",
}
# Files in the package folders that are not for the installed package: the
# Flex Template's spec, launcher and notes are read from a checkout when the
# template is built (configs/flex_template/README.md).
NOT_INSTALLED = ("configs/flex_template/",)
LISTED = (0, 2, 4)  # pictures whose hashes the list holds


def _index_host() -> tuple[str, int]:
    """The package index pip will use (PIP_INDEX_URL, else PyPI), as (host, port)."""
    url = urllib.parse.urlsplit(os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple"))
    return url.hostname or "pypi.org", url.port or (443 if url.scheme == "https" else 80)


def _skip_unless_index_reachable() -> None:
    host, port = _index_host()
    try:
        with socket.create_connection((host, port), timeout=10):
            pass
    except OSError as exc:
        pytest.skip(
            f"the package index {host}:{port} is unreachable ({exc}): the wheel's dependencies "
            "cannot be installed into a clean venv"
        )


def _clean_env(venv: Path) -> dict[str, str]:
    """This process's environment with ``venv`` first on PATH and no way back to the checkout."""
    ours = str(Path(sys.executable).parent)
    path = [str(venv / "bin")] + [
        entry for entry in os.environ.get("PATH", "").split(os.pathsep) if entry and entry != ours
    ]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env.update(PATH=os.pathsep.join(path), VIRTUAL_ENV=str(venv), PYTHONNOUSERSITE="1")
    return env


def _run(argv: list[str], *, cwd: Path, env: dict | None = None, timeout: float) -> str:
    """Run ``argv``; its stdout, or a test failure with its output."""
    try:
        done = subprocess.run(
            argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{argv[:4]} did not finish within {timeout} s\n{exc.stderr}")
    assert done.returncode == 0, f"{argv}\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    return done.stdout


def build_context_sources() -> list[str]:
    """What the Dockerfile's stages copy from the build context (its COPY sources)."""
    return [source for stage in dockerfile_stages() for source in copy_sources(stage)]


def _copy_build_context(target: Path) -> None:
    """The files the Dockerfile's wheel stage copies, into ``target`` (without caches)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for source in build_context_sources():
        path = REPO / source.rstrip("/")
        if path.is_dir():
            shutil.copytree(path, target / source.rstrip("/"), ignore=ignore)
        else:
            shutil.copy2(path, target / source)


def _image_install_step() -> tuple[str, str]:
    """The SDK image's install: (where it copies the wheels to, the shell command installing them)."""
    *_, final = dockerfile_stages()
    (copied,) = final.args("COPY")
    (install,) = [args for args in final.args("RUN") if "pip install" in args]
    return copied.split()[-1], install


@pytest.fixture(scope="module")
def worker_venv(tmp_path_factory) -> Path:
    """A clean venv set up as the SDK image is: Beam, then the Dockerfile's install of the wheel.

    The wheel is built from the Dockerfile's build context; the venv first gets
    the launcher's Apache Beam (what the SDK image starts from), then runs the
    Dockerfile's own install command with its absolute paths under a scratch
    root, so the image's install step is what is tested.
    """
    _skip_unless_index_reachable()
    root = tmp_path_factory.mktemp("worker-env")
    context, image, venv = root / "context", root / "image", root / "venv"
    context.mkdir()
    _copy_build_context(context)
    wheels_at, install = _image_install_step()
    wheels = image / wheels_at.lstrip("/")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    _run([*pip, "wheel", "--no-deps", "-w", str(wheels), str(context)], cwd=root,
         timeout=INSTALL_TIMEOUT_S)  # fmt: skip
    assert len(list(wheels.glob("photosieve-*.whl"))) == 1
    _run([sys.executable, "-m", "venv", str(venv)], cwd=root, timeout=INSTALL_TIMEOUT_S)
    env = {**_clean_env(venv), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    beam = f"apache-beam=={importlib.metadata.version('apache-beam')}"
    _run([str(venv / "bin" / "python"), *pip[1:], "install", beam], cwd=root, env=env,
         timeout=INSTALL_TIMEOUT_S)  # fmt: skip
    _run(["bash", "-c", install.replace(" /", f" {image}/")], cwd=root, env=env,
         timeout=INSTALL_TIMEOUT_S)  # fmt: skip
    assert not wheels.exists()  # the image removes them after installing
    return venv


def _venv_python(venv: Path, code: str, cwd: Path) -> str:
    return _run([str(venv / "bin" / "python"), "-c", code], cwd=cwd, env=_clean_env(venv),
                timeout=RUN_TIMEOUT_S)  # fmt: skip


def test_the_wheel_stage_copies_every_package_folder():
    """The Dockerfile builds the wheel from pyproject.toml and every folder it installs."""
    sources = {source.rstrip("/") for source in build_context_sources()}
    assert {"pyproject.toml", "README.md", "LICENSE", *INSTALLED_AS} <= sources


def test_the_clean_venv_imports_photosieve_from_its_wheel(worker_venv, tmp_path):
    code = (
        "import json, photosieve, photosieve.transforms, photosieve.pipelines, photosieve.configs; "
        "print(json.dumps([m.__file__ for m in (photosieve, photosieve.transforms, "
        "photosieve.pipelines, photosieve.configs)]))"
    )
    files = [Path(f).resolve() for f in json.loads(_venv_python(worker_venv, code, tmp_path))]
    for file in files:
        assert not file.is_relative_to(REPO), file
        assert file.is_relative_to(worker_venv.resolve()), file


def test_every_file_of_the_package_folders_is_installed(worker_venv, tmp_path):
    """Modules and data (profiles, the false-match curve): what a worker can import or read."""
    site = json.loads(
        _venv_python(worker_venv, "import json, photosieve, pathlib; "
                     "print(json.dumps(str(pathlib.Path(photosieve.__file__).parents[1])))", tmp_path)
    )  # fmt: skip
    missing = []
    for folder, installed in INSTALLED_AS.items():
        for path in sorted((REPO / folder).rglob("*")):
            relative = path.relative_to(REPO).as_posix()
            if not path.is_file() or "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            if relative.startswith(NOT_INSTALLED):
                continue
            target = Path(site) / installed / path.relative_to(REPO / folder)
            if not target.is_file():
                missing.append(relative)
    assert not missing, f"in the checkout, not in the wheel: {missing}"
    curve = "from photosieve.robust.budget import Curve; print(Curve.shipped() is not None)"
    assert _venv_python(worker_venv, curve, tmp_path).strip() == "True"


def test_the_installed_command_lists_the_shipped_profiles(worker_venv, tmp_path):
    listed = _run([str(worker_venv / "bin" / "photosieve"), "configs"], cwd=tmp_path,
                  env=_clean_env(worker_venv), timeout=RUN_TIMEOUT_S)  # fmt: skip
    names = re.findall(r"^  (\S+)  ", listed, flags=re.MULTILINE)
    assert names == sorted(path.stem for path in (REPO / "configs").glob("*.yaml"))


# --- the audit on the PortableRunner, workers from the clean venv ---------------------------


@pytest.fixture(scope="module")
def case(tmp_path_factory) -> Path:
    """Generated pictures, resized copies, bad objects, and a list of three pictures' hashes."""
    root = tmp_path_factory.mktemp("worker-case")
    archive = root / "archive"
    archive.mkdir()
    hasher = ImageHasher(HashPlan.parse("pdq,md5"))
    lines = ["hash,algorithm,id,labels"]
    for i in range(5):
        original = samples.picture(i, (320, 240))
        (archive / f"copy{i}.png").write_bytes(samples.encode(original, "PNG"))
        smaller = original.resize((240, 180))
        (archive / f"small{i}.jpg").write_bytes(samples.encode(smaller, "JPEG"))
        if i in LISTED:
            result = hasher.hash_bytes("", samples.encode(original, "PNG"))
            lines.append(f"{result.frames[0].results[0].hash.to_hex()},pdq,id{i},case-{i}")
    for name, data in samples.bad_object_bytes().items():
        (archive / name.replace("/", "-")).write_bytes(data)
    (root / "known.csv").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture(scope="module")
def services(worker_venv, tmp_path_factory):
    """A job service and an SDK worker pool, both from the clean venv; yields their ports."""
    root = tmp_path_factory.mktemp("worker-services")
    python = str(worker_venv / "bin" / "python")
    job_port, pool_port = free_port(), free_port()
    commands = {
        "job-service": ["-m", "apache_beam.runners.portability.local_job_service_main",
                        "--port", str(job_port)],
        "worker-pool": ["-m", "apache_beam.runners.worker.worker_pool_main",
                        "--service_port", str(pool_port)],
    }  # fmt: skip
    env = _clean_env(worker_venv)
    # The pool starts each worker as the first `python` on PATH: the clean venv's.
    assert Path(shutil.which("python", path=env["PATH"])) == worker_venv / "bin" / "python"
    processes = []
    try:
        for (name, command), port in zip(commands.items(), (job_port, pool_port)):
            log = root / f"{name}.log"
            with open(log, "wb") as out:
                process = subprocess.Popen(
                    [python, *command], cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT
                )
                processes.append(process)
            wait_for_port(port, processes[-1], log)
        yield job_port, pool_port, root / "worker-pool.log"
    finally:
        for process in processes:
            stop(process)


def _audit(venv: Path, case: Path, output: Path, job_port: int, *environment: str) -> None:
    """``photosieve audit`` with the shipped ``portable`` profile, from the clean venv."""
    argv = [
        str(venv / "bin" / "photosieve"), "audit", "--config", "portable",
        "-i", str(case / "archive"), "-l", f"known={case / 'known.csv'}", "-o", str(output),
        "--run-id", "worker-env", "--no-progress", f"--job_endpoint=localhost:{job_port}",
        *environment,
    ]  # fmt: skip
    _run(argv, cwd=output.parent, env=_clean_env(venv), timeout=RUN_TIMEOUT_S)


def _rows(output: Path) -> dict[str, list[str]]:
    """Each table's rows as sorted JSON (``matched_at``, the run's start, left out)."""
    tables = {}
    for name in schemas.TABLES:
        table = pq.read_table(output / name)
        if name == schemas.MATCHES:
            table = table.drop_columns([schemas.MATCHED_AT])
        tables[name] = sorted(json.dumps(r, sort_keys=True, default=str) for r in table.to_pylist())
    return tables


def _check_run(output: Path) -> dict[str, list[str]]:
    """The run balanced, read every object, and found the listed pictures and their copies."""
    summary = json.loads((output / "summary.json").read_text())
    assert summary["accounting"]["balanced"], summary["accounting"]
    assert summary["versions"]["photosieve"] == "0.1.0"
    tables = _rows(output)
    matches = [json.loads(row) for row in tables[schemas.MATCHES]]
    matched = {Path(row[schemas.URI]).name for row in matches}
    assert matched >= {f"{kind}{i}.{ext}" for i in LISTED for kind, ext in
                       (("copy", "png"), ("small", "jpg"))}  # fmt: skip
    assert not matched & {f"copy{i}.png" for i in range(5) if i not in LISTED}
    errors = [json.loads(row) for row in tables[schemas.ERRORS]]
    assert len(errors) == len(samples.BAD_OBJECTS)
    assert summary["tables"][schemas.HASHES] == len(tables[schemas.HASHES]) > 0
    return tables


@pytest.fixture(scope="module")
def external_run(worker_venv, case, services, tmp_path_factory) -> Path:
    """The audit's output, its SDK workers started by the worker pool."""
    job_port, pool_port, _ = services
    output = tmp_path_factory.mktemp("worker-runs") / "external"
    _audit(worker_venv, case, output, job_port, "--environment_type=EXTERNAL",
           f"--environment_config=localhost:{pool_port}")  # fmt: skip
    return output


def test_an_audit_on_an_external_worker_pool_from_the_wheel(external_run, services):
    _check_run(external_run)
    # The pool started the workers, each as the first `python` on PATH: the clean venv's.
    assert "Starting worker with command ['python'" in services[2].read_text()


def test_an_audit_on_workers_the_job_service_starts_from_the_wheel(
    worker_venv, case, services, external_run, tmp_path
):
    """The job service runs each worker as a command line: the clean venv's SDK worker module."""
    worker = f"{worker_venv / 'bin' / 'python'} -m apache_beam.runners.worker.sdk_worker_main"
    output = tmp_path / "subprocess"
    _audit(worker_venv, case, output, services[0],
           "--environment_type=beam:env:harness_subprocess_python:v1",
           f"--environment_config={worker}")  # fmt: skip
    assert _check_run(output) == _rows(external_run)
