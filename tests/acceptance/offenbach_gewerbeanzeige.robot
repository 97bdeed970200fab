*** Settings ***
Documentation       The Offenbach robot for trade notices (GewA1, GewA2, GewA3), end to end on real parts:
...                 Dovecot over IMAP with STARTTLS, an SMTP server, the sandbox Gewerberegister in Chromium,
...                 real PDF forms and Word receipts converted to PDF. The robot, written with German
...                 keywords, runs through ``rathaus run`` as a city runs it.
Library             Collections
Library             String
Library             GewerbeanzeigeEnvironment.py    city=offenbach
Suite Setup         Prepare Mailbox With Sample Notices
Suite Teardown      Stop Everything


*** Test Cases ***
The Robot Enters Good Notices And Hands Bad Ones To A Clerk
    ${output}=    Run City Robot
    VAR    ${FIRST_OUTPUT}    ${output}    scope=SUITE
    Should Contain    ${output}    Verarbeitet: 11
    Should Contain    ${output}    Eingetragen (Anmeldung): 3
    Should Contain    ${output}    Eingetragen (Ummeldung): 1
    Should Contain    ${output}    Eingetragen (Abmeldung): 1
    Should Contain    ${output}    Bereits im Gewerberegister (nicht erneut eingetragen): 1
    Should Contain    ${output}    An die Sachbearbeitung übergeben: 5
    Should Contain    ${output}    Fehlgeschlagen: 0
    Should Contain    ${output}    Empfangsbescheinigungen versandt: 5
    Should Contain    ${output}    Mitteilungen an beteiligte Stellen versandt: 27
    Mailbox Folders Should Hold    INBOX=0    Erledigt=6    Pruefung=5    Gesendet=32

Clerk Messages Name The Case And What Is Wrong
    ${output}=    Get Variable Value    ${FIRST_OUTPUT}    ${EMPTY}
    Clerk Message Should Say    ${output}    pflichtangaben-fehlen    PFLICHTANGABEN_FEHLEN    Geburtsdatum fehlt
    Clerk Message Should Say    ${output}    ummeldung-unbekannt    BETRIEB_UNBEKANNT    keinen Betrieb
    Clerk Message Should Say    ${output}    abmeldung-vor-beginn    ENDE_VOR_BEGINN    vor dem im Gewerberegister
    Clerk Message Should Say    ${output}    kein-formular    KEIN_GEWERBEFORMULAR    Keine der PDF-Dateien ist ein Formular GewA1
    Clerk Message Should Say    ${output}    ohne-anhang    KEIN_ANHANG    keine PDF-Datei

The Register Holds Each Business Once With Its History
    ${entries}=    Register Entries
    Length Should Be    ${entries}    6
    ${feinkost}=    Entry Named    ${entries}    Feinkost am Markt Ayşe Öztürk
    Should Be Equal    ${feinkost}[inhaber_vorname]    Ayşe
    ${anmeldung}=    Sample Message ID    anmeldung-handel
    Should Be Equal    ${feinkost}[vorgaenge][0][eingang_referenz]    ${anmeldung}
    ${moved}=    Entry Named    ${entries}    Getränkehandel Großmann
    Should Be Equal    ${moved}[vorgaenge][-1][art]    Ummeldung
    Should Contain    ${moved}[vorgaenge][-1][beschreibung]    Verlegung der Betriebsstätte
    ${closed}=    Entry Named    ${entries}    Blumen Weiß
    Should Be Equal    ${closed}[status]    abgemeldet
    ${too_early}=    Entry Named    ${entries}    Nähstube Kowalczyk
    Should Be Equal    ${too_early}[status]    angemeldet
    Length Should Be    ${too_early}[vorgaenge]    1

