"""Python part of the process 'e-rechnung' (folder ``processes/e-rechnung/``).

A folder name with a hyphen cannot be imported, so the process's code lives in this package beside it:
``erechnung.keywords.ERechnung`` is the keyword library the steps import, the other modules hold the
rules (routing by Leitweg-ID, checks, archive, rejection mail, mail filing) that unit tests call directly.
"""
