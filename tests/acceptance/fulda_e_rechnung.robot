*** Settings ***
Documentation       The Fulda robot for e-invoices, end to end on real parts: Dovecot over IMAP with
...                 STARTTLS, an SMTP server, the sandbox finance system in Chromium, real XRechnung
...                 (UBL, CII) and ZUGFeRD files. The robot runs through ``rathaus run`` as a city runs it.
Library             Collections
Library             OperatingSystem
Library             String
Library             ERechnungEnvironment.py
Suite Setup         Prepare Mailbox With Sample Invoices
Suite Teardown      Stop Everything


*** Variables ***
${ROBOT}        fulda/e-rechnung


*** Test Cases ***
The Robot Enters Good Invoices, Rejects Bad Ones And Hands Mails Without Invoice To A Clerk
    ${output}=    Run City Robot    ${ROBOT}
    Should Contain    ${output}    Verarbeitet: 13
    Should Contain    ${output}    Erfasst: 5
    Should Contain    ${output}    Bereits erfasst: 1
    Should Contain    ${output}    Abgelehnt (Rückweisung an den Absender): 5
    Should Contain    ${output}    An die Sachbearbeitung übergeben: 2
    Should Contain    ${output}    Fehlgeschlagen: 0
    Should Contain    ${output}    [KEINE_E_RECHNUNG] Mail <erechnung-fulda-ohne-anhang.11@
    Should Contain    ${output}    Erfasst je Buchungskreis: 1000: 4 Rechnungen
    Should Contain    ${output}    Rückweisungen an die Absender versandt: 5
    Mailbox Folders Should Hold    INBOX=0    Erledigt=5    Abgelehnt=5    Pruefung=2    Gesendet=5

Invoices Are Entered Once Each, Under The Buchungskreis Of Their Leitweg-ID
    ${entries}=    Finance Entries
    Length Should Be    ${entries}    5
    ${by_number}=    Evaluate    {e['rechnungsnummer']: e for e in $entries}
    Entry Should Be Routed    ${by_number}[BV-FU-2026-10417]    1000    1040000    06631009-40-50
    Entry Should Be Routed    ${by_number}[DWM-FU-26-0877]    1000    1010100    06631009-10-43
    Entry Should Be Routed    ${by_number}[LWO-FU-2026-3302]    1000    1066200    06631009-66-69
    Entry Should Be Routed    ${by_number}[GGD-FU-2026-1104]    1000    1040000    06631009-40-50
    Entry Should Be Routed    ${by_number}[GGD-FU-2026-1105]    2000    2100000    06631009-EBF-30
    ${expected}=    Expected Outcomes
    FOR    ${sample}    IN    @{expected}
        FOR    ${invoice}    IN    @{sample}[rechnungen]
            IF    '${sample}[erwartet]' == 'erfasst'
                Should Be Equal    ${by_number}[${invoice}[nummer]][zahlbetrag]    ${invoice}[zahlbetrag]
                Should Be Equal    ${by_number}[${invoice}[nummer]][lieferant]    ${invoice}[lieferant]
            END
        END
    END
    Should Be Equal    ${by_number}[LWO-FU-2026-3302][rechnungsdatum]    2026-11-04
    Should Be Equal    ${by_number}[LWO-FU-2026-3302][faelligkeit]    2026-11-18
    Should Be Equal As Integers    ${by_number}[DWM-FU-26-0877][positionen]    3
    Should Be Equal    ${by_number}[DWM-FU-26-0877][erfasst_von]    robot.fulda

