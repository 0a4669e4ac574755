"""``python -m darwin_bench.cli``: the darwin-bench command."""

import sys

from darwin_bench.cli import main

sys.exit(main())
