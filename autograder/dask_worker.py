"""Preload for grading workers: ``dask worker ADDRESS --preload autograder.dask_worker``.

The worker checks that it can sandbox (``dask_runner.check_worker``) as it starts, before it
joins the scheduler, instead of when the first class arrives. Without the preload a worker
is checked all the same, by the plugin every client registers, in that client's time."""

from autograder._internal.dask_runner import dask_setup

__all__ = ["dask_setup"]
