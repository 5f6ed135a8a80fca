"""Runnable Beam pipelines and the ``photosieve`` command line."""
