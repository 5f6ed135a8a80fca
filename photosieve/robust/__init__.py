"""Robust matching (``--match-mode``): find edited copies that plain PDQ misses.

A rotated, mirrored, padded, embedded or cropped copy hashes as far from its
original as an unrelated photo does. Robust matching hashes what the original
*would* look like under a few hypotheses and matches all of those hashes at a
threshold calibrated for them. Four parts, each one module, used in this order:

* :mod:`~photosieve.robust.regions`: geometry on pixels. It finds the photo
  inside a copy (uniform borders, the dominant region of a canvas, a small
  in-place rotation) and returns boxes and angles.
* :mod:`~photosieve.robust.expansion`: query expansion. It turns a frame,
  and the regions found in it, into extra PDQ hashes (rotations and mirrors,
  borders, region, rotation, uncrop hypotheses; second opinions). On the list
  side it hashes the sub-windows of listed images. Each hash is labelled with
  its ``variant``.
* :mod:`~photosieve.robust.modes`: the calibrated modes. Each one fixes which
  query and list hashes take part, the second opinion and the threshold
  (:data:`~photosieve.robust.modes.CONFIGS`). It also holds the matching rule,
  written out by brute force (:func:`~photosieve.robust.modes.match`).
* :mod:`~photosieve.robust.matcher`: the same rule over an exact index, for
  batches of frames against one list (:class:`~photosieve.robust.matcher.ModeMatcher`).
  ``photosieve.transforms.mode_matching`` runs it on Beam workers.

:class:`photosieve.hashing.HashPlan` computes the expansion while it hashes,
and ``photosieve lists build`` computes the list windows.

Nothing is re-exported here. Importing a part must not import the others:
:mod:`photosieve.hashing` needs only the expansion, and the matcher imports
the index and the list readers. So callers import the module they use, e.g.
``from photosieve.robust.modes import CONFIGS``.
"""
