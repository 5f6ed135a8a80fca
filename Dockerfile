# photosieve's SDK worker container: Beam's Python SDK image with photosieve
# installed from a wheel of this checkout. Workers then import photosieve from
# site-packages at start-up instead of pip-installing it (--setup_file) on
# every worker, and Flink and Spark (environment_type DOCKER) get the package
# at all.
#
# Build and push, from the top of the repository (.dockerignore keeps the
# build context to the packaging files and the package folders):
#   docker build -t REGION-docker.pkg.dev/PROJECT/REPO/photosieve:0.1.0 .
#   docker push REGION-docker.pkg.dev/PROJECT/REPO/photosieve:0.1.0
#
# Use it (the launching machine needs the same photosieve, the same Apache Beam
# and the same Python minor version as the image, since the job's code is
# pickled there and unpickled here):
#   Dataflow:
#     photosieve audit --config dataflow ... \
#         --sdk_container_image=REGION-docker.pkg.dev/PROJECT/REPO/photosieve:0.1.0 \
#         --experiments=use_runner_v2
#     (drop the profile's setup_file: the image already holds the package)
#   Flink, Spark (Beam's job servers):
#     photosieve audit --config flink ... --environment_type=DOCKER \
#         --environment_config=REGION-docker.pkg.dev/PROJECT/REPO/photosieve:0.1.0
#
# Both FROM lines name the Beam release and Python minor version of the
# launcher: tests/test_packaging.py checks them against the installed Beam and
# this interpreter, so bump them together with Beam.

# Stage 1: build the wheel from the source tree (pyproject.toml's build
# backend; pip fetches setuptools in an isolated build environment).
FROM apache/beam_python3.11_sdk:2.77.0 AS wheel
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY photosieve/ photosieve/
COPY transforms/ transforms/
COPY pipelines/ pipelines/
COPY configs/ configs/
RUN python -m pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

# Stage 2: the worker image. Only the wheel is copied in, never the source
# tree, so workers run exactly what the wheel ships (a module or data file
# missing from the package fails here as it would on a cluster).
FROM apache/beam_python3.11_sdk:2.77.0
COPY --from=wheel /wheels /tmp/wheels
# photosieve's dependencies are installed within pyproject.toml's ranges, with
# Apache Beam held at the image's own release (its boot program and SDK
# harness belong together): the constraint is the image's installed Beam,
# read from its metadata (pip freeze may name a local file instead).
RUN python -c "import importlib.metadata as m; print('apache-beam==' + m.version('apache-beam'))" \
        > /tmp/beam-constraint.txt \
    && pip install --no-cache-dir --constraint /tmp/beam-constraint.txt /tmp/wheels/photosieve-*.whl \
    && pip check \
    && rm -rf /tmp/wheels /tmp/beam-constraint.txt
# The SDK image's own entrypoint: the runner starts workers through it.
ENTRYPOINT ["/opt/apache/beam/boot"]
