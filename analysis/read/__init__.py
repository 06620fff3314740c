"""Reading: published files and the layout catalogue, a folder of them, populations, neighbour models, record-level
returns.

Everything that touches a file the project did not write lives here, and nothing here computes a statistic. The
published readers (:mod:`.sources`) read one file; :mod:`.folder` reads a folder as analysts keep it (several
releases, copies, unrelated files), given the indicator registry as data. The record-level readers (:mod:`.returns`,
:mod:`.returns_xml`) hold children's records; only :mod:`.records` turns them into counts, and nothing above the
indicators layer may import the readers (an import-linter contract).
"""
