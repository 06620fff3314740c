"""Needs analysis for children's services: official data in, benchmarked indicators out.

The package is layered; each folder imports only from the folders below it (checked by import-linter in CI):

    cli          the ``needs`` command
    pack/        report context, papermill runs, the HTML site and manifest
    present/     numbers for readers, charts, narrative, workbook
    indicators/  registry, observations from a folder, rates, benchmarking, local in-year rows
    stats/       limits, comparisons, ranks, trends, suppression (pure array code)
    read/        published files, layouts, populations, neighbour models, record-level returns

``errors`` and ``config`` sit beneath them all; ``demo/`` (synthetic data) stands outside the layers.
"""

from analysis import _moved

__version__ = "0.2.0"

_moved.install()
