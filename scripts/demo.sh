#!/usr/bin/env bash
# The demo behind `make demo`: sample input for each of the five processes, each run by the city that owns it,
# then the process catalogue and the check of all city robots. Local data goes to var/demo (RATHAUS_HOME).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
RATHAUS=.venv/bin/rathaus
export RATHAUS_HOME="$PWD/var/demo"
rm -rf "$RATHAUS_HOME"
samples="$RATHAUS_HOME/beispiele"

step() { printf '\n=== %s\n' "$*"; }

step "Gießen: Anträge auf Unterhaltsvorschuss (Prozess unterhaltsvorschuss)"
$PY processes/unterhaltsvorschuss/samples/generate.py --out "$samples/unterhaltsvorschuss" \
  --maildir "$RATHAUS_HOME/giessen/uvg"
$RATHAUS run giessen/unterhaltsvorschuss

step "Fulda: E-Rechnungen (Prozess e-rechnung)"
$PY processes/e-rechnung/samples/generate.py --city fulda --out "$samples/e-rechnung" \
  --maildir "$RATHAUS_HOME/fulda/rechnung"
$RATHAUS run fulda/e-rechnung

step "Offenbach: Gewerbeanzeigen (Prozess gewerbeanzeige, in deutschen Schlüsselwörtern geschrieben)"
$PY processes/gewerbeanzeige/samples/generate.py --city offenbach --out "$samples/gewerbeanzeige" \
  --maildir "$RATHAUS_HOME/offenbach/gewerbe" \
  --register "$RATHAUS_HOME/offenbach/gewerbeanzeige/gewerberegister.sqlite"
$RATHAUS run offenbach/gewerbeanzeige

step "Limburg: Posteingang mit Texterkennung (Prozess posteingang)"
$PY processes/posteingang/samples/generate.py --city limburg --out "$samples/posteingang" \
  --maildir "$RATHAUS_HOME/limburg/poststelle"
$RATHAUS run limburg/posteingang

step "Marburg: Nutzungsstatistik als Open Data (Prozess nutzungsstatistik)"
$PY processes/nutzungsstatistik/samples/generate.py --city marburg --year 2025 \
  --out "$RATHAUS_HOME/marburg/nutzungsstatistik/exporte"
$RATHAUS run marburg/nutzungsstatistik
echo "Veröffentlicht in: $RATHAUS_HOME/marburg/nutzungsstatistik/veroeffentlicht"

step "Katalog der Prozesse und Prüfung aller Stadt-Roboter"
$RATHAUS processes
$RATHAUS check

step "Kontrollraum mit den sechs Städten, Demo-Zugängen und allen Robotern (beenden mit Strg+C)"
exec $RATHAUS controlroom --demo --data "$RATHAUS_HOME/kontrollraum" --port "${RATHAUS_DEMO_PORT:-8080}"
