import logging

from celery import shared_task

from .selectors import audit_chain_verify
from .services import audit_record_atomic

logger = logging.getLogger(__name__)


@shared_task
def audit_chain_verify_task() -> str:
    """Verify the current tenant's chain and log the verdict into the chain itself."""
    verdict = audit_chain_verify()
    if verdict.intact:
        audit_record_atomic(actor="audit verifier", verb="audit.chain_verified", payload={"entries": verdict.count})
    else:
        logger.error("%s", verdict)
        audit_record_atomic(
            actor="audit verifier",
            verb="audit.chain_broken",
            payload={"broken_seq": verdict.broken_seq, "problem": verdict.problem, "entries_before": verdict.count},
        )
    return str(verdict)


# Celery's autodiscovery reads `audit.tasks` only: the packages' tasks register from here.
from .checkpoints import tasks as checkpoint_tasks  # noqa: E402,F401
from .export import tasks as export_tasks  # noqa: E402,F401
