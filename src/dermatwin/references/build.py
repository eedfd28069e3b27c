"""Rebuild ``sources.csv`` (the packaged bibliography) from the project's reference data.

``python -m dermatwin.references.build REFERENCE_DIR`` reads ``biology_parameters.csv``,
``clinical_outcomes.csv`` and ``msc_evidence.csv`` from REFERENCE_DIR (the shared
reference folder beside the clone) and adds :data:`PAPERS`: the reproduced models and the
papers cited by name in code and docs. Facts and citations are copied as recorded there,
with their verification notes; nothing is looked up here.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from dermatwin.references import COLUMNS, SOURCES_CSV

#: the reference tables, their kind in the bibliography, and how a row states its fact
TABLES = {
    "biology_parameters.csv": "parameter",
    "clinical_outcomes.csv": "clinical",
    "msc_evidence.csv": "msc-evidence",
}

#: model-level sources and papers cited by name (``Author et al. YEAR``) in code and docs.
#: ``like``: a reference row whose citation and DOI are this paper's (copied from there).
PAPERS: list[dict[str, str]] = [
    {
        "id": "MIYANO2021",
        "kind": "model",
        "fact": "atopic dermatitis QSP model reproduced as `miyano2021` and in the skin model",
        "citation": "Miyano T, Irvine AD, Tanaka RJ. A mathematical model to identify optimal "
        "combinations of drug targets for dupilumab poor responders in atopic dermatitis. "
        "Allergy 2021",
        "url_or_doi": "10.1111/all.14870",
        "verification": "citation as given by the authors' code repository",
        "notes": "Authors' code: github.com/Tanaka-Group/AD_QSP_model (MIT licence); "
        "parameters checked against its mu.csv and sigma.csv.",
    },
    {
        "id": "SHMAROV2022",
        "kind": "model",
        "fact": "psoriasis keratinocyte/immune model reproduced as `shmarov2022` and in the "
        "skin model",
        "citation": "Shmarov F, Smith GR, Weatherhead SC, Reynolds NJ, Zuliani P. "
        "Individualised computational modelling of immune mediated disease onset, flare and "
        "clearance in psoriasis. PLoS Comput Biol 2022;18(9):e1010267 (PMID 36178923)",
        "url_or_doi": "10.1371/journal.pcbi.1010267",
        "verification": "title, authors and DOI seen in bibliographic records",
        "notes": "SBML model psor_v8_4 in github.com/pzuliani/psoriasis (Apache-2.0).",
    },
    {
        "id": "DOMINGUEZHUTTINGER2017",
        "kind": "paper",
        "fact": "AD model with irreversible Th2 memory (a mechanism the skin model leaves out)",
        "citation": "Dominguez-Huttinger E, Christodoulides P, Miyauchi K, Irvine AD, "
        "Okada-Hatakeyama M, Kubo M, Tanaka RJ. Mathematical modeling of atopic dermatitis "
        "reveals 'double-switch' mechanisms underlying 4 common and distinct clinical "
        "phenotypes. J Allergy Clin Immunol 2017;139(6):1861-1872",
        "url_or_doi": "10.1016/j.jaci.2016.10.026",
        "verification": "UNVERIFIED: journal and online date (5 Dec 2016) seen in an AAAAI "
        "summary; author list, pages and DOI from memory",
        "notes": "Cited by name only (model/skin/immune.py, docs/model.md).",
    },
    {
        "id": "CHOPRA2017",
        "kind": "paper",
        "fact": "EASI severity strata (0 clear, 0.1-5.9 mild, 6.0-22.9 moderate, "
        "23.0-72 severe) used to grade IGA from EASI (dermatwin.severity)",
        "citation": "Chopra R, Vakharia PP, Sacotte R, Patel N, Immaneni S, White T, Kantor R, "
        "Hsu DY, Silverberg JI. Severity strata for Eczema Area and Severity Index (EASI), "
        "modified EASI, Scoring Atopic Dermatitis (SCORAD), objective SCORAD, Atopic "
        "Dermatitis Severity Index and body surface area in adolescents and adults with "
        "atopic dermatitis. Br J Dermatol 2017;177(5):1316-1321 (PMID 28485036)",
        "url_or_doi": "10.1111/bjd.15641 (DOI unverified)",
        "verification": "abstract (strata, journal, pages); DOI from memory",
        "notes": "",
    },
    {
        "id": "TOTTE2016",
        "kind": "paper",
        "fact": "S. aureus colonisation in AD: pooled prevalence 70 % of lesional skin, 39 % of "
        "non-lesional skin, 62 % nose; odds 19.74-fold (95 % CI 10.88-35.81) over healthy "
        "controls; lesional prevalence rises with severity (meta-regression); 95 studies",
        "citation": "Totte JEE, van der Feltz WT, Hennekam M, van Belkum A, van Zuuren EJ, "
        "Pasmans SGMA. Prevalence and odds of Staphylococcus aureus carriage in atopic "
        "dermatitis: a systematic review and meta-analysis. Br J Dermatol 2016;175:687-695",
        "url_or_doi": "https://repub.eur.nl/pub/93599 (PMID 26994362)",
        "verification": "verified-abstract (numbers); pages from a bibliographic record",
        "notes": "Used by the microbiome module (colonisation anchors).",
    },
    {
        "id": "SIMPSON2023",
        "kind": "paper",
        "fact": "dupilumab lowers skin S. aureus within 3 days of the first dose, 11 days "
        "before clinical improvement (71 adults, randomised 2:1 vs placebo; all colonised at "
        "baseline)",
        "citation": "Simpson EL, et al. Rapid reduction in Staphylococcus aureus in atopic "
        "dermatitis subjects following dupilumab treatment. J Allergy Clin Immunol "
        "2023;152(5):1179-1195",
        "url_or_doi": "10.1016/j.jaci.2023.05.026",
        "verification": "verified-abstract (PubMed record)",
        "notes": "Used by the microbiome module (colonisation kinetics, a check).",
    },
    {
        "id": "EICHENFIELD2019",
        "kind": "paper",
        "fact": "pooled seven placebo-controlled dupilumab trials in adult AD (2932 patients): "
        "bacterial and other non-herpetic skin infections, dupilumab vs placebo, risk ratio "
        "0.44 (p < 0.001), exposure-adjusted; overall infection rates similar",
        "citation": "Eichenfield LF, Bieber T, Beck LA, et al. Infections in dupilumab "
        "clinical trials in atopic dermatitis: a comprehensive pooled analysis. Am J Clin "
        "Dermatol 2019;20(3):443-456",
        "url_or_doi": "10.1007/s40257-019-00445-7",
        "verification": "verified-abstract (risk ratio); absolute rates not retrieved",
        "notes": "The microbiome module's skin-infection endpoint is checked against the "
        "ratio (a prediction, not fitted).",
    },
    {
        "id": "ALLEN2016",
        "kind": "paper",
        "fact": "virtual-population selection in QSP models: plausible patients accepted with a "
        "probability from the ratio of target to plausible-population densities, so that the "
        "virtual population matches observed distributions (dermatwin.patients.baseline)",
        "citation": "Allen RJ, Rieger TR, Musante CJ. Efficient generation and selection of "
        "virtual populations in quantitative systems pharmacology models. CPT Pharmacometrics "
        "Syst Pharmacol 2016;5(3):140-146",
        "url_or_doi": "10.1002/psp4.12063",
        "verification": "citation as given in the project brief; DOI from memory",
        "notes": "Used by baseline-matched populations (population.baseline).",
    },
    {
        "id": "NEWCOMBE1998",
        "kind": "paper",
        "fact": "hybrid score interval for a difference of proportions (method 10), used "
        "for rate differences between arms (dermatwin.trials.statistics)",
        "citation": "Newcombe RG. Interval estimation for the difference between independent "
        "proportions: comparison of eleven methods. Stat Med 1998;17(8):873-890",
        "url_or_doi": "10.1002/(SICI)1097-0258(19980430)17:8<873::AID-SIM779>3.0.CO;2-I "
        "(DOI unverified)",
        "verification": "title, journal, volume and pages seen in the paper's first page; "
        "DOI from memory",
        "notes": "",
    },
    {
        "id": "NEWCOMBE1998PAIRED",
        "kind": "paper",
        "fact": "hybrid score interval for a difference of paired proportions (method 10), "
        "used for responder differences between the arms of a paired trial "
        "(dermatwin.trials.statistics.paired_rate_difference)",
        "citation": "Newcombe RG. Improved confidence intervals for the difference between "
        "binomial proportions based on paired data. Stat Med 1998;17(22):2635-2650",
        "url_or_doi": "10.1002/(SICI)1097-0258(19981130)17:22<2635::AID-SIM954>3.0.CO;2-C "
        "(DOI unverified)",
        "verification": "UNVERIFIED: citation and DOI from memory; the formula as implemented "
        "in two independent open-source packages (contingencytables, biostatUZH)",
        "notes": "Continuity-corrected phi (ad - bc shrunk by n/2 when positive), as in "
        "Fagerland, Lydersen and Laake's 'Statistical analysis of contingency tables'.",
    },
    {
        "id": "ZHANG2021",
        "kind": "paper",
        "fact": "dupilumab linear elimination rate 0.0418/day, central volume 2.76 L, "
        "subcutaneous bioavailability 60.9 % (population PK)",
        "citation": "Zhang L, Gao Y, Li M, et al. Population pharmacokinetic analysis of "
        "dupilumab in adult and adolescent patients with asthma. CPT Pharmacometrics Syst "
        "Pharmacol 2021;10(8):941-952 (PMID 34313019)",
        "url_or_doi": "10.1002/psp4.12667",
        "verification": "abstract (PubMed record: title, journal, DOI, estimates); first "
        "authors from the nlmixr2lib model library",
        "notes": "Earlier cited in code as 'Kamal et al.'; the PubMed record of PMID 34313019 "
        "is this paper.",
    },
    {"id": "KIM2017", "kind": "paper", "like": "AD_MSC_KIM2017_HD_EASI50"},
    {"id": "SHIN2021", "kind": "paper", "like": "AD_MSC_SHIN2021_EASI50"},
    {"id": "BERTHJONES2003", "kind": "paper", "like": "AD_TCS_PROACTIVE_EMOLL_RELAPSE"},
    {"id": "BECK2014", "kind": "paper", "like": "AD_DUPI_P2_12W_EASI50_T"},
    {"id": "SIMPSON2016", "kind": "paper", "like": "AD_DUPI_SOLO1_PBO_EASI75"},
    {"id": "SIMPSON2020", "kind": "paper", "like": "AD_ABRO_MONO1_200_EASI75"},
    {"id": "GUTTMANYASSKY2021", "kind": "paper", "like": "AD_UPA_MU1_30_EASI75"},
    {"id": "LEONARDI2003", "kind": "paper", "like": "PSO_ETN_2003_0_W12"},
    {"id": "LEONARDI2008", "kind": "paper", "like": "PSO_UST_PHX1_45_PASI75"},
    {"id": "SAURAT2008", "kind": "paper", "like": "PSO_CHAMPION_ADA_PASI75"},
    {"id": "MENTER2008", "kind": "paper", "like": "PSO_ADA_REVEAL_PASI75_T"},
    {"id": "LANGLEY2014", "kind": "paper", "like": "PSO_SECU_ERASURE_300_PASI75"},
    {"id": "GORDON2006", "kind": "paper", "like": "PSO_ETN_GORDON2006_RELAPSE"},
    {"id": "KIMBALL2012", "kind": "paper", "like": "PSO_UST_PHX1LT_45_W76"},
    {"id": "GRANLUND1995", "kind": "paper", "like": "AD_CSA_GRAN_BL"},
    {"id": "SCHMITT2007", "kind": "paper", "like": "AD_CSA_META_2W_LOW"},
    {"id": "SCHMITT2010", "kind": "paper", "like": "AD_CSA_SCHMITT2010_REMISSION"},
    {
        "id": "LI2016",
        "kind": "paper",
        "fact": "HLA-C*06:02 carriers respond better to ustekinumab: PASI-75 at week 12 17.9 "
        "points higher than in non-carriers (largest difference; PASI-75 at week 24 86 vs "
        "76 %); phase 3 ustekinumab programme, retrospective",
        "citation": "Li K, Huang CC, Randazzo B, et al. HLA-C*06:02 allele and response to "
        "IL-12/23 inhibition: results from the ustekinumab phase 3 psoriasis program. "
        "J Invest Dermatol 2016;136(12):2364-2371 (PMID 27476722)",
        "url_or_doi": "10.1016/j.jid.2016.06.631",
        "verification": "abstract read (PubMed record)",
        "notes": "Used for the p40_response of carriers vs non-carriers (dermatwin.patients."
        "profile); carrier and non-carrier week-12 rates not in the abstract.",
    },
    {
        "id": "ABIDI2010",
        "kind": "paper",
        "fact": "reservoir of a potent topical steroid (clobetasol propionate 0.05 % cream) "
        "in the stratum corneum: histamine-wheal suppression after one application as on "
        "day 1 to day 4, lost from day 5 (rabbit)",
        "citation": "Abidi A, Ahmad F, Singh SK, Kumar A. Study of reservoir effect of "
        "clobetasol propionate cream in an experimental animal model using histamine-"
        "induced wheal suppression test. Indian J Dermatol 2010;55(4):329-333 "
        "(PMID 21430883)",
        "url_or_doi": "10.4103/0019-5154.74531",
        "verification": "abstract read (bibliographic record)",
        "notes": "Used for the 3.5-day effect window of a topical steroid application "
        "(dermatwin.therapy.exposure.TCS_WINDOW_DAYS); animal data, potent steroid.",
    },
    {
        "id": "WOLLENBERG2009",
        "kind": "paper",
        "fact": "proactive therapy of atopic eczema: long-term, low-dose intermittent "
        "anti-inflammatory treatment of previously affected skin, whose subclinical "
        "inflammation (ongoing barrier dysfunction, residual inflammatory infiltrate, "
        "persistent immunological abnormalities, clinically invisible) precedes the next "
        "flare; fewer exacerbations in controlled trials",
        "citation": "Wollenberg A, Frank R, Kroth J, Ruzicka T. Proactive therapy of atopic "
        "eczema - an evidence-based concept with a behavioral background. J Dtsch Dermatol "
        "Ges 2009;7(2):117-121",
        "url_or_doi": "10.1111/j.1610-0387.2008.06772.x",
        "verification": "abstract read (bibliographic record)",
        "notes": "Used for the path by which a topical steroid on previously affected skin "
        "lowers what a flare trigger elicits (dermatwin.patients.triggers, steroid_block); "
        "the same concept: Wollenberg A, Ehmann LM, Ann Dermatol 2012;24:253 "
        "(doi 10.5021/ad.2012.24.3.253).",
    },
    {
        "id": "SUKANTO1981",
        "kind": "paper",
        "fact": "corticosteroids applied to the skin before patch testing suppressed both "
        "the intensity and the size of allergic patch test reactions to contact allergens "
        "(14 sensitised people; four preparations, no marked difference between them)",
        "citation": "Sukanto H, Nater JP, Bleumink E. Influence of topically applied "
        "corticosteroids on patch test reactions. Contact Dermatitis 1981;7(4):180-185",
        "url_or_doi": "10.1111/j.1600-0536.1981.tb04038.x",
        "verification": "abstract read (PubMed record)",
        "notes": "Used for the direction of the steroid's effect on a trigger's elicited "
        "inflammation (dermatwin.patients.triggers, steroid_block; its size is fitted to "
        "AD_TCS_PROACTIVE_FP_RELAPSE). Conflicting: intracutaneous betamethasone did not "
        "suppress nickel patch reactions (Lauerma 2004, doi 10.1111/j.0105-1873.2004.00335.x).",
    },
    {
        "id": "ZHAO2015",
        "kind": "paper",
        "fact": "AD outcome measures (EASI, oSCORAD, TIS, SASSAD) have poor inter-rater "
        "reliability in highly pigmented skin; variation in erythema perception a "
        "contributor (18 patients, 5 raters, photographs)",
        "citation": "Zhao CY, Wijayanti A, Doria MC, et al. The reliability and validity of "
        "outcome measures for atopic dermatitis in patients with pigmented skin: a grey "
        "area. Int J Womens Dermatol 2015;1(3):150-154 (PMID 28491979)",
        "url_or_doi": "10.1016/j.ijwd.2015.05.002",
        "verification": "abstract read (PMC record)",
        "notes": "Qualitative: no effect size; the erythema visibilities by Fitzpatrick type "
        "(dermatwin.disease.skin_type) are assumed.",
    },
]


def _clean(text: str) -> str:
    return " ".join((text or "").split())


def _fact(kind: str, row: dict[str, str]) -> str:
    if kind == "parameter":
        rng = f" (range {row['range_low']}-{row['range_high']})" if row["range_low"] else ""
        where = "; ".join(x for x in (row["species"], row["context"]) if x)
        return _clean(f"{row['quantity']}: {row['value']} {row['unit']}{rng}; {where}")
    week = f" at week {row['timepoint_weeks']}" if row["timepoint_weeks"] else ""
    n = f", n={row['n']}" if row["n"] else ""
    return _clean(
        f"{row['endpoint']}{week}: {row['value']} {row['unit']} "
        f"({row['intervention']}, {row['arm_type']}{n}; {row['condition']})"
    )


def _verification(kind: str, row: dict[str, str]) -> str:
    if kind == "parameter":  # the notes open with how the number was checked
        return row["notes"].split(";")[0].split(" (")[0].strip()
    return row.get("verification", "")


def collect(reference_dir: Path) -> list[dict[str, str]]:
    """Every bibliography row, reference tables first (in file order), then :data:`PAPERS`."""
    rows: list[dict[str, str]] = []
    by_id: dict[str, dict[str, str]] = {}
    for name, kind in TABLES.items():
        with open(Path(reference_dir) / name, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                out = {
                    "id": row["id"],
                    "kind": kind,
                    "fact": _fact(kind, row),
                    "citation": _clean(row["citation"]),
                    "url_or_doi": _clean(row["url_or_doi"]),
                    "verification": _clean(_verification(kind, row)),
                    "notes": _clean(row["notes"]),
                }
                if out["id"] in by_id:
                    raise ValueError(f"duplicate source id {out['id']} in {name}")
                by_id[out["id"]] = out
                rows.append(out)
    for paper in PAPERS:
        out = {c: paper.get(c, "") for c in COLUMNS}
        if "like" in paper:
            like = by_id[paper["like"]]
            rows_of_paper = [r["id"] for r in rows if r["citation"] == like["citation"]]
            out |= {
                "fact": "cited by name; its numbers: " + ", ".join(rows_of_paper),
                "citation": like["citation"],
                "url_or_doi": like["url_or_doi"],
                "verification": f"as recorded for {like['id']}",
            }
        if out["id"] in by_id:
            raise ValueError(f"duplicate source id {out['id']} in PAPERS")
        by_id[out["id"]] = out
        rows.append(out)
    return rows


def write(rows: list[dict[str, str]], path: Path = SOURCES_CSV) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m dermatwin.references.build REFERENCE_DIR")
    rows = collect(Path(sys.argv[1]))
    write(rows)
    print(f"wrote {len(rows)} sources to {SOURCES_CSV}")
