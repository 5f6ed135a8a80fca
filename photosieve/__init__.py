"""photosieve: find known images in large archives.

The core package is pure Python + numpy + Pillow + pyarrow and never imports
Apache Beam; ``transforms/`` wraps it for pipelines.

>>> from photosieve.hashes import pdq
>>> import numpy as np
>>> result = pdq.compute(np.zeros((32, 32, 3), dtype=np.uint8))
>>> result.hash.to_hex()
'0000000000000000000000000000000000000000000000000000000000000000'
>>> result.quality
0
"""

__version__ = "0.1.0"