Each Entered Invoice Is Archived With Its Original, Enclosures And Sidecar
    ${records}=    Archived Invoices
    Length Should Be    ${records}    5
    ${entries}=    Finance Entries
    ${by_number}=    Evaluate    {e['rechnungsnummer']: e for e in $entries}
    FOR    ${record}    IN    @{records}
        ${entry}=    Get From Dictionary    ${by_number}    ${record}[rechnungsnummer]
        Should Be Equal    ${record}[beleg]    ${entry}[belegnummer]
        Should Be Equal    ${entry}[archiv_referenz]    ${record}[referenz]
        Should Start With    ${record}[referenz]    2026/${entry}[leitweg_id]/
        ${sha}=    Archived File SHA256    ${record}[referenz]    ${record}[datei][name]
        Should Be Equal    ${sha}    ${record}[datei][sha256]
    END
    ${zugferd}=    Evaluate    next(r for r in $records if r['rechnungsnummer'] == 'LWO-FU-2026-3302')
    ${original}=    Sample Attachment SHA256    zugferd    Rechnung_LWO-FU-2026-3302.pdf
    Should Be Equal    ${zugferd}[datei][sha256]    ${original}
    ${message_id}=    Sample Message ID    zugferd
    Should Be Equal    ${zugferd}[message_id]    ${message_id}
    ${cleaning}=    Evaluate    next(r for r in $records if r['rechnungsnummer'] == 'GGD-FU-2026-1105')
    Should Be Equal    ${cleaning}[dateien]
    ...    ${{['GGD-FU-2026-1105.xml', 'anlage-Leistungsnachweis_Oktober_2026.pdf', 'beleg.json']}}

Each Bad Invoice Goes Back To Its Sender With The Reasons
    ${mails}=    Sent Mails
    Length Should Be    ${mails}    5
    Rejection Should Name    rechenfehler    GLD-FU-2026-0555    BR-CO-15
    Rejection Should Name    ohne-leitweg-id    BV-FU-2026-10502    BR-DE-15
    Rejection Should Name    pruefziffer-falsch    DWM-FU-26-0912    LEITWEG-ID
    Rejection Should Name    leitweg-unbekannt    GLD-FU-2026-0561    LEITWEG-UNBEKANNT
    Rejection Should Name    xml-kaputt    Rechnung_LWO-FU-2026-3317.xml    SYNTAX-XML
    ${id}=    Sample Message ID    leitweg-unbekannt
    ${replies}=    Replies To    ${id}
    Should Contain    ${replies}[0][body]    Die Leitweg-ID '06531005-6600-27' (BT-10) gehört zu keinem Rechnungsempfänger der Stadt Fulda.
    Should Contain    ${replies}[0][body]    Die Rechnungsempfänger der Stadt Fulda:
    Should Contain    ${replies}[0][body]    06631009-66-69
    Should Be Equal    ${replies}[0][to]    rechnung@gruenpflege-lahn-dill.example
    Should Contain    ${replies}[0][from]    rechnung@fulda.de

Mails Without An E-Invoice Go To A Clerk And Get No Reply
    FOR    ${key}    IN    pdf-ohne-rechnung    ohne-anhang
        ${id}=    Sample Message ID    ${key}
        ${replies}=    Replies To    ${id}
        Should Be Empty    ${replies}
    END

Invoice Contents And Contacts Stay Out Of The Log
    ${xml}=    Output XML Of Last Run
    ${log}=    Get File    ${xml}
    Should Not Contain    ${log}    DE12530501800019876543
    Should Not Contain    ${log}    Michael Größler
    Should Not Contain    ${log}    Kopierpapier
    Should Not Contain    ${log}    Katharina Jöckel
    Should Not Contain    ${log}    Lichtwerk Osthessen
    Should Not Contain    ${log}    Lichtwerk_Osthessen

An Invoice Whose Enclosure Is Too Large Goes To A Clerk Instead Of Being Archived Without It
    [Documentation]    With the limit lowered to 1 MB, a copy of an entered invoice with a 1.5 MB scan is
    ...    neither entered, archived nor filed as done: its mail goes to the review folder.
    ${id}=    Deliver Invoice With Oversized Enclosure    zugferd    1.5
    ${output}=    Run City Robot    ${ROBOT}    pruefung__max_anhang_mb=${1}
    Should Contain    ${output}    Verarbeitet: 1
    Should Not Contain    ${output}    Bereits erfasst
    Should Contain    ${output}    An die Sachbearbeitung übergeben: 1
    Should Contain    ${output}
    ...    [MAIL_ATTACHMENT_TOO_LARGE] Mail ${id}: Der Anhang 'Lieferschein_Scan.pdf' ist größer als 1 MB und wurde nicht übernommen.
    Finance Should Hold Entries    5
    ${records}=    Archived Invoices
    Length Should Be    ${records}    5
    Mailbox Folders Should Hold    INBOX=0    Erledigt=5    Abgelehnt=5    Pruefung=3    Gesendet=5

