*** Settings ***
Documentation       Fulda: monthly usage figures of the online services, published as open data.
...                 Process 'nutzungsstatistik' (owner Marburg), configured by config.yaml beside this file.
Resource            nutzungsstatistik/steps/nutzungsstatistik.resource
Suite Setup         Start Nutzungsstatistik Robot    ${CURDIR}/config.yaml


*** Tasks ***
Nutzungszahlen veröffentlichen
    Publish Usage Figures
