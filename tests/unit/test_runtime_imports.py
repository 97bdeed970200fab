"""The robot runtime (keyword libraries, process core, ``rathaus run``) loads no web or database package."""

import json
import subprocess
import sys

CONTROL_ROOM_PACKAGES = ("sqlalchemy", "fastapi", "starlette", "uvicorn", "alembic", "psycopg", "argon2",
                         "croniter", "rathaus_controlroom")

PROGRAM = """
import json, sys
import rathaus
from rathaus import Documents, EInvoice, Mail, PDF, Process, WebForms, WorkItems
import rathaus.core.runner, rathaus.core.packaging, rathaus.core.catalogue
for library in (Documents, EInvoice, Mail, PDF, Process, WebForms, WorkItems):
    library()
print(json.dumps(sorted({name.split('.')[0] for name in sys.modules})))
"""


def test_keyword_libraries_and_process_core_need_no_control_room_packages():
    answer = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True, check=True)
    loaded = set(json.loads(answer.stdout.splitlines()[-1]))
    assert "rathaus" in loaded and "robot" in loaded
    assert loaded.isdisjoint(CONTROL_ROOM_PACKAGES), sorted(loaded & set(CONTROL_ROOM_PACKAGES))
