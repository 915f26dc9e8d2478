"""painpoints' surfaces: the ``painpoints`` command (``painpoints.cli``), later the web app, MCP server
and Python API. They sit on top of the layers below and only call them:

    painpoints (surfaces) → flows (Prefect orchestration) → discovery (library) → connectors

``make lint`` enforces this order with import-linter (``[tool.importlinter]`` in pyproject.toml).
"""
