*** Settings ***
Documentation       Marburg: e-invoices from the mailbox rechnung@marburg.de.
...                 Process 'e-rechnung' (owner Fulda), configured by config.yaml beside this file.
Resource            e-rechnung/steps/e-rechnung.resource
Suite Setup         Start E-Rechnung Robot    ${CURDIR}/config.yaml


*** Tasks ***
Rechnungen aus dem Postfach übernehmen
    Take Invoices From Mailbox

Rechnungen prüfen und erfassen
    Process All Invoices
