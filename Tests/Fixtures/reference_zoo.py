"""The reference model zoo (shared/reference/models.py beside this repository), for the fixture scripts."""
import importlib.util
import sys
from pathlib import Path

DEFAULT_MODELS_PY = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "models.py"


def load_zoo(path=DEFAULT_MODELS_PY):
    """The ZOO dict of the reference file at `path` (name -> PyTorch class)."""
    # No bytecode cache: the reference file lives outside this repository.
    sys.dont_write_bytecode = True
    spec = importlib.util.spec_from_file_location("reference_models", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ZOO
