"""Sandbox stand-ins for the systems that rathaus robots work with (demos and tests only)."""

#: sandbox applications by name -> module run with ``python -m`` (each offers the same command line:
#: ``--host --port --db --user NAME:PASSWORT --mandant``, prints its URL, answers ``/status``)
SANDBOX_APPS = {
    "uvg": "rathaus_sandbox.fachverfahren",
    "gewerberegister": "rathaus_sandbox.gewerberegister",
    "finanzen": "rathaus_sandbox.finanzen",
}
