"""Statistics: confidence limits, comparisons, ranks and quantiles, trends, suppression.

Pure array code: no files, no charts, no knowledge of which indicator is which beyond what the caller passes.
"""
