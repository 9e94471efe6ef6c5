"""Background jobs of the imports app (the ``imports`` queue). Thin: the work is ``services.run_job``."""

from django_tasks import task

from guanxi.core.context import system_context


@task(queue_name="imports")
def run_import(job_id: int) -> dict:
    from guanxi.imports import services

    with system_context("import"):
        job = services.run_job(job_id)
    return {"status": job.status, "created": job.created_count, "rejected": job.rejected_count}
