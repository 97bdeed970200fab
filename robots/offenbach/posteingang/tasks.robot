*** Settings ***
Documentation       Offenbach: the general mailbox poststelle@offenbach.de, sorted to the departments with a docket each.
...                 Process 'posteingang' (owner Limburg), configured by config.yaml beside this file.
Resource            posteingang/steps/posteingang.resource
Suite Setup         Start Posteingang Robot    ${CURDIR}/config.yaml


*** Tasks ***
Post aus dem Postfach übernehmen
    Take Mail From General Mailbox

Post zuordnen
    Route All Mail
