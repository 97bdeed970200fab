*** Settings ***
Documentation       The Limburg mail room robot end to end on real parts: Dovecot over IMAP with STARTTLS,
...                 Tesseract for the scanned letter, the city's routing rules from its master data. The
...                 robot runs through ``rathaus run`` as a city runs it.
Library             Collections
Library             OperatingSystem
Library             PosteingangEnvironment.py    city=limburg
Suite Setup         Prepare General Mailbox With Sample Mails
Suite Teardown      Stop Everything


*** Variables ***
${REVIEW}       Pruefung


*** Test Cases ***
The Robot Routes The General Mailbox And Hands Unclear Items To A Clerk
    Should Contain    ${FIRST_RUN}    Verarbeitet: 9
    Should Contain    ${FIRST_RUN}    Zugeordnet: 6
    Should Contain    ${FIRST_RUN}    An die Sachbearbeitung übergeben: 3
    Should Contain    ${FIRST_RUN}    Fehlgeschlagen: 0
    Should Contain    ${FIRST_RUN}    Fachdienst Finanzen – Rechnungseingang: 2
    ${inbox}=    Folder Count    INBOX
    Should Be Equal As Integers    ${inbox}    0

Each Mail Lands In The Folder Of Its Department
    ${keys}=    Sample Keys
    FOR    ${key}    IN    @{keys}
        ${folder}=    Expected Folder    ${key}
        Sample Should Be In Folder    ${key}    ${folder}
    END
    ${folder}=    Expected Folder    e-rechnung
    Should Be Equal    ${folder}    Fachdienste.Finanzen.Rechnungseingang
    ${folder}=    Expected Folder    laermbeschwerde
    Should Be Equal    ${folder}    Fachdienste.Sicherheit und Ordnung

Every Mail Has Its Docket Next To It
    ${keys}=    Sample Keys
    FOR    ${key}    IN    @{keys}
        ${folder}=    Expected Folder    ${key}
        ${text}=    Docket Of Sample    ${key}    ${folder}
        Should Contain    ${text}    Laufzettel – Posteingang
        Should Match Regexp    ${text}    Eingangsnummer\\s+PE-20261102-[0-9A-F]{6}
        Should Contain    ${text}    Bearbeitungsfrist
        Should Contain    ${text}    Robot posteingang 0.1.0
    END
    ${text}=    Docket Of Sample    e-rechnung    Fachdienste.Finanzen.Rechnungseingang
    Should Contain    ${text}    E-Rechnung
    Should Contain    ${text}    Prozess E-Rechnung

The Scanned Letter Is Routed By Its Recognised Text
    [Documentation]    Its subject is "Scan" and its PDF has no text layer: only OCR can route it.
    ${folder}=    Expected Folder    scan-brief
    Should Be Equal    ${folder}    Fachdienste.Jugend und Kinderbetreuung
    ${text}=    Docket Of Sample    scan-brief    ${folder}
    Should Contain    ${text}    Kindertagesstätte
    Should Match Regexp    ${text}    Texterkennung \\(OCR\\)\\s+ja, 1 Seite\\(n\\), mittlere Konfidenz (8|9)\\d %
    Should Contain    ${text}    Text aus OCR
    ${text}=    Docket Of Sample    laermbeschwerde    Fachdienste.Sicherheit und Ordnung
    Should Match Regexp    ${text}    Texterkennung \\(OCR\\)\\s+nein

Unclear Mails And Unreadable Scans Go To Review With A German Message
    ${unreadable}=    Sample Message ID    scan-unlesbar
    ${tie}=    Sample Message ID    mehrdeutig
    ${unknown}=    Sample Message ID    ohne-treffer
    Should Contain    ${FIRST_RUN}    [SCAN_UNLESBAR] Posteingang ${unreadable}: Der Scan in Anhang Nr. 1 ist nicht lesbar.
    Should Contain    ${FIRST_RUN}    beim Absender eine bessere Kopie anfordern
    Should Contain    ${FIRST_RUN}    [GLEICHSTAND] Posteingang ${tie}: Zuordnung nicht eindeutig
    Should Contain    ${FIRST_RUN}    [KEIN_TREFFER] Posteingang ${unknown}: Keine Zuordnungsregel passt
    Should Contain    ${FIRST_RUN}    Die Mail liegt mit Laufzettel im Ordner '${REVIEW}'.
    ${text}=    Docket Of Sample    scan-unlesbar    ${REVIEW}
    Should Contain    ${text}    Grund der Prüfung
    Should Contain    ${text}    nicht lesbar
    ${text}=    Docket Of Sample    mehrdeutig    ${REVIEW}
    Should Contain    ${text}    Fachdienst Sicherheit und Ordnung: 7 Punkte
    Should Contain    ${text}    Fachdienst Stadtplanung und Bauen: 7 Punkte

