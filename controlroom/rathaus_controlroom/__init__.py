"""The self-hosted control room: clerks start robots, process owners publish, schedules run unattended.

``rathaus controlroom`` serves the web application (German UI and REST API) with an embedded SQLite database
or PostgreSQL; ``rathaus runner`` runs robots on other machines over the HTTP API. Layout: ``settings`` (the
one settings object), ``models`` (records), ``db`` (engine, sessions, migrations), ``services/`` (all business
logic and queries), ``web/`` (HTTP only: UI and API routes).
"""
