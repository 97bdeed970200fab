*** Settings ***
Documentation       The Gießen robot for Unterhaltsvorschuss, end to end on real parts: Dovecot over
...                 IMAP with STARTTLS, an SMTP server, the sandbox Fachverfahren in Chromium, real PDF
...                 forms and Word letters. The robot runs through ``rathaus run`` as a city runs it.
Library             Collections
Library             OperatingSystem
Library             AcceptanceEnvironment.py
Suite Setup         Prepare Mailbox With Sample Applications
Suite Teardown      Stop Everything


*** Variables ***
${ROBOT}        giessen/unterhaltsvorschuss


*** Test Cases ***
The Robot Enters Good Applications And Hands Bad Ones To A Clerk
    ${output}=    Run City Robot    ${ROBOT}
    Should Contain    ${output}    Verarbeitet: 10
    Should Contain    ${output}    Eingetragen: 4
    Should Contain    ${output}    An die Sachbearbeitung übergeben: 6
    Should Contain    ${output}    Fehlgeschlagen: 0
    Log File Of Last Run
    Mailbox Folders Should Hold    INBOX=0    Erledigt=4    Pruefung=6
    Fachverfahren Should Hold Cases    5

Cases Are Entered With Their Umlauts Intact
    ${cases}=    Fachverfahren Cases
    ${names}=    Evaluate    [(c['antragsteller_name'], c['antragsteller_vorname']) for c in $cases]
    Should Contain    ${names}    ${{('Müller', 'Jürgen')}}
    Should Contain    ${names}    ${{('Öztürk', 'Ayşe')}}
    ${first}=    Get From List    ${cases}    0
    Should Be Equal    ${first}[antragsteller_strasse]    Schloßgasse 7

Each Entered Case Gets A Reply With Its Letter
    ${replies}=    Sent Replies
    Length Should Be    ${replies}    5
    ${good}=    Sample Message ID    gut-1
    ${reply}=    Reply To    ${good}
    Should Start With    ${reply}[subject]    Eingangsbestätigung
    Should Match Regexp    ${reply}[attachments][0]    ^UVG-\\d{4}-\\d{6}-eingangsbestaetigung\\.(pdf|docx)$
    ${missing}=    Sample Message ID    nachforderung
    ${request}=    Reply To    ${missing}
    Should Contain    ${request}[subject]    Unterlagen nachreichen

The Request For Missing Documents Names What Is Missing
    ${letters}=    Letters Of Last Run
    Length Should Be    ${letters}    5
    ${request}=    Evaluate    next(p for p in $letters if 'nachforderung' in p.name)
    ${text}=    Letter Text    ${request}
    Should Contain    ${text}    Geburtsurkunde des Kindes
    Should Contain    ${text}    Universitätsstadt Gießen

Personal Data Stays Out Of The Log
    ${log}=    Log File Of Last Run
    ${xml}=    Get File    ${log.parent}/output.xml
    Should Not Contain    ${xml}    DE89370400440532013000
    Should Not Contain    ${xml}    Jürgen
    Should Not Contain    ${xml}    Schloßgasse

A Second Run On The Same Mails Enters Nothing Twice
    Deliver Samples Again
    ${output}=    Run City Robot    ${ROBOT}
    Should Contain    ${output}    Eingetragen: 0
    Fachverfahren Should Hold Cases    5

A Lost Work Item Queue Still Enters Nothing Twice
    [Documentation]    The Fachverfahren's own search finds the cases that a lost queue forgot.
    Forget Work Item Queue
    ${output}=    Run City Robot    ${ROBOT}
    Should Contain    ${output}    Eingetragen: 0
    Should Contain    ${output}    Bereits vorhanden (nicht erneut eingetragen): 4
    Fachverfahren Should Hold Cases    5

An Unexpected Failure Of One Application Goes To A Clerk After The Limit And Blocks No Other
    [Documentation]    Two uploaded applications: one whose work item holds case data that is no JSON object
    ...    (nothing the control room stores: an error nobody foresaw), and a complete one. The complete one is
    ...    processed; the broken one is retried, and after ``pruefung.max_fehlversuche`` unexpected failures in
    ...    a row it goes to a clerk with a note naming the case, instead of failing every run.
    ${broken}=    Upload Sample Application    gut-1    upload-kaputt@antrag.example.org    case_data=kaputt
    ${good}=    Upload Sample Application    gut-2    upload-gut@antrag.example.org
    ${output}=    Run City Robot    ${ROBOT}    expected_rc=1    pruefung__max_fehlversuche=${2}
    Should Contain    ${output}    1 Antrag/Anträge wegen technischer Fehler nicht bearbeitet
    ${item}=    Work Item    ${broken}
    Should Be Equal    ${item}[status]    failed_application
    Should Be Equal    ${item}[code]    UNEXPECTED
    ${count}=    Unexpected Failures    Antrag ${broken}
    Should Be Equal As Integers    ${count}    1
    ${item}=    Work Item    ${good}
    Should Be Equal    ${item}[status]    done
    Retry Work Item    ${broken}
    ${output}=    Run City Robot    ${ROBOT}    pruefung__max_fehlversuche=${2}
    ${item}=    Work Item    ${broken}
    Should Be Equal    ${item}[status]    failed_business
    Should Be Equal    ${item}[code]    WIEDERHOLT_UNERWARTET
    Should Contain    ${item}[message]    Antrag ${broken}: Die Verarbeitung ist 2-mal hintereinander
    Should Contain    ${item}[message]    Die hochgeladenen Dateien liegen beim Fall im Kontrollraum.
    Should Contain    ${output}    [WIEDERHOLT_UNERWARTET] Antrag ${broken}

A Wrong Fachverfahren Password Stops The Run And Loses No Mail
    Forget Work Item Queue
    Deliver Samples Again
    ${before}=    Folder Count    INBOX
    ${url}=    Start Separate Fachverfahren    richtiges-Passwort
    ${output}=    Run City Robot    ${ROBOT}    expected_rc=1    fachverfahren__url=${url}
    ...    env__GIESSEN_UVG_FACHVERFAHREN_PASSWORT=falsches-Passwort
    Should Contain    ${output}    Anmeldung am Fachverfahren
    Should Contain    ${output}    GIESSEN_UVG_FACHVERFAHREN_PASSWORT
    Should Not Contain    ${output}    falsches-Passwort
    ${after}=    Folder Count    INBOX
    Should Be Equal    ${before}    ${after}

An Unreachable Fachverfahren Stops The Run And Loses No Mail
    ${before}=    Folder Count    INBOX
    ${url}=    URL Where Nothing Listens
    ${output}=    Run City Robot    ${ROBOT}    expected_rc=1    fachverfahren__url=${url}
    Should Contain    ${output}    nicht erreichbar
    ${after}=    Folder Count    INBOX
    Should Be Equal    ${before}    ${after}


*** Keywords ***
Prepare Mailbox With Sample Applications
    Start Mail Servers
    ${count}=    Deliver Sample Applications    good=4
    Should Be Equal As Integers    ${count}    10

Mailbox Folders Should Hold
    [Arguments]    &{expected}
    FOR    ${folder}    ${count}    IN    &{expected}
        ${actual}=    Folder Count    ${folder}
        Should Be Equal As Integers    ${actual}    ${count}    msg=Folder ${folder}: ${actual} mails, expected ${count}
    END

Fachverfahren Should Hold Cases
    [Arguments]    ${count}
    ${cases}=    Fachverfahren Cases
    Length Should Be    ${cases}    ${count}
