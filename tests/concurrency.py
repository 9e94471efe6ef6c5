"""Running calls at the same moment in real threads, each with its own database connection and transaction."""

import threading

from django.db import connection


def run_at_once(calls):
    """Start every call at the same moment in its own thread; return each one's result or exception."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except Exception as exc:  # collected and asserted by the test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results
