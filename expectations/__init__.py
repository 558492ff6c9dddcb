"""great-expectations suites for the warehouse, and the runner that validates a DataFrame against one.

No Dagster here: `pipelines.defs.quality` turns results into asset checks.
"""

import os

# GX phones home on import unless told not to; the sandboxed machines have no network for it.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
