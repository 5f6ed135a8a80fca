"""The report of a run: ``report.html`` and ``report.md`` (``photosieve report RUN_DIR``).

* :mod:`~photosieve.report.model`: what the report shows, computed once from
  the run's ``summary.json`` and its ``matches`` and ``errors`` tables.
* :mod:`~photosieve.report.labels`: how each match was found, in words.
* :mod:`~photosieve.report.plots`: the two SVG plots.
* :mod:`~photosieve.report.html` and :mod:`~photosieve.report.markdown`: the renderers.
"""