Each Entered Notice Gets A Receipt As PDF
    ${mails}=    Sent Mails
    ${receipts}=    Evaluate    [m for m in $mails if m['in_reply_to']]
    Length Should Be    ${receipts}    5
    ${id}=    Sample Message ID    anmeldung-handwerk
    ${receipt}=    Receipt To    ${id}
    Should Be Equal    ${receipt}[to]    buero@elektro-gmbh.example
    Should Start With    ${receipt}[subject]    Empfangsbescheinigung zu Ihrer Gewerbe-Anmeldung (GewA 1)
    Should Match Regexp    ${receipt}[file]    ^GEW-\\d{4}-\\d{5}-GewA1-empfangsbescheinigung\\.pdf$
    Should Contain    ${receipt}[letter]    Empfangsbescheinigung nach § 15 Abs. 1 Gewerbeordnung
    Should Contain    ${receipt}[letter]    Elektrotechnik Schäfer GmbH
    Should Contain    ${receipt}[letter]    Handwerkskammer Frankfurt-Rhein-Main
    Should Contain    ${receipt}[letter]    Stadt Offenbach am Main
    ${duplicate}=    Sample Message ID    anmeldung-doppelt
    Run Keyword And Expect Error    0 replies to*    Receipt To    ${duplicate}

Crafts Are Notified To The Handwerkskammer And Other Businesses To The IHK
    ${ihk}=    Body Address    ihk
    ${hwk}=    Body Address    hwk
    ${entries}=    Register Entries
    ${craft}=    Entry Named    ${entries}    Elektrotechnik Schäfer GmbH
    ${to}=    Notification Recipients    ${craft}[registernummer]
    Should Contain    ${to}    ${hwk}
    Should Not Contain    ${to}    ${ihk}
    Length Should Be    ${to}    6
    ${trade}=    Entry Named    ${entries}    Feinkost am Markt Ayşe Öztürk
    ${to}=    Notification Recipients    ${trade}[registernummer]
    Should Contain    ${to}    ${ihk}
    Should Not Contain    ${to}    ${hwk}
    ${side}=    Entry Named    ${entries}    IT-Beratung Nguyễn
    ${to}=    Notification Recipients    ${side}[registernummer]
    ${finanzamt}=    Body Address    finanzamt
    ${statistik}=    Body Address    statistik
    ${expected}=    Evaluate    sorted([$ihk, $finanzamt, $statistik])
    Lists Should Be Equal    ${to}    ${expected}

The Statistics Office Gets No Names
    ${entries}=    Register Entries
    ${trade}=    Entry Named    ${entries}    Feinkost am Markt Ayşe Öztürk
    ${statistik}=    Notification To    statistik    ${trade}[registernummer]
    Should Not Contain    ${statistik}[text]    Öztürk,
    Should Not Contain    ${statistik}[text]    ${trade}[inhaber_geburtsdatum]
    Should Contain    ${statistik}[text]    Staatsangehörigkeit: türkisch
    Length Should Be    ${statistik}[attachments]    1

Personal Data Stays Out Of The Log
    ${xml}=    Output XML Of Last Run
    ${personal}=    Personal Data Of Samples
    FOR    ${value}    IN    @{personal}
        Should Not Contain    ${xml}    ${value}    msg=Personal data '${value}' is in output.xml.
    END

A Second Run On The Same Mails Enters Nothing Twice
    ${before}=    Sent Mails
    Deliver Samples Again
    ${output}=    Run City Robot
    Should Contain    ${output}    Verarbeitet: 0
    ${entries}=    Register Entries
    Length Should Be    ${entries}    6
    ${after}=    Sent Mails
    Length Should Be    ${after}    ${{ len($before) }}

A Lost Work Item Queue Still Enters Nothing Twice
    [Documentation]    The register's own search finds the notices that a lost queue forgot; the copies of
    ...    mails that were done before get no second receipt and no second notification.
    ${before}=    Sent Mails
    Forget Work Item Queue
    ${output}=    Run City Robot
    Should Contain    ${output}    Eingetragen (Anmeldung): 0
    Should Contain    ${output}    Bereits im Gewerberegister (nicht erneut eingetragen): 6
    Should Contain    ${output}    An die Sachbearbeitung übergeben: 5
    ${entries}=    Register Entries
    Length Should Be    ${entries}    6
    ${history}=    Evaluate    sum(len(e['vorgaenge']) for e in $entries)
    Should Be Equal As Integers    ${history}    8
    ${after}=    Sent Mails
    Length Should Be    ${after}    ${{ len($before) }}

