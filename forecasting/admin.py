from . import admin_evidence  # noqa: F401  (admin of evidence, gates and prepayments)