A Second Run On The Same Mails Enters And Sends Nothing Twice
    Deliver Samples Again
    ${output}=    Run City Robot    ${ROBOT}
    Should Contain    ${output}    Verarbeitet: 0
    Should Contain    ${output}    Erfasst: 0
    Finance Should Hold Entries    5
    ${mails}=    Sent Mails
    Length Should Be    ${mails}    5
    Mailbox Folders Should Hold    INBOX=0    Erledigt=10    Abgelehnt=10    Pruefung=5

A Lost Work Item Queue Still Enters Nothing Twice
    [Documentation]    The finance system's own search finds the invoices that a lost queue forgot.
    Forget Work Item Queue
    Deliver Samples Again
    ${output}=    Run City Robot    ${ROBOT}
    Should Contain    ${output}    Erfasst: 0
    Should Contain    ${output}    Bereits erfasst: 6
    Finance Should Hold Entries    5
    ${records}=    Archived Invoices
    Length Should Be    ${records}    5

A Wrong Finance System Password Stops The Run And Loses No Mail
    Forget Work Item Queue
    Deliver Samples Again
    ${before}=    Folder Count    INBOX
    ${url}=    Start Separate Finanzsystem    robot.fulda    richtiges-Passwort
    ${output}=    Run City Robot    ${ROBOT}    expected_rc=1    finanzsystem__url=${url}
    ...    env__FULDA_FINANZSYSTEM_PASSWORT=falsches-Passwort
    Should Contain    ${output}    Anmeldung am Finanzverfahren
    Should Contain    ${output}    FULDA_FINANZSYSTEM_PASSWORT
    Should Not Contain    ${output}    falsches-Passwort
    ${after}=    Folder Count    INBOX
    Should Be Equal    ${before}    ${after}
    Should Be Equal As Integers    ${after}    12

An Unreachable Finance System Stops The Run And Loses No Mail
    ${before}=    Folder Count    INBOX
    ${url}=    URL Where Nothing Listens
    ${output}=    Run City Robot    ${ROBOT}    expected_rc=1    finanzsystem__url=${url}
    Should Contain    ${output}    nicht erreichbar
    ${after}=    Folder Count    INBOX
    Should Be Equal    ${before}    ${after}

With The Official Rules A Bad Invoice Goes Back Naming The Official Rule
    [Documentation]    ``pruefung.amtliche_regeln`` names the KoSIT configuration (beside the checkout, never
    ...    in it): its verdict decides, and the rejection gives the official rule and text with the
    ...    project's German explanation.
    ${id}=    Deliver Sample Under New Message ID    rechenfehler
    Run City Robot    ${ROBOT}    pruefung__amtliche_regeln=../shared/corpora/kosit-xrechnung-config
    ${replies}=    Replies To    ${id}
    Length Should Be    ${replies}    1
    Should Contain    ${replies}[0][body]    Invoice total amount with VAT (BT-112) = Invoice total amount without VAT (BT-109) + Invoice total VAT amount (BT-110). – Gesamtbetrag mit Steuer
    Should Contain    ${replies}[0][body]    [BR-CO-15]

A Mail Nested Too Deeply Goes To A Clerk And Stops Nothing
    ${id}=    Deliver Deeply Nested Mail    5000
    ${output}=    Run City Robot    ${ROBOT}
    Should Contain    ${output}    [MAIL_UNLESBAR] Mail ${id}: Die Mail ist tiefer als 50 Ebenen verschachtelt
    ${replies}=    Replies To    ${id}
    Should Be Empty    ${replies}

