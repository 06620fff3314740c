"""Demo data: the synthetic published files (:mod:`.published`) and record-level returns (:mod:`.returns`).

Outside the library's layers: only the command line (and tests) use it, to give a new user a pack on day one.
"""

from analysis.demo.published import *  # noqa: F401,F403
from analysis.demo.published import DEMO_NOTICE, STAMP_FILE, ensure_demo_data, write_demo_data  # noqa: F401
