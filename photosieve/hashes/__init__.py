"""Hash algorithms, and :data:`BUILTIN`, the one list of the built-in ones.

Each module follows imagehash's shape: a ``compute(image) -> HashResult``
function of a few commented numpy steps, with spec numbers as module
constants citing their source, plus a batch form where batching pays, and
one ``SPEC`` (:class:`photosieve.algorithm_spec.AlgorithmSpec`) that says
what the rest of photosieve needs to know about it.

:data:`BUILTIN` is read by :mod:`photosieve.algorithms` (the registry: sizes,
metrics, thresholds, versions by stored name), by
``photosieve.hashing.ALGORITHM_CHOICES`` (the names ``--algorithms`` accepts,
in this order, which is also the order of a plan's algorithms and of their
columns) and by the hasher, which calls each spec's ``compute``.

Adding a hash algorithm
-----------------------
1. Write ``photosieve/hashes/<name>.py``: the steps, the spec numbers as
   constants with their source, ``compute(image)`` and
   ``compute_batch(images) -> list[HashResult]`` over H x W x 3 uint8 RGB
   arrays (raise ValueError for an image too small to hash; it becomes a
   ``too_small`` failure), and at the end::

       SPEC = AlgorithmSpec("<name>", NBYTES, Metric.HAMMING, MATCH_THRESHOLD,
                            compute=compute_batch)

   A digest of the raw bytes takes ``needs_pixels=False`` and
   ``compute(data: bytes) -> HashResult``. The threshold is policy: say in
   a comment what it was measured on (``benchmarks/calibrate_thresholds.py``).
2. Import the module here and put its ``SPEC`` in :data:`BUILTIN`, where it
   should appear among the CLI's choices.

Nothing else: ``--algorithms`` accepts it, the hasher calls its ``compute``
on every decoded frame (or on the raw bytes), and list reading, validation,
the index (chosen by ``metric``) and thresholds look it up by name. (PDQ is
the one algorithm the hasher computes its own way, batching its DCT over
frames.) Bump ``version`` in the spec whenever a change alters an output
bit, so repeat audits re-hash.
Tests: a test module ``tests/photosieve/hashes/test_<name>.py`` pinning
known hashes; ``tests/photosieve/test_algorithms.py`` checks every spec in
:data:`BUILTIN` for consistency.
"""

from photosieve.hashes import ahash, dhash, digest, gradient, pdq, phash

# Every built-in algorithm, in the order of the CLI's choices. pdq.DIHEDRAL_SPEC
# is "pdq-dihedral": the same stored "pdq" hashes, for all eight orientations.
BUILTIN = (
    pdq.SPEC,
    pdq.DIHEDRAL_SPEC,
    gradient.SPEC,
    phash.SPEC,
    dhash.SPEC,
    ahash.SPEC,
    digest.MD5_SPEC,
    digest.SHA256_SPEC,
)
