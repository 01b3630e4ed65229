"""The use cases: one function per analysis or action, what the CLI and the API both call.

Each takes a :class:`~themer.usecases.context.Context` (settings, the store, where notes and
progress go) and a request (the input selection and the analysis options), and returns the
JSON-ready result that ``--json`` writes and the API answers. The doors only parse their own
arguments and render the result; so every analysis has the same numbers through both.

Modules are imported by the doors one by one (``themer --help`` loads none of them).
"""