A Loose Uploaded XRechnung Is Booked And No Mail Is Moved
    [Documentation]    A case as the control room makes it of an uploaded XML file: ``quelle: upload``,
    ...    ``referenz``, the file, no ``message_id``, ``absender`` or ``eingang``. It is read, booked and
    ...    archived; no mail is moved or answered for it. (Runs after the others: the inbox is empty.)
    ${file}=    Write Sample Invoice    XRechnung_UP-FU-2026-0001.xml    UP-FU-2026-0001    area=schulen
    ${folders}=    Mailbox Folder Counts
    ${sent}=    Sent Mails
    Queue Uploaded Case    FU-UP-1    ${file}
    ${output}=    Run City Robot    ${ROBOT}
    Should Contain    ${output}    Verarbeitet: 1
    Should Contain    ${output}    Erfasst: 1
    ${entry}=    Finance Entry    UP-FU-2026-0001
    Entry Should Be Routed    ${entry}    1000    1040000    06631009-40-50
    Should Contain    ${entry}[bemerkung]    Eingang als Upload im Kontrollraum am
    ${record}=    Archived Invoice    UP-FU-2026-0001
    Should Be Equal    ${record}[quelle]    upload
    Should Be Equal    ${record}[kontrollraum_referenz]    FU-UP-1
    Should Be Equal    ${record}[message_id]    ${None}
    Should Be Equal    ${record}[beleg]    ${entry}[belegnummer]
    ${item}=    Work Item    FU-UP-1
    Should Be Equal    ${item}[status]    done
    Should Be Equal    ${item}[payload][ergebnis]    erfasst
    Should Be Equal    ${item}[payload][fall][rechnungsnummer]    UP-FU-2026-0001
    Should Be Equal    ${item}[payload][fall][leitweg_id]    06631009-40-50
    ${moves}=    Keyword Calls In Last Run    Move Message
    Should Be Empty    ${moves}
    ${after}=    Mailbox Folder Counts
    Should Be Equal    ${after}    ${folders}
    ${now}=    Sent Mails
    Should Be Equal    ${now}    ${sent}

An Uploaded Invoice With A Wrong Leitweg-ID Goes To The Clerk And A Corrected One Is Booked On Retry
    [Documentation]    An uploaded invoice whose only fault is its Leitweg-ID (one of another city) is not sent
    ...    back: the clerk corrects the routing in the case data ``fall`` and retries; the next attempt
    ...    books it under the corrected Leitweg-ID's office.
    ${file}=    Write Sample Invoice    UP-FU-2026-0002.xml    UP-FU-2026-0002    area=tiefbau
    ...    leitweg_id=06531005-6600-27
    ${sent}=    Sent Mails
    Queue Uploaded Case    FU-UP-2    ${file}
    ${output}=    Run City Robot    ${ROBOT}
    Should Contain    ${output}    An die Sachbearbeitung übergeben: 1
    Should Contain    ${output}    [LEITWEG_PRUEFEN] Rechnung UP-FU-2026-0002 (UP-FU-2026-0002.xml): Die Leitweg-ID '06531005-6600-27'
    ${item}=    Work Item    FU-UP-2
    Should Be Equal    ${item}[status]    failed_business
    Should Be Equal    ${item}[payload][fall][leitweg_id]    06531005-6600-27
    Should Be Equal    ${item}[payload][fall][buchungskreis]    ${None}
    List Should Contain Value    ${item}[files]    Rueckweisung_UP-FU-2026-0002.txt
    ${now}=    Sent Mails
    Should Be Equal    ${now}    ${sent}
    ${entry}=    Finance Entry    UP-FU-2026-0002
    Should Be Equal    ${entry}    ${None}
    Correct Case And Retry    FU-UP-2    leitweg_id=06631009-66-69
    ${output}=    Run City Robot    ${ROBOT}
    Should Contain    ${output}    Erfasst: 1
    ${entry}=    Finance Entry    UP-FU-2026-0002
    Entry Should Be Routed    ${entry}    1000    1066200    06631009-66-69
    Should Contain    ${entry}[bemerkung]    Zuordnung von der Sachbearbeitung korrigiert (Leitweg-ID)
    ${record}=    Archived Invoice    UP-FU-2026-0002
    Should Start With    ${record}[referenz]    2026/06631009-66-69/
    ${item}=    Work Item    FU-UP-2
    Should Be Equal    ${item}[status]    done
    Should Be Equal    ${item}[payload][fall][kostenstelle]    1066200
    Should Be Equal    ${item}[payload][leitweg_id]    06631009-66-69

