"""Process 'nutzungsstatistik' (eGovSAD): usage figures of online services published as open data."""
