"""The shipped ``--config`` profiles, as package data (``photosieve.configs``).

The folder stays at the top of the repository (the layout) and installs as
``photosieve.configs``, so ``--config local`` finds ``local.yaml`` from any
folder and in any install, not only inside a checkout
(:mod:`photosieve.pipelines.profile_names`). Holds no code.
"""