An Uploaded Faulty Invoice Goes Back To The Seller's Address, Or To The Clerk For The Post
    [Documentation]    An uploaded case has no mail to reply to: the rejection goes to the seller's e-mail
    ...    address in the invoice; a file without any address keeps its rejection for the clerk to post.
    ${wrong}=    Write Sample Invoice    UP-FU-2026-0003.xml    UP-FU-2026-0003    gross_error=100.00
    ${broken}=    Write Sample Invoice    Rechnung_kaputt.xml    UP-FU-2026-0004    broken=yes
    ${before}=    Sent Mails
    Queue Uploaded Case    FU-UP-3    ${wrong}
    Queue Uploaded Case    FU-UP-4    ${broken}
    ${output}=    Run City Robot    ${ROBOT}
    Should Contain    ${output}    Abgelehnt (Rückweisung an den Absender): 1
    Should Contain    ${output}    [RUECKWEISUNG_PER_POST] Datei 'Rechnung_kaputt.xml': Die Rechnung ist fehlerhaft
    ${mails}=    Sent Mails
    ${new}=    Evaluate    $mails[len($before):]
    Length Should Be    ${new}    1
    Should Be Equal    ${new}[0][to]    rechnung@buerobedarf-vogelsberg.example
    Should Be Equal    ${new}[0][in_reply_to]    ${EMPTY}
    Should Contain    ${new}[0][body]    bei der Stadt Fulda eingegangen
    Should Contain    ${new}[0][body]    [BR-CO-15]
    ${item}=    Work Item    FU-UP-4
    Should Be Equal    ${item}[status]    failed_business
    List Should Contain Value    ${item}[files]    Rueckweisung_Rechnung_kaputt.txt


*** Keywords ***
Mailbox Folder Counts
    ${counts}=    Create Dictionary
    FOR    ${folder}    IN    INBOX    Erledigt    Abgelehnt    Pruefung
        ${count}=    Folder Count    ${folder}
        Set To Dictionary    ${counts}    ${folder}=${count}
    END
    RETURN    ${counts}

Prepare Mailbox With Sample Invoices
    Start Mail Servers
    ${count}=    Deliver Sample Invoices    fulda
    Should Be Equal As Integers    ${count}    12

Mailbox Folders Should Hold
    [Arguments]    &{expected}
    FOR    ${folder}    ${count}    IN    &{expected}
        ${actual}=    Folder Count    ${folder}
        Should Be Equal As Integers    ${actual}    ${count}    msg=Folder ${folder}: ${actual} mails, expected ${count}
    END

Finance Should Hold Entries
    [Arguments]    ${count}
    ${entries}=    Finance Entries
    Length Should Be    ${entries}    ${count}

Entry Should Be Routed
    [Arguments]    ${entry}    ${buchungskreis}    ${kostenstelle}    ${leitweg_id}
    Should Be Equal    ${entry}[buchungskreis]    ${buchungskreis}
    Should Be Equal    ${entry}[kostenstelle]    ${kostenstelle}
    Should Be Equal    ${entry}[leitweg_id]    ${leitweg_id}
    Should Be Equal    ${entry}[waehrung]    EUR
    Should Not Be Empty    ${entry}[archiv_referenz]

Rejection Should Name
    [Arguments]    ${key}    ${invoice}    ${rule}
    ${id}=    Sample Message ID    ${key}
    ${replies}=    Replies To    ${id}
    Length Should Be    ${replies}    1
    ${reply}=    Set Variable    ${replies}[0]
    Should Be Equal    ${reply}[subject]    Rückweisung Ihrer Rechnung ${invoice} – Stadt Fulda
    Should Contain    ${reply}[body]    [${rule}]
    Should Contain    ${reply}[body]    korrigierte Rechnung
    Should Contain    ${reply}[body]    ${invoice}
