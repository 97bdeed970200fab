*** Settings ***
Documentation       Wetzlar: applications for Unterhaltsvorschuss from the mailbox uvg@wetzlar.de.
...                 Process 'unterhaltsvorschuss' (owner Gießen), configured by config.yaml beside this file.
Resource            unterhaltsvorschuss/steps/unterhaltsvorschuss.resource
Suite Setup         Start Unterhaltsvorschuss Robot    ${CURDIR}/config.yaml


*** Tasks ***
Anträge aus dem Postfach übernehmen
    Take Applications From Mailbox

Anträge bearbeiten
    Process All Applications
