"""Scheduler tests reuse the core tests' harness (a core on a simulated clock with the console adapter)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))
