"""Presentation: numbers as readers see them, charts, plain-English findings and the analyst's workbook."""
