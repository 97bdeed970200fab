*** Settings ***
Documentation       Limburg: e-invoices from the mailbox rechnung@limburg.de.
...                 Process 'e-rechnung' (owner Fulda), configured by config.yaml beside this file.
Resource            e-rechnung/steps/e-rechnung.resource
Suite Setup         Start E-Rechnung Robot    ${CURDIR}/config.yaml


*** Tasks ***
Rechnungen aus dem Postfach übernehmen
    Take Invoices From Mailbox

Rechnungen prüfen und erfassen
    Process All Invoices
