"""Process entry points: the ASGI app factory, the worker and the ``campus`` command."""
