"""Performance benchmarks of collabsim: ``uv run python -m benchmarks [--quick]``.

See ``benchmarks/README.md``. Not part of the ``sim`` package; nothing in ``sim``
imports this.
"""
