"""Beam-free building blocks of photosieve's command line.

The flags themselves belong to what uses them: each transform adds its own
(``ReadImages.add_arguments``, ``MatchLists.add_arguments``...), the way
weather-tools' sinks do, and ``photosieve.pipelines.flags`` combines them
per command. What they share lives here, below both the transforms and the
commands that must start without Beam (``photosieve hash``, ``lists``):

* :mod:`~photosieve.cli.values`: range-checked ``type=`` functions, the
  ``--threshold`` grammar, the repeatable-flag action, a profile's values
  checked like flags.
* :mod:`~photosieve.cli.hash_flags`: the hashing and decoding flags
  (``photosieve hash``, ``scan``, ``audit``).
"""
