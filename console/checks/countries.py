"""The codes an MRZ may carry in its issuing-state and nationality fields (ICAO 9303-3).

ISO 3166-1 alpha-3 (249 codes, taken from Debian's iso-codes) plus ICAO's own: ``D``
(Germany, written ``D<<``), the British nationality codes (GBD, GBN, GBO, GBP, GBS), Kosovo
(RKS), the United Nations and its agencies (UNA, UNK, UNO), the organisations' codes (XBA, XCC,
XCE, XCO, XDC, XEC, XES, XIM, XMP, XOM, XPO), EUE (the European Union), the stateless and
refugee codes (XXA, XXB, XXC, XXX) and UTO (Utopia, the state of ICAO's own specimens).  A
reading outside this set is not a country: the line was misread or shifted, and the field is
reported invalid rather than "resolved" into a value."""

from __future__ import annotations

_ISO = """
    ABW AFG AGO AIA ALA ALB AND ARE ARG ARM ASM ATA ATF ATG AUS AUT AZE BDI BEL BEN BES BFA BGD
    BGR BHR BHS BIH BLM BLR BLZ BMU BOL BRA BRB BRN BTN BVT BWA CAF CAN CCK CHE CHL CHN CIV CMR
    COD COG COK COL COM CPV CRI CUB CUW CXR CYM CYP CZE DEU DJI DMA DNK DOM DZA ECU EGY ERI ESH
    ESP EST ETH FIN FJI FLK FRA FRO FSM GAB GBR GEO GGY GHA GIB GIN GLP GMB GNB GNQ GRC GRD GRL
    GTM GUF GUM GUY HKG HMD HND HRV HTI HUN IDN IMN IND IOT IRL IRN IRQ ISL ISR ITA JAM JEY JOR
    JPN KAZ KEN KGZ KHM KIR KNA KOR KWT LAO LBN LBR LBY LCA LIE LKA LSO LTU LUX LVA MAC MAF MAR
    MCO MDA MDG MDV MEX MHL MKD MLI MLT MMR MNE MNG MNP MOZ MRT MSR MTQ MUS MWI MYS MYT NAM NCL
    NER NFK NGA NIC NIU NLD NOR NPL NRU NZL OMN PAK PAN PCN PER PHL PLW PNG POL PRI PRK PRT PRY
    PSE PYF QAT REU ROU RUS RWA SAU SDN SEN SGP SGS SHN SJM SLB SLE SLV SMR SOM SPM SRB SSD STP
    SUR SVK SVN SWE SWZ SXM SYC SYR TCA TCD TGO THA TJK TKL TKM TLS TON TTO TUN TUR TUV TWN TZA
    UGA UKR UMI URY USA UZB VAT VCT VEN VGB VIR VNM VUT WLF WSM YEM ZAF ZMB ZWE
"""

_ICAO = """
    D EUE GBD GBN GBO GBP GBS RKS UNA UNK UNO XBA XCC XCE XCO XDC XEC XES XIM XMP XOM XPO XXA
    XXB XXC XXX UTO
"""

ISO_3166_ALPHA3 = frozenset(_ISO.split())
ICAO_SPECIAL = frozenset(_ICAO.split())
MRZ_COUNTRIES = ISO_3166_ALPHA3 | ICAO_SPECIAL
