"""Keywords that attach files to the current work item and fetch them."""

from __future__ import annotations

import fnmatch
import glob
from pathlib import Path

from robot.api.deco import keyword

from rathaus.workitems.keywords.base import LibraryComponent


class FileKeywords(LibraryComponent):
    """Files of the current work item."""

    @keyword
    def list_work_item_files(self) -> list[str]:
        """Return the names of the files attached to the current work item.

        Example:
        | ${names}= | `List Work Item Files` |

        Related: `Get Work Item Files`, `Add Work Item File`.
        """
        return self.ctx.current.files

    @keyword
    def get_work_item_file(self, name: str, path: Path | None = None) -> str:
        """Copy an attached file to disk and return its absolute path.

        | =Arguments= | =Description= |
        | ``name`` | Name of the attached file. |
        | ``path`` | Target path; default is ``name`` in ``ROBOT_ROOT`` or else the current folder. |

        Example:
        | ${antrag}= | `Get Work Item File` | antrag.pdf | ${OUTPUT_DIR}/antrag.pdf |

        Related: `Get Work Item Files`, `List Work Item Files`.
        """
        target = Path(path) if path is not None else self.ctx.default_folder() / name
        return str(self.ctx.current.get_file(name, target))

    @keyword
    def get_work_item_files(self, pattern: str, dirname: Path | None = None) -> list[str]:
        """Copy all attached files whose names match a wildcard pattern; return their absolute paths.

        | =Arguments= | =Description= |
        | ``pattern`` | Wildcard pattern such as ``*.pdf``. |
        | ``dirname`` | Target folder; default as in `Get Work Item File`. |

        Example:
        | @{pdfs}= | `Get Work Item Files` | *.pdf | ${OUTPUT_DIR}/fall |

        Related: `Get Work Item File`.
        """
        folder = Path(dirname) if dirname is not None else self.ctx.default_folder()
        return [
            str(self.ctx.current.get_file(name, folder / name))
            for name in self.ctx.current.files
            if fnmatch.fnmatch(name, pattern)
        ]

    @keyword
    def add_work_item_file(self, path: Path, name: str | None = None) -> str:
        """Attach a file to the current work item (copied on `Save Work Item`); return its name.

        | =Arguments= | =Description= |
        | ``path`` | The file on disk. |
        | ``name`` | Name in the work item; default is the file's name. |

        Example:
        | `Add Work Item File` | ${OUTPUT_DIR}/eingangsbestaetigung.pdf |
        | `Save Work Item` |

        Related: `Add Work Item Files`, `Remove Work Item File`, `Save Work Item`.
        """
        return self.ctx.current.add_file(path, name)

    @keyword
    def add_work_item_files(self, pattern: str) -> list[str]:
        """Attach all files matching a path wildcard pattern; return their names.

        | =Arguments= | =Description= |
        | ``pattern`` | Path pattern such as ``${OUTPUT_DIR}/briefe/*.pdf``. |

        Example:
        | `Add Work Item Files` | ${OUTPUT_DIR}/briefe/*.pdf |
        | `Save Work Item` |

        Related: `Add Work Item File`.
        """
        return [
            self.ctx.current.add_file(match)
            for match in sorted(glob.glob(pattern))
            if Path(match).is_file()
        ]

    @keyword
    def remove_work_item_file(self, name: str, missing_ok: bool = True) -> str:
        """Detach a file from the current work item (on `Save Work Item`).

        | =Arguments= | =Description= |
        | ``name`` | Name of the attached file. |
        | ``missing_ok`` | Ignore a name that is not attached (default). |

        Example:
        | `Remove Work Item File` | entwurf.docx |

        Related: `Add Work Item File`.
        """
        return self.ctx.current.remove_file(name, missing_ok)

    @keyword
    def remove_work_item_files(self, pattern: str, missing_ok: bool = True) -> list[str]:
        """Detach every file whose name matches the wildcard ``pattern`` (on `Save Work Item`); returns the names.

        | =Arguments= | =Description= |
        | ``pattern`` | File name pattern, e.g. ``*.docx``. |
        | ``missing_ok`` | As for `Remove Work Item File`. |

        Example:
        | ${entfernt}= | `Remove Work Item Files` | *.docx |
        | `Save Work Item` |

        Related: `Remove Work Item File`, `Clear Work Item`.
        """
        item = self.ctx.current
        return [item.remove_file(name, missing_ok) for name in list(item.files) if fnmatch.fnmatch(name, pattern)]