A Corrected Case Is What Gets Entered On Retry
    [Documentation]    The incomplete notice kept what its form said as case data (``fall``); a clerk fills in
    ...    what was missing and changes an entry, then tries again: the next run enters the corrected data, not
    ...    the form, sends the receipt and files the mail from the review folder.
    ${id}=    Sample Message ID    pflichtangaben-fehlen
    ${item}=    Work Item    ${id}
    Should Be Equal    ${item}[code]    PFLICHTANGABEN_FEHLEN
    Should Be Equal    ${item}[payload][fall][inhaber][geburtsdatum]    ${None}
    Should Be Equal    ${item}[payload][fall][betrieb][name]    Imbiss am Bahnhof
    ${done_before}=    Folder Count    Erledigt
    Correct Case And Retry    ${id}    inhaber.geburtsdatum=01.02.1990    betrieb.plz=63067
    ...    betrieb.taetigkeit=Imbiss mit Getränkeverkauf
    ${output}=    Run City Robot
    Should Contain    ${output}    Verarbeitet: 1
    Should Contain    ${output}    Eingetragen (Anmeldung): 1
    ${entries}=    Register Entries
    ${imbiss}=    Entry Named    ${entries}    Imbiss am Bahnhof
    Should Be Equal    ${imbiss}[inhaber_geburtsdatum]    01.02.1990
    Should Be Equal    ${imbiss}[betrieb_plz]    63067
    Should Be Equal    ${imbiss}[betrieb_taetigkeit]    Imbiss mit Getränkeverkauf
    Should Be Equal    ${imbiss}[vorgaenge][0][eingang_referenz]    ${id}
    ${receipt}=    Receipt To    ${id}
    Should Be Equal    ${receipt}[to]    imbiss@bahnhof-imbiss.example
    Should Contain    ${receipt}[letter]    Imbiss mit Getränkeverkauf
    ${item}=    Work Item    ${id}
    Should Be Equal    ${item}[status]    done
    ${done_after}=    Folder Count    Erledigt
    Should Be True    ${done_after} > ${done_before}    msg=The corrected case's mail was not filed.

An Unexpected Failure Of One Case Goes To A Clerk After The Limit And Blocks No Other Case
    [Documentation]    Two loose PDFs uploaded in the control room: one whose work item holds case data that is
    ...    no JSON object (nothing the control room stores: an error nobody foresaw), and a good Anmeldung
    ...    whose owner gave no e-mail address. The good one is entered and its receipt kept for posting; the
    ...    broken one is retried, and after ``pruefung.max_fehlversuche`` unexpected failures in a row it goes
    ...    to a clerk with a note naming the case. The clerk adds an address to the good one and retries it:
    ...    its receipt goes out by mail, the bodies are not notified twice.
    Upload Notice    UP-GEWERBE-FEHLER    case_data=kaputt
    Upload Notice    UP-GEWERBE-POST    business=Webdesign Nguyễn
    ${sent_before}=    Sent Mails
    ${output}=    Run City Robot    expected_rc=1    pruefung__max_fehlversuche=${2}
    Should Contain    ${output}    1 Gewerbeanzeige(n) wegen technischer Fehler nicht bearbeitet
    ${broken}=    Work Item    UP-GEWERBE-FEHLER
    Should Be Equal    ${broken}[status]    failed_application
    Should Be Equal    ${broken}[code]    UNEXPECTED
    ${count}=    Unexpected Failures    Gewerbeanzeige UP-GEWERBE-FEHLER
    Should Be Equal As Integers    ${count}    1
    ${good}=    Work Item    UP-GEWERBE-POST
    Should Be Equal    ${good}[status]    failed_business
    Should Be Equal    ${good}[code]    SCHREIBEN_PER_POST
    Should Contain    ${good}[message]    Gewerbeanzeige UP-GEWERBE-POST (GewA1)
    Should Contain    ${good}[message]    per Post
    ${letters}=    Evaluate    [f for f in $good['files'] if re.fullmatch(r'GEW-\\d{4}-\\d{5}-GewA1-empfangsbescheinigung\\.(pdf|docx)', f)]
    ...    modules=re
    Length Should Be    ${letters}    1    msg=The receipt to post is not among the case's files: ${good}[files]
    Should Be Equal    ${good}[payload][ergebnis]    eingetragen
    ${eingang}=    Evaluate    datetime.date.today().strftime('%d.%m.%Y')    modules=datetime
    Should Be Equal    ${good}[payload][eingang]    ${eingang}
    ${entries}=    Register Entries
    ${webdesign}=    Entry Named    ${entries}    Webdesign Nguyễn
    Should Be Equal    ${webdesign}[vorgaenge][0][eingang_referenz]    UP-GEWERBE-POST
    Should Be Equal    ${webdesign}[vorgaenge][0][eingang_kanal]    post
    ${sent_after}=    Sent Mails
    ${replies}=    Evaluate    [m for m in $sent_after[len($sent_before):] if m['in_reply_to'] or 'Empfangsbescheinigung' in m['subject']]
    Should Be Empty    ${replies}    msg=A receipt was mailed for an upload without any address.
    ${nummer}=    Set Variable    ${good}[payload][registernummer]
    ${notified}=    Notification Recipients    ${nummer}
    Should Not Be Empty    ${notified}
    Retry Work Item    UP-GEWERBE-FEHLER
    Correct Case And Retry    UP-GEWERBE-POST    inhaber.email=hallo@webdesign-nguyen.example
    ${output}=    Run City Robot    pruefung__max_fehlversuche=${2}
    ${good}=    Work Item    UP-GEWERBE-POST
    Should Be Equal    ${good}[status]    done
    ${receipts}=    Evaluate    [m for m in $sent_after if m['to'] == 'hallo@webdesign-nguyen.example']
    Should Be Empty    ${receipts}
    ${mails}=    Sent Mails
    ${receipts}=    Evaluate    [m for m in $mails if m['to'] == 'hallo@webdesign-nguyen.example']
    Length Should Be    ${receipts}    1
    Should Start With    ${receipts}[0][subject]    Empfangsbescheinigung zu Ihrer Gewerbe-Anmeldung (GewA 1)
    ${again}=    Notification Recipients    ${nummer}
    Lists Should Be Equal    ${again}    ${notified}    msg=The bodies were notified twice.
    ${broken}=    Work Item    UP-GEWERBE-FEHLER
    Should Be Equal    ${broken}[status]    failed_business
    Should Be Equal    ${broken}[code]    WIEDERHOLT_UNERWARTET
    Should Contain    ${broken}[message]    Gewerbeanzeige UP-GEWERBE-FEHLER: Die Verarbeitung ist 2-mal hintereinander
    Should Contain    ${broken}[message]    bitte den Fall von Hand bearbeiten
    Should Contain    ${output}    [WIEDERHOLT_UNERWARTET] Gewerbeanzeige UP-GEWERBE-FEHLER

