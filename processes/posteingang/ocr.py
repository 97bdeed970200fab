"""Text recognition (OCR) of scanned letters with Tesseract, for PDF pages without a text layer and images.

Tesseract is the Debian program ``tesseract-ocr`` with the German model ``tesseract-ocr-deu``; pytesseract
calls it. PDF pages are rendered to grey images with PDFium (pypdfium2), the engine rathaus.PDF reads
text with, so a page is only rendered when PDFium found no text on it.

A scan counts as unreadable when Tesseract finds fewer than ``min_words`` words or their mean confidence
is below ``min_confidence`` (0–100): a blank page, noise, a photo out of focus. That is a business error
naming the file: a clerk looks at the scan and asks the sender for a better copy.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rathaus.errors import ApplicationError, BusinessError

#: What a recognised word must contain to count: two letters or digits.
_WORD = re.compile(r"\w\w", re.UNICODE)


class OcrUnavailableError(ApplicationError):
    """Tesseract or its language data is missing on the robot's machine."""

    code = "OCR_NICHT_VERFUEGBAR"


class UnreadableScanError(BusinessError):
    """A scan whose text cannot be recognised reliably."""

    code = "SCAN_UNLESBAR"


@dataclass(frozen=True)
class PageText:
    """The recognised text of one page or image."""

    page: int
    text: str
    words: int
    #: mean word confidence 0–100 (0 when no word was found)
    confidence: float


@dataclass(frozen=True)
class OcrResult:
    """Recognised text of a document: its pages, word count and mean confidence."""

    pages: tuple[PageText, ...]

    @property
    def text(self) -> str:
        return "\n\n".join(page.text for page in self.pages if page.text)

    @property
    def words(self) -> int:
        return sum(page.words for page in self.pages)

    @property
    def confidence(self) -> float:
        """Mean confidence over all words of all pages, weighted by words."""
        if not self.words:
            return 0.0
        return sum(page.confidence * page.words for page in self.pages) / self.words


@dataclass(frozen=True)
class OcrSettings:
    """The ``ocr`` section of a city's configuration."""

    language: str = "deu"
    min_confidence: float = 60
    min_words: int = 10
    max_pages: int = 5
    dpi: int = 200

    @classmethod
    def from_config(cls, section: dict[str, Any] | None) -> OcrSettings:
        section = dict(section or {})
        return cls(
            language=str(section.get("sprache", cls.language)),
            min_confidence=float(section.get("min_konfidenz", cls.min_confidence)),
            min_words=int(section.get("min_woerter", cls.min_words)),
            max_pages=int(section.get("max_seiten", cls.max_pages)),
            dpi=int(section.get("aufloesung_dpi", cls.dpi)),
        )


def _tesseract() -> Any:
    import pytesseract

    return pytesseract


def check_available(language: str = "deu") -> None:
    """Fail with an application error when Tesseract or the language data is missing."""
    tesseract = _tesseract()
    try:
        languages = tesseract.get_languages(config="")
    except (tesseract.TesseractNotFoundError, OSError):
        raise OcrUnavailableError(
            "Die Texterkennung Tesseract ist auf diesem Rechner nicht installiert. Bitte die Debian-Pakete "
            f"tesseract-ocr und tesseract-ocr-{language} installieren und den Lauf erneut starten."
        ) from None
    missing = [lang for lang in language.split("+") if lang not in languages]
    if missing:
        raise OcrUnavailableError(
            f"Für die Texterkennung fehlen die Sprachdaten {', '.join(missing)}. Bitte das Debian-Paket "
            f"tesseract-ocr-{missing[0]} installieren und den Lauf erneut starten."
        )


