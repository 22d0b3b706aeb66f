"""Run every bench script at its default (small) size, one after the other.

Full-scale runs take arguments (see each script's --help); their recorded results are in
bench/RESULTS.md.
"""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

for script in sorted(HERE.glob("bench_*.py")):
    print(f"== {script.name}", flush=True)
    subprocess.run([sys.executable, str(script)], check=True)