A Wrong Register Password Stops The Run And Loses No Mail
    Forget Work Item Queue
    Deliver Samples Again
    ${before}=    Folder Count    INBOX
    ${url}=    Start Separate Register    richtiges-Passwort
    ${output}=    Run City Robot    expected_rc=1    gewerberegister__url=${url}
    ...    env__OFFENBACH_GEWERBEREGISTER_PASSWORT=falsches-Passwort
    Should Contain    ${output}    Anmeldung am Gewerberegister
    Should Contain    ${output}    OFFENBACH_GEWERBEREGISTER_PASSWORT
    Should Not Contain    ${output}    falsches-Passwort
    ${after}=    Folder Count    INBOX
    Should Be Equal    ${before}    ${after}


*** Keywords ***
Prepare Mailbox With Sample Notices
    Start Mail Servers
    ${count}=    Deliver Sample Notices
    Should Be Equal As Integers    ${count}    11

Mailbox Folders Should Hold
    [Arguments]    &{expected}
    FOR    ${folder}    ${count}    IN    &{expected}
        ${actual}=    Folder Count    ${folder}
        Should Be Equal As Integers    ${actual}    ${count}    msg=Folder ${folder}: ${actual} mails, expected ${count}
    END

Clerk Message Should Say
    [Arguments]    ${output}    ${sample}    ${code}    ${text}
    ${id}=    Sample Message ID    ${sample}
    ${line}=    Get Lines Containing String    ${output}    [${code}] Gewerbeanzeige ${id}
    Should Not Be Empty    ${line}    msg=No clerk message [${code}] for ${id}.
    Should Contain    ${line}    ${text}

Entry Named
    [Arguments]    ${entries}    ${name}
    VAR    @{matches}
    FOR    ${entry}    IN    @{entries}
        IF    $entry['betrieb_name'] == $name    Append To List    ${matches}    ${entry}
    END
    Length Should Be    ${matches}    1    msg=Expected one register entry '${name}'.
    RETURN    ${matches}[0]