def recognize_image(image: Any, language: str = "deu", page: int = 1) -> PageText:
    """OCR of one PIL image: its text (lines as Tesseract found them), word count and mean confidence."""
    tesseract = _tesseract()
    try:
        data = tesseract.image_to_data(image, lang=language, output_type=tesseract.Output.DICT)
    except tesseract.TesseractNotFoundError:
        check_available(language)
        raise
    except tesseract.TesseractError as error:
        raise OcrUnavailableError(
            f"Die Texterkennung ist fehlgeschlagen ({' '.join(str(error.message).split())}). Bitte die "
            "Tesseract-Installation prüfen und den Lauf erneut starten."
        ) from None
    lines: dict[tuple[int, int, int], list[str]] = {}
    confidences: list[float] = []
    for index, raw in enumerate(data["text"]):
        word = raw.strip()
        confidence = float(data["conf"][index])
        if not word or confidence < 0:
            continue
        key = (data["block_num"][index], data["par_num"][index], data["line_num"][index])
        lines.setdefault(key, []).append(word)
        if _WORD.search(word):
            confidences.append(confidence)
    text = "\n".join(" ".join(words) for _, words in sorted(lines.items()))
    mean = sum(confidences) / len(confidences) if confidences else 0.0
    return PageText(page, text, len(confidences), mean)


def pages_without_text(texts: dict[int, str]) -> list[int]:
    """Pages (1-based) whose text layer holds no letters or digits: those need OCR."""
    return [number for number, text in sorted(texts.items()) if not any(ch.isalnum() for ch in text)]


def recognize_pdf(path: str | Path, pages: Sequence[int], settings: OcrSettings) -> OcrResult:
    """Render the given PDF pages (1-based) with PDFium and recognise their text."""
    import pypdfium2 as pdfium

    results = []
    document = pdfium.PdfDocument(str(path))
    try:
        for number in pages:
            page = document[number - 1]
            try:
                bitmap = page.render(scale=settings.dpi / 72, grayscale=True)
                image = bitmap.to_pil()
            finally:
                page.close()
            results.append(recognize_image(image, settings.language, number))
    finally:
        document.close()
    return OcrResult(tuple(results))


def recognize_image_file(path: str | Path, settings: OcrSettings) -> OcrResult:
    """Recognise the text of an image file (JPEG, PNG, TIFF; each frame of a multi-page TIFF is a page)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            results = []
            for number in range(1, min(getattr(image, "n_frames", 1), settings.max_pages) + 1):
                image.seek(number - 1)
                frame = ImageOps.exif_transpose(image).convert("L")
                results.append(recognize_image(frame, settings.language, number))
    except (UnidentifiedImageError, OSError) as error:
        raise UnreadableScanError(
            f"Die Bilddatei '{Path(path).name}' lässt sich nicht öffnen ({' '.join(str(error).split())[:80]}). "
            "Bitte die Datei ansehen und beim Absender eine lesbare Fassung anfordern."
        ) from None
    return OcrResult(tuple(results))


def check_readable(result: OcrResult, settings: OcrSettings, case: str, source: str) -> None:
    """Fail with :class:`UnreadableScanError` when the recognised text is too short or too uncertain.

    ``source`` names the scan in the message, e.g. ``in Anhang Nr. 2`` or ``'brief.pdf'``.
    """
    if result.words >= settings.min_words and result.confidence >= settings.min_confidence:
        return
    if result.words == 0:
        finding = "Die Texterkennung hat keinen Text gefunden (leere oder verrauschte Seite)"
    elif result.words < settings.min_words:
        finding = f"Die Texterkennung hat nur {result.words} Wörter gefunden (mindestens {settings.min_words})"
    else:
        finding = (
            f"Die Texterkennung ist zu unsicher (mittlere Konfidenz {result.confidence:.0f} %, "
            f"verlangt {settings.min_confidence:.0f} %)"
        )
    raise UnreadableScanError(
        f"Posteingang {case}: Der Scan {source} ist nicht lesbar. {finding}. Bitte den Scan ansehen, das "
        "Schreiben von Hand zuordnen und bei Bedarf beim Absender eine bessere Kopie anfordern."
    )


def mean_confidence(results: Iterable[OcrResult]) -> float:
    """Mean word confidence over several documents, weighted by their words (0 without words)."""
    results = list(results)
    words = sum(result.words for result in results)
    return sum(result.confidence * result.words for result in results) / words if words else 0.0


def describe(results: Iterable[OcrResult]) -> str:
    """``ja, 2 Seite(n), mittlere Konfidenz 94 %`` or ``nein`` for the docket."""
    results = list(results)
    pages = sum(len(result.pages) for result in results)
    if not pages:
        return "nein"
    return f"ja, {pages} Seite(n), mittlere Konfidenz {mean_confidence(results):.0f} %"
