"""The package installs one import namespace, ``photosieve``, with every package folder in it.

And the SDK container (the top-level ``Dockerfile``) is Beam's SDK image for this
Beam and Python, with Beam's entrypoint, installing the wheel its first stage
builds. ``tests/pipelines/test_worker_environment.py`` builds that wheel and runs
an audit's workers from it.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.resources
import importlib.util
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]
# Where each installed package's folder is in the repository (the layout keeps
# transforms/, pipelines/ and configs/ at the top; they install under photosieve).
_FOLDERS = {"photosieve": ROOT / "photosieve", "photosieve.transforms": ROOT / "transforms",
            "photosieve.pipelines": ROOT / "pipelines", "photosieve.configs": ROOT / "configs"}


def _setuptools() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def _package_folders() -> set[str]:
    found = set()
    for name, folder in _FOLDERS.items():
        for init in folder.rglob("__init__.py"):
            relative = init.parent.relative_to(folder).parts
            found.add(".".join((name, *relative)))
    return found


def test_every_package_folder_is_installed_and_nothing_else_at_the_top():
    packages = set(_setuptools()["packages"])
    assert packages == _package_folders()
    assert {name.split(".")[0] for name in packages} == {"photosieve"}


def test_the_top_level_folders_are_mapped_into_the_namespace():
    mapping = _setuptools()["package-dir"]
    assert mapping == {
        "photosieve.transforms": "transforms",
        "photosieve.pipelines": "pipelines",
        "photosieve.configs": "configs",
    }
    for name in mapping:
        module = importlib.import_module(name)
        assert Path(module.__file__).resolve().parent == ROOT / mapping[name]


def test_the_command_is_in_the_namespace():
    script = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]["photosieve"]
    module, _, function = script.partition(":")
    assert module.startswith("photosieve.")
    assert callable(getattr(importlib.import_module(module), function))


def test_the_shipped_profiles_are_package_data():
    """configs/*.yaml install with the package, so --config NAME works outside a checkout."""
    patterns = _setuptools()["package-data"]["photosieve.configs"]
    profiles = sorted(path.name for path in (ROOT / "configs").glob("*.yaml"))
    assert profiles
    assert all(any(Path(name).match(pattern) for pattern in patterns) for name in profiles)
    installed = importlib.resources.files("photosieve.configs")
    assert sorted(e.name for e in installed.iterdir() if e.name.endswith(".yaml")) == profiles


# --- the SDK container (Dockerfile): Docker cannot run here, so its text is checked ----------

DOCKERFILE = ROOT / "Dockerfile"
# The SDK image's entrypoint: the runner starts each worker through it.
BEAM_BOOT = "/opt/apache/beam/boot"


@dataclass
class Stage:
    """One ``FROM`` stage of a Dockerfile: its base image, its name, its instructions."""

    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def args(self, keyword: str) -> list[str]:
        return [args for key, args in self.instructions if key == keyword]


def dockerfile_stages(path: Path = DOCKERFILE) -> list[Stage]:
    """The stages of ``path``: comments dropped, backslash continuations joined."""
    text = re.sub(r"\\\n", " ", "\n".join(
        line for line in path.read_text().splitlines() if not line.lstrip().startswith("#")
    ))  # fmt: skip
    stages: list[Stage] = []
    for line in text.splitlines():
        keyword, _, args = line.strip().partition(" ")
        keyword, args = keyword.upper(), " ".join(args.split())
        if not keyword:
            continue
        if keyword == "FROM":
            words = args.split()
            named = len(words) == 3 and words[1].upper() == "AS"
            stages.append(Stage(words[0], words[2] if named else None))
        else:
            if not stages:  # only ARG may come before the first FROM (its build arguments)
                assert keyword == "ARG", f"{keyword} before any FROM"
                continue
            stages[-1].instructions.append((keyword, args))
    return stages


def copy_sources(stage: Stage) -> list[str]:
    """What a stage's ``COPY`` lines take from the build context (not from other stages)."""
    sources = []
    for args in stage.args("COPY"):
        words = args.split()
        if any(w.startswith("--from=") for w in words):
            continue
        sources += [w for w in words if not w.startswith("--")][:-1]
    return sources


def test_the_sdk_image_is_the_installed_beam_for_this_python():
    """Workers must run the launcher's Beam release and Python minor: pickled code crosses over."""
    beam = importlib.metadata.version("apache-beam")
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    bases = [stage.base for stage in dockerfile_stages()]
    assert bases and set(bases) == {f"apache/beam_python{python}_sdk:{beam}"}


def test_the_sdk_image_keeps_beams_entrypoint():
    final = dockerfile_stages()[-1]
    entrypoints = final.args("ENTRYPOINT")
    assert entrypoints and json.loads(entrypoints[-1]) == [BEAM_BOOT]
    assert not final.args("CMD")  # the runner passes the boot program its own arguments


def test_the_sdk_image_installs_the_wheel_and_holds_no_source_tree():
    *builders, final = dockerfile_stages()
    (wheel_stage,) = builders
    assert "pyproject.toml" in copy_sources(wheel_stage)
    built = [args for args in wheel_stage.args("RUN") if " wheel " in f" {args} "]
    (build,) = built
    wheel_dir = re.search(r"--wheel-dir[= ](\S+)", build).group(1)
    assert "--no-deps" in build
    # The final stage copies only the built wheels, from the wheel stage.
    assert copy_sources(final) == []
    (copied,) = final.args("COPY")
    source, target = copied.split()[-2:]
    assert f"--from={wheel_stage.name}" in copied and source == wheel_dir
    installs = [args for args in final.args("RUN") if "pip install" in args]
    (install,) = installs
    assert f"{target}/photosieve-*.whl" in install
    assert "--no-deps" not in install  # its dependencies come with it


def test_the_docker_build_context_holds_what_the_wheel_stage_copies():
    """.dockerignore excludes everything (.venv, tests, outputs, photos) but the COPY sources."""
    lines = [
        line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]  # fmt: skip
    assert lines[0] == "*"
    included = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    sources = {source.rstrip("/") for stage in dockerfile_stages() for source in copy_sources(stage)}
    assert sources == included
    for source in sources:
        assert (ROOT / source).exists(), source


# --- the Dataflow Flex Template (configs/flex_template/) --------------------------------------

FLEX = ROOT / "configs" / "flex_template"
# A valid value, other than the default, for each parameter whose flag checks its value.
_SAMPLE_VALUES = {"algorithms": "pdq,phash", "threshold": "pdq=24", "decode": "exact",
                  "match_mode": "robust", "run_id": "weekly-1"}  # fmt: skip


def _flex_metadata() -> dict:
    return json.loads((FLEX / "metadata.json").read_text())


def _flex_main():
    """configs/flex_template/main.py, imported from its file (it is not in a package)."""
    spec = importlib.util.spec_from_file_location("flex_template_main", FLEX / "main.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _audit_parser():
    from photosieve.pipelines import audit

    return audit.build_parser()


def test_every_template_parameter_is_an_audit_flag():
    """Each parameter, as the launcher passes it (``--name=value``), parses as the audit's flag."""
    parser, main = _audit_parser(), _flex_main()
    parameters = _flex_metadata()["parameters"]
    names = [parameter["name"] for parameter in parameters]
    assert len(set(names)) == len(names)
    for parameter in parameters:
        name = parameter["name"]
        assert re.fullmatch(r"[a-z][a-z0-9_]*", name), name
        assert parameter["label"] and parameter["helpText"], name
        boolean = parameter["parameterType"] == "BOOLEAN"
        value = "true" if boolean else _SAMPLE_VALUES.get(name, "gs://bucket/path")
        for pattern in parameter.get("regexes", []):
            assert re.fullmatch(pattern, value), (name, pattern)
        argv = main.audit_argv([f"--{name}={value}"], parser)
        known, unknown = parser.parse_known_args(argv)
        assert unknown == [], (name, argv)
        default = parser.get_default(name)
        assert getattr(known, name) not in (None, default, False), (name, argv)


def test_the_template_requires_the_audits_required_flags_and_types_its_switches():
    from photosieve.pipelines import audit

    parameters = {p["name"]: p for p in _flex_metadata()["parameters"]}
    required = {name for name, p in parameters.items() if not p.get("isOptional", False)}
    assert required == set(audit.REQUIRED)
    switches = {a.dest for a in _audit_parser()._actions if a.nargs == 0 and a.option_strings}
    boolean = {name for name, p in parameters.items() if p["parameterType"] == "BOOLEAN"}
    assert boolean == switches & set(parameters)


def test_the_template_program_maps_parameters_and_passes_beam_options_through():
    parser, main = _audit_parser(), _flex_main()
    argv = main.audit_argv(
        ["--suppress_list=stock=gs://b/s.txt", "--dihedral=false", "--archives=true",
         "--progress=false", "--runner=DataflowRunner", "--temp_location=gs://b/tmp"], parser,
    )  # fmt: skip
    assert argv == ["--suppress-list=stock=gs://b/s.txt", "--archives", "--no-progress",
                    "--runner=DataflowRunner", "--temp_location=gs://b/tmp"]  # fmt: skip
    with pytest.raises(SystemExit, match="dihedral"):
        main.audit_argv(["--dihedral=maybe"], parser)


def test_the_template_folder_is_no_profile_and_not_installed():
    """``photosieve configs`` lists configs/*.yaml only; the template is read from a checkout."""
    from photosieve.pipelines import profile_names

    assert list(profile_names.shipped()) == sorted(p.stem for p in (ROOT / "configs").glob("*.yaml"))
    assert not (ROOT / "configs" / "flex_template" / "__init__.py").exists()


def test_the_template_image_is_the_sdk_image_with_the_launcher_program():
    *_, final = dockerfile_stages(FLEX / "Dockerfile")
    assert final.base == "${SDK_IMAGE}"
    assert json.loads(final.args("ENTRYPOINT")[-1]) == [BEAM_BOOT]
    copied = {args.split()[-2]: args.split()[-1] for args in final.args("COPY")}
    program = copied["configs/flex_template/main.py"]
    assert f"FLEX_TEMPLATE_PYTHON_PY_FILE={program}" in final.args("ENV")
