"""Video objects: container detection, vPDQ-compatible frame sampling and hashing (Beam-free).

* :mod:`photosieve.video.detect`: is an object a video container (magic bytes).
* :mod:`photosieve.video.decode`: PyAV decoding of the frames vPDQ samples.
* :mod:`photosieve.video.vpdq`: per-frame PDQ features, Meta's hash files, vPDQ matching.
"""
