"""The pack: the report context the notebooks share, papermill runs, the HTML site and its manifest.

:mod:`.report` turns the benchmarked table into the pieces a notebook shows; :mod:`.build` runs the notebooks and
writes the site. Nothing here reads a record-level return (an import-linter contract); the ``needs pack`` command
itself is in :mod:`analysis.cli`.
"""

from analysis.pack.build import (ANCHOR, CSS, KERNEL, KernelSession, PackError, PackParams, build_many, build_pack,
                                 check_writable, clear_stale_builds, national_data, notebook_body, notebook_paths,
                                 pack_folder, read_params_file, refuse_other_data, run_notebooks, validate)

__all__ = ["ANCHOR", "CSS", "KERNEL", "KernelSession", "PackError", "PackParams", "build_many", "build_pack",
           "check_writable", "clear_stale_builds", "national_data", "notebook_body", "notebook_paths", "pack_folder",
           "read_params_file", "refuse_other_data", "run_notebooks", "validate"]
