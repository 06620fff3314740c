"""Demo data: the synthetic published files (:mod:`.published`) and record-level returns (:mod:`.returns`).

Outside the library's layers: only the command line (and tests) use it, to give a new user a pack on day one.
"""

from analysis.demo.published import (DEFAULT_SEED, DEMO_FILES, DEMO_NOTICE, GENERATOR_VERSION, STAMP_FILE, DemoFile,
                                     ensure_demo_data, write_demo_data)

__all__ = ["DEMO_NOTICE", "DEMO_FILES", "DemoFile", "GENERATOR_VERSION", "DEFAULT_SEED", "STAMP_FILE",
           "write_demo_data", "ensure_demo_data"]
