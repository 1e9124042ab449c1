"""The processes a build starts end when the process that started them ends, also when it is killed."""
import multiprocessing
import multiprocessing.connection
import os
import threading


def end_with_parent() -> None:
    """Called in a process that multiprocessing started (first thing, or as a pool's initializer): end
    it at once when the process that started it ends, however that ends. Without it, the worker of a
    killed build's pool waits for its next task for ever (a forked worker holds its task queue open
    itself), holding a copy of the build's memory and its lock."""
    threading.Thread(target=_wait_for_parent, daemon=True).start()


def _wait_for_parent() -> None:
    multiprocessing.connection.wait([multiprocessing.parent_process().sentinel])
    os._exit(1)
