"""Routing by Leitweg-ID: the city's receiving offices from ``resources/cities/<city>/leitweg.yaml``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rathaus.core.config import ConfigError
from rathaus.einvoice.errors import InvalidLeitwegIdError
from rathaus.einvoice.leitweg import check_leitweg_id


@dataclass(frozen=True)
class ReceivingOffice:
    """One receiving office of the city: where its invoices are entered and whom suppliers ask."""

    leitweg_id: str
    bezeichnung: str
    buchungskreis: str
    kostenstelle: str
    kontakt_email: str
    kontakt_telefon: str
    kontakt_name: str = ""
    bereich: str = "sonstige"

    def as_dict(self) -> dict[str, str]:
        """JSON-ready, for work item variables and Robot."""
        return {
            "leitweg_id": self.leitweg_id,
            "bezeichnung": self.bezeichnung,
            "buchungskreis": self.buchungskreis,
            "kostenstelle": self.kostenstelle,
            "kontakt_email": self.kontakt_email,
            "kontakt_telefon": self.kontakt_telefon,
        }


class LeitwegDirectory:
    """The receiving offices of one city, found by Leitweg-ID (case and blanks do not matter)."""

    def __init__(self, city: str, offices: Sequence[ReceivingOffice]) -> None:
        self.city = city
        self.offices = tuple(offices)
        self._by_id = {office.leitweg_id: office for office in self.offices}

    @classmethod
    def from_master_data(cls, city_data: Mapping[str, Any]) -> LeitwegDirectory:
        """Build the directory from a city's master data (``config["stadt_daten"]``).

        Fails with a :class:`ConfigError` naming the file when the topic ``leitweg`` is missing, when a
        Leitweg-ID has wrong check digits, does not start with the city's Grobadressierung, or occurs twice.
        """
        city = str(city_data.get("id") or city_data.get("kurzname") or "?")
        where = f"resources/cities/{city}/leitweg.yaml"
        topic = city_data.get("leitweg")
        if not isinstance(topic, Mapping) or not topic.get("empfaenger"):
            raise ConfigError(
                f"Die Stammdaten der Stadt '{city}' enthalten keine Leitweg-IDs ({where} fehlt oder ist leer). "
                "Bitte die Rechnungsempfänger der Stadt dort eintragen."
            )
        coarse = str(topic.get("grobadressierung", ""))
        offices = []
        for number, entry in enumerate(topic["empfaenger"], start=1):
            try:
                leitweg_id = check_leitweg_id(str(entry["leitweg_id"]))
            except InvalidLeitwegIdError as error:
                raise ConfigError(f"{where}, Empfänger Nr. {number}: {error}") from None
            if coarse and not leitweg_id.startswith(coarse):
                raise ConfigError(
                    f"{where}, Empfänger Nr. {number}: Die Leitweg-ID '{leitweg_id}' beginnt nicht mit der "
                    f"Grobadressierung '{coarse}' der Stadt. Bitte prüfen."
                )
            contact = entry.get("kontakt") or {}
            offices.append(ReceivingOffice(
                leitweg_id=leitweg_id,
                bezeichnung=str(entry["bezeichnung"]),
                buchungskreis=str(entry["buchungskreis"]),
                kostenstelle=str(entry["kostenstelle"]),
                kontakt_email=str(contact.get("email", "")),
                kontakt_telefon=str(contact.get("telefon", "")),
                kontakt_name=str(contact.get("name", "")),
                bereich=str(entry.get("bereich", "sonstige")),
            ))
        seen: set[str] = set()
        for office in offices:
            if office.leitweg_id in seen:
                raise ConfigError(f"{where}: Die Leitweg-ID '{office.leitweg_id}' steht zweimal in der Liste.")
            seen.add(office.leitweg_id)
        return cls(city, offices)

    def find(self, leitweg_id: str | None) -> ReceivingOffice | None:
        """The office with this Leitweg-ID, or ``None`` (also for a malformed ID)."""
        if not leitweg_id:
            return None
        key = "".join(str(leitweg_id).split()).upper()
        return self._by_id.get(key)

    @property
    def central(self) -> ReceivingOffice:
        """The city's central invoice office: the first entry of the list."""
        return self.offices[0]

    def __iter__(self) -> Iterator[ReceivingOffice]:
        return iter(self.offices)

    def __len__(self) -> int:
        return len(self.offices)
