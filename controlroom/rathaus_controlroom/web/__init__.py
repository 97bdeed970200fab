"""HTTP only: the German UI (server-rendered) and the REST API; all logic is in services/."""
