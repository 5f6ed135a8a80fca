"""Beam PTransforms and DoFns: thin wrappers over the ``photosieve`` core."""
