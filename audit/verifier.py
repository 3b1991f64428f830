"""The offline verifier shipped in every export (`verify_record.py` at the repository root),
loaded as a module: verify_audit checks signatures and proofs with the very code a tender
committee runs, so the two cannot drift apart."""
import importlib.util
import sys

from django.conf import settings

VERIFIER_PATH = settings.BASE_DIR / "verify_record.py"


def _load():
    name = "salesflow_verify_record"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, VERIFIER_PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


verify_record = _load()