Personal Data Stays Out Of The Log
    ${xml}=    Output Xml Of Last Run
    ${log}=    Get File    ${xml}
    ${secrets}=    Personal Data Of Samples
    Should Not Be Empty    ${secrets}
    FOR    ${secret}    IN    @{secrets}
        Should Not Contain    ${log}    ${secret}    msg=output.xml contains personal data    values=False
    END
    # dockets name citizens: none may be left in the run's output folder (uploaded as artifacts)
    ${run_dir}=    Evaluate    $xml.parent
    ${left}=    Evaluate    sorted(str(p) for p in $run_dir.rglob('*') if p.suffix in ('.eml', '.pdf'))
    Should Be Empty    ${left}    msg=Docket files left in the output folder: ${left}

A Second Run Routes Nothing Twice
    ${before}=    Folder Counts
    ${output}=    Run City Robot
    Should Contain    ${output}    Verarbeitet: 0
    ${after}=    Folder Counts
    Dictionaries Should Be Equal    ${before}    ${after}

A Lost Work Item Queue Files No Second Docket
    [Documentation]    The same mails arrive again and the queue that knew them is gone: every mail is
    ...    routed again, but each docket is found in its folder and not filed twice.
    Forget Work Item Queue
    Deliver Samples Again
    ${output}=    Run City Robot
    Should Contain    ${output}    Verarbeitet: 9
    Should Contain    ${output}    Zugeordnet: 6
    ${inbox}=    Folder Count    INBOX
    Should Be Equal As Integers    ${inbox}    0
    ${keys}=    Sample Keys
    FOR    ${key}    IN    @{keys}
        ${folder}=    Expected Folder    ${key}
        Docket Of Sample    ${key}    ${folder}
    END

A Mail Without Message ID Goes To Review At Once
    [Documentation]    Without a Message-ID a mail cannot be found again in a later run: the producer files
    ...    it in the review folder right away and the run summary says so.
    ${before}=    Folder Count    ${REVIEW}
    Deliver Mail Without Message ID
    ${output}=    Run City Robot
    Should Contain    ${output}    Verarbeitet: 0
    Should Contain    ${output}    Eine Mail ohne Message-ID (Eingang 02.11.2026, 09:30 Uhr) liegt ohne Laufzettel im Ordner '${REVIEW}'.
    ${after}=    Folder Count    ${REVIEW}
    Should Be Equal As Integers    ${after}    ${before + 1}
    ${inbox}=    Folder Count    INBOX
    Should Be Equal As Integers    ${inbox}    0

A Wrong Mailbox Password Stops The Run And Loses No Mail
    Deliver Samples Again
    ${output}=    Run City Robot    expected_rc=1    env__ACCEPTANCE_POSTSTELLE_PASSWORT=falsches-Passwort
    Should Contain    ${output}    Anmeldung am Postfach 'poststelle@127.0.0.1
    Should Not Contain    ${output}    falsches-Passwort
    ${inbox}=    Folder Count    INBOX
    Should Be Equal As Integers    ${inbox}    9


*** Keywords ***
Prepare General Mailbox With Sample Mails
    Start Mail Server
    ${count}=    Deliver Sample Mails
    Should Be Equal As Integers    ${count}    9
    ${output}=    Run City Robot
    VAR    ${FIRST_RUN}    ${output}    scope=SUITE

Folder Counts
    ${counts}=    Create Dictionary
    ${folders}=    Mailbox Folders
    FOR    ${folder}    IN    @{folders}
        ${count}=    Folder Count    ${folder}
        Set To Dictionary    ${counts}    ${folder}=${count}
    END
    RETURN    ${counts}
