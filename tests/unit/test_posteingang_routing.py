"""The mail room's routing rules: matching, scoring, ties, and rules that are wrong."""

from __future__ import annotations

import pytest
from posteingang.routing import Evidence, RoutingRules, RoutingRulesError, match
from rathaus.files import fold_text as fold

RULES = {
    "mindestpunktzahl": 4,
    "fachbereiche": {
        "ordnungsamt": {
            "name": "Ordnungsamt",
            "ordner": "Fachbereiche/Ordnungsamt",
            "regeln": [
                {"betreff": ["Lärmbeschwerde", "Lärm", "Ruhestörung"], "gewicht": 5},
                {"betreff_muster": r"\bGewerbe(an|um|ab)meldung\b", "gewicht": 6},
                {"text": ["Nachtruhe", "Lärm"], "gewicht": 2},
                {"absender": ["polizei.hessen.de"], "gewicht": 6},
            ],
        },
        "bauamt": {
            "name": "Bauamt",
            "ordner": "Fachbereiche/Bauamt",
            "regeln": [
                {"betreff": ["Baustelle", "Bauantrag"], "gewicht": 5},
                {"text": ["Baustelle"], "gewicht": 2},
                {"anhang": ["*.dwg", "*.GML"], "gewicht": 4},
            ],
        },
        "kaemmerei": {
            "name": "Kämmerei",
            "ordner": "Fachbereiche/Kämmerei/Rechnungseingang",
            "hinweis": "E-Rechnungen an rechnung@",
            "regeln": [
                {"anhang": ["e-rechnung"], "gewicht": 10},
                {"absender": ["fa-*.hessen.de", "kasse@landkreis.example"], "gewicht": 8},
            ],
        },
    },
}


@pytest.fixture
def rules():
    return RoutingRules.from_mapping(RULES)


def test_fold_ignores_case_umlauts_and_sharp_s():
    assert fold("LÄRM") == fold("lärm") == "larm"
    assert fold("Straße") == "strasse"
    assert fold("Éléonore") == "eleonore"


def test_a_clear_mail_goes_to_the_department_with_most_points(rules):
    routing = rules.route(Evidence(subject="Lärmbeschwerde Kornmarkt", text="Die Nachtruhe wird nicht eingehalten."))
    assert routing.clear and routing.reason == "zugeordnet"
    assert routing.department.key == "ordnungsamt"
    assert routing.department.folder == "Fachbereiche/Ordnungsamt"
    # "Lärmbeschwerde" and "Lärm" are two keywords found in the subject: 2 x 5, plus "Nachtruhe" 2
    assert routing.score == 12
    assert [hit.describe() for hit in routing.hits] == [
        "Betreff enthält „Lärmbeschwerde“, „Lärm“ (+10)",
        "Text enthält „Nachtruhe“ (+2)",
    ]


def test_a_regular_expression_scores_once_and_shows_what_it_found(rules):
    routing = rules.route(Evidence(subject="Gewerbeanmeldung und nochmal GEWERBEABMELDUNG"))
    assert routing.department.key == "ordnungsamt"
    assert routing.score == 6
    assert routing.hits[0].found == ("Gewerbeanmeldung",)
    # the work item keeps which rule matched, not the mail's own words
    assert routing.hits[0].as_dict() == {"fachbereich": "ordnungsamt", "regel": 2, "art": "betreff_muster",
                                         "gefunden": [], "punkte": 6}


def test_sender_domains_cover_subdomains_and_wildcards(rules):
    police = rules.route(Evidence(sender="wache.limburg@ppwh.polizei.hessen.de"))
    assert police.department.key == "ordnungsamt"
    tax = rules.route(Evidence(sender="poststelle@fa-limburg.hessen.de"))
    assert tax.department.key == "kaemmerei"
    exact = rules.route(Evidence(sender="KASSE@landkreis.example"))
    assert exact.department.key == "kaemmerei"
    assert not rules.route(Evidence(sender="polizei.hessen.de.example.net@evil.example")).clear
    assert not rules.route(Evidence(sender="someone@notpolizei.hessen.de.example")).clear
    assert not rules.route(Evidence(sender="someone@notpolizei.hessen.de")).clear


def test_attachment_rules_see_e_invoices_and_file_name_patterns(rules):
    invoice = rules.route(Evidence(attachments=("RE-4711.xml",), kinds=frozenset({"e-rechnung"})))
    assert invoice.department.key == "kaemmerei"
    assert invoice.hits[0].describe() == "Anhang „E-Rechnung“ (+10)"
    plan = rules.route(Evidence(subject="Bauantrag", attachments=("Lageplan.gml",)))
    assert plan.department.key == "bauamt" and plan.score == 9
    plain_xml = rules.route(Evidence(attachments=("daten.xml",)))
    assert plain_xml.reason == "kein_treffer"


def test_two_departments_with_the_same_points_make_the_mail_unclear(rules):
    routing = rules.route(Evidence(subject="Baustelle und Lärm", text="Baustelle, Lärm ab sechs Uhr"))
    assert not routing.clear
    assert routing.reason == "gleichstand"
    assert routing.scores == (("ordnungsamt", 7), ("bauamt", 7))
    assert routing.tied == ("ordnungsamt", "bauamt")


def test_too_few_points_or_no_hit_make_the_mail_unclear(rules):
    weak = rules.route(Evidence(text="Es ist eine Baustelle."))
    assert weak.reason == "zu_wenig_punkte" and weak.score == 2 and weak.department is None
    none = rules.route(Evidence(subject="Frage", text="Wann hat das Rathaus geöffnet?"))
    assert none.reason == "kein_treffer" and none.hits == () and none.scores == ()


def test_keyword_found_in_subject_does_not_count_for_text_rules(rules):
    rule = rules.departments["ordnungsamt"].rules[2]
    assert match(rule, Evidence(subject="Nachtruhe")) is None
    assert match(rule, Evidence(text="NACHTRUHE gestört")).points == 2


@pytest.mark.parametrize(
    ("broken", "expected"),
    [
        ({"regeln": [{"betreff_muster": "(ungeschlossen", "gewicht": 3}]}, "kein gültiger regulärer Ausdruck"),
        ({"regeln": [{"betreff": ["a"], "text": ["b"], "gewicht": 3}]}, "genau eines von"),
        ({"regeln": [{"betreff": ["a"], "gewicht": 0}]}, "'gewicht' muss eine ganze Zahl ab 1"),
        ({"regeln": [{"betreff": [], "gewicht": 2}]}, "Liste von Texten"),
        ({"ordner": "INBOX"}, "nicht der Posteingang"),
        ({"name": ""}, "Pflichtschlüssel 'name' fehlt"),
    ],
)
def test_wrong_rules_fail_naming_department_and_rule(broken, expected):
    department = {"name": "Bauamt", "ordner": "Bauamt", "regeln": [{"betreff": ["Bau"], "gewicht": 3}], **broken}
    with pytest.raises(RoutingRulesError) as caught:
        RoutingRules.from_mapping({"fachbereiche": {"bauamt": department}}, "limburg/posteingang.yaml")
    message = str(caught.value)
    assert expected in message
    assert "limburg/posteingang.yaml, Fachbereich 'bauamt'" in message
    assert caught.value.kind == "APPLICATION"


def test_missing_rules_are_an_application_error_that_says_where_they_belong():
    with pytest.raises(RoutingRulesError) as caught:
        RoutingRules.from_mapping(None)
    assert "resources/cities/<stadt>/posteingang.yaml" in str(caught.value)
