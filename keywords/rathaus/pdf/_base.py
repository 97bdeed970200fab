"""What the PDF keyword components share."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rathaus.pdf import PDF


class PdfComponent:
    """Base of the keyword components: a reference to the library that assembles them."""

    def __init__(self, library: PDF) -> None:
        self.library = library
