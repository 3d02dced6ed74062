"""generation/ is usable without Django and stays cheap to import."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CODE = """
import json, sys
import generation, generation.models, generation.streaming, generation.batching, generation.cli
light = sorted(m for m in ("torch", "transformers", "peft") if m in sys.modules)
print(json.dumps({"django": sorted(m for m in sys.modules if m.split(".")[0].startswith("django")),
                  "heavy": light}))
"""


def test_importing_generation_loads_no_django_and_no_torch():
    out = subprocess.run(
        [sys.executable, "-c", CODE], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert loaded["django"] == []
    assert loaded["heavy"] == [], "torch/transformers must be imported lazily"
