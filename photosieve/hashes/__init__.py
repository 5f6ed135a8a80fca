"""Hash algorithms. Importing this package registers every built-in algorithm.

Each module follows imagehash's shape: a ``compute(image) -> HashResult``
function of a few commented numpy steps, with spec numbers as module
constants citing their source, plus a batch form where batching pays.
"""

from photosieve.hashes import pdq  # noqa: F401
from photosieve.hashes import phash  # noqa: F401
from photosieve.hashes import dhash  # noqa: F401
from photosieve.hashes import ahash  # noqa: F401
from photosieve.hashes import digest  # noqa: F401
from photosieve.hashes import gradient  # noqa: F401
