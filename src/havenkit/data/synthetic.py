"""A synthetic Scottish cohort: people, hospital admissions and prescriptions, for the demo.

No row describes a real person. The tables have the shape of the linked NHS data a Scottish
safe haven holds (valid CHI numbers consistent with sex and date of birth, real postcode
districts, SIMD quintiles, ICD-10 codes, BNF chapters) and one built-in finding for the demo
project to rediscover: heart attacks (ICD-10 I21) are commoner in more deprived quintiles, in
men and with age. Everything is drawn with numpy from one seeded generator, array by array,
so the same seed gives byte-identical tables and 100,000 people take about a second.
"""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from havenkit.deid.chi import generate_chis

DEFAULT_SEED = 20261123
DEFAULT_PEOPLE = 100_000
MEAN_ADMISSIONS_PER_PERSON = 2.5
MEAN_PRESCRIPTIONS_PER_PERSON = 5.0

BORN_FROM = np.datetime64("1920-01-01")
BORN_UNTIL = np.datetime64("2020-12-31")
RECORDS_FROM = {
    "admissions": np.datetime64("2010-01-01"),
    "prescriptions": np.datetime64("2018-01-01"),
}
# Every event happens before this day.
RECORDS_UNTIL = np.datetime64("2026-06-30")

POSTCODE_DISTRICTS = (
    *("EH1", "EH3", "EH4", "EH6", "EH7", "EH8", "EH9", "EH10", "EH11", "EH12", "EH14", "EH16"),
    *("EH17", "EH22", "EH26", "EH30", "EH48", "EH54"),
    *("G1", "G3", "G11", "G12", "G13", "G14", "G15", "G20", "G21", "G22", "G31", "G32", "G33"),
    *("G34", "G40", "G41", "G42", "G43", "G45", "G51", "G52", "G53", "G72", "G81"),
    *("AB10", "AB11", "AB15", "AB16", "AB24", "AB25", "DD1", "DD2", "DD3", "DD4"),
    *("KY1", "KY2", "KY11", "KY16", "FK1", "FK2", "FK8", "PA1", "PA2", "PA3", "PA15"),
    *("IV1", "IV2", "IV3", "KA1", "KA3", "KA7", "ML1", "ML3", "ML6"),
    *("DG1", "PH1", "TD1", "KW1", "ZE1", "HS1"),
)

HEART_ATTACK = "I21"
# (ICD-10 code, specialty, relative frequency) of common reasons for admission. Codes that
# belong to one sex only (deliveries, prostate cancer) are left out so that no admission
# contradicts the person's sex.
DIAGNOSES = (
    ("I20", "Cardiology", 3),  # angina
    ("I48", "Cardiology", 4),  # atrial fibrillation
    ("I50", "Cardiology", 4),  # heart failure
    ("I10", "General medicine", 2),  # essential hypertension
    ("I26", "General medicine", 2),  # pulmonary embolism
    ("I63", "Stroke medicine", 3),  # cerebral infarction
    ("J18", "Respiratory medicine", 6),  # pneumonia
    ("J44", "Respiratory medicine", 5),  # COPD
    ("J45", "Respiratory medicine", 3),  # asthma
    ("J22", "General medicine", 3),  # lower respiratory infection
    ("J06", "General medicine", 2),  # upper respiratory infection
    ("E11", "Diabetes and endocrinology", 3),  # type 2 diabetes
    ("E10", "Diabetes and endocrinology", 1),  # type 1 diabetes
    ("E86", "General medicine", 2),  # volume depletion
    ("C34", "Medical oncology", 2),  # lung cancer
    ("C50", "Clinical oncology", 2),  # breast cancer
    ("C18", "General surgery", 2),  # colon cancer
    ("C25", "Medical oncology", 1),  # pancreatic cancer
    ("C67", "Urology", 1),  # bladder cancer
    ("F32", "Psychiatry", 2),  # depressive episode
    ("F10", "Psychiatry", 3),  # alcohol use disorders
    ("F20", "Psychiatry", 1),  # schizophrenia
    ("F03", "Geriatric medicine", 2),  # dementia
    ("K35", "General surgery", 2),  # appendicitis
    ("K80", "General surgery", 3),  # gallstones
    ("K57", "General surgery", 2),  # diverticular disease
    ("K92", "Gastroenterology", 2),  # gastrointestinal bleeding
    ("K70", "Gastroenterology", 1),  # alcoholic liver disease
    ("N39", "General medicine", 5),  # urinary tract infection
    ("N18", "Renal medicine", 1),  # chronic kidney disease
    ("N17", "Renal medicine", 2),  # acute kidney failure
    ("S72", "Trauma and orthopaedics", 3),  # fracture of femur
    ("S52", "Trauma and orthopaedics", 2),  # fracture of forearm
    ("S06", "Neurosurgery", 2),  # intracranial injury
    ("M17", "Trauma and orthopaedics", 2),  # knee osteoarthritis
    ("M16", "Trauma and orthopaedics", 2),  # hip osteoarthritis
    ("R07", "General medicine", 8),  # chest pain
    ("R10", "General surgery", 6),  # abdominal pain
    ("R55", "General medicine", 4),  # syncope and collapse
    ("A41", "General medicine", 2),  # sepsis
    ("L03", "General medicine", 3),  # cellulitis
    ("G40", "Neurology", 2),  # epilepsy
    ("H25", "Ophthalmology", 2),  # cataract
)

# (drug, BNF chapter, quantity of one supply, relative frequency).
DRUGS = (
    ("Omeprazole 20mg capsules", 1, 28, 8),
    ("Lansoprazole 30mg capsules", 1, 28, 4),
    ("Lactulose 3.35g/5ml oral solution", 1, 300, 2),
    ("Atorvastatin 20mg tablets", 2, 28, 8),
    ("Simvastatin 40mg tablets", 2, 28, 3),
    ("Amlodipine 5mg tablets", 2, 28, 6),
    ("Ramipril 5mg capsules", 2, 28, 5),
    ("Bisoprolol 2.5mg tablets", 2, 28, 4),
    ("Aspirin 75mg dispersible tablets", 2, 28, 4),
    ("Clopidogrel 75mg tablets", 2, 28, 2),
    ("Apixaban 5mg tablets", 2, 56, 3),
    ("Furosemide 40mg tablets", 2, 28, 3),
    ("Salbutamol 100micrograms/dose inhaler", 3, 200, 5),
    ("Beclometasone 100micrograms/dose inhaler", 3, 200, 2),
    ("Sertraline 50mg tablets", 4, 28, 5),
    ("Citalopram 20mg tablets", 4, 28, 3),
    ("Mirtazapine 15mg tablets", 4, 28, 2),
    ("Amitriptyline 10mg tablets", 4, 28, 3),
    ("Paracetamol 500mg tablets", 4, 100, 7),
    ("Co-codamol 30mg/500mg tablets", 4, 100, 4),
    ("Amoxicillin 500mg capsules", 5, 15, 5),
    ("Doxycycline 100mg capsules", 5, 8, 2),
    ("Nitrofurantoin 100mg modified-release capsules", 5, 6, 2),
    ("Flucloxacillin 500mg capsules", 5, 28, 2),
    ("Metformin 500mg tablets", 6, 56, 5),
    ("Gliclazide 80mg tablets", 6, 56, 2),
    ("Levothyroxine 50micrograms tablets", 6, 28, 4),
    ("Prednisolone 5mg tablets", 6, 28, 2),
    ("Solifenacin 5mg tablets", 7, 30, 1),
    ("Ferrous fumarate 210mg tablets", 9, 84, 2),
    ("Colecalciferol 800unit capsules", 9, 30, 3),
    ("Naproxen 500mg tablets", 10, 56, 3),
    ("Ibuprofen 400mg tablets", 10, 24, 2),
    ("Chloramphenicol 0.5% eye drops", 11, 10, 1),
    ("Diprobase cream", 13, 500, 2),
    ("Hydrocortisone 1% cream", 13, 30, 2),
)

# Relative risk of a heart attack per admission, by SIMD quintile 1 (most deprived) to 5.
_HEART_ATTACK_RISK_BY_QUINTILE = np.array([1.8, 1.5, 1.25, 1.1, 1.0])
_HEART_ATTACK_BASE_RISK = 0.02


def _weights(rows: tuple[tuple, ...]) -> np.ndarray:
    frequency = np.array([row[-1] for row in rows], dtype=float)
    return frequency / frequency.sum()


def _pick(values: list, indices: np.ndarray) -> pa.Array:
    """The strings at ``indices`` as an Arrow column, without a Python loop over rows."""
    return pc.take(pa.array(values, type=pa.string()), pa.array(indices))


def _age_in_years(dates_of_birth: np.ndarray, on: np.ndarray) -> np.ndarray:
    return (on - dates_of_birth).astype(np.int64) / 365.25


def _events_per_person(rng: np.random.Generator, ages: np.ndarray, mean: float) -> np.ndarray:
    """How many events each person has: older people have more, the cohort mean is ``mean``."""
    relative = 0.4 + ages / 40
    return rng.poisson(mean * relative / relative.mean())


def _event_dates(
    rng: np.random.Generator, dates_of_birth: np.ndarray, first_day: np.datetime64
) -> np.ndarray:
    """A day after birth, on or after ``first_day`` and before :data:`RECORDS_UNTIL`."""
    start = np.maximum(dates_of_birth + 1, first_day)
    span = (RECORDS_UNTIL - start).astype(np.int64)
    return start + np.floor(rng.random(len(start)) * span).astype(np.int64)


def _people(rng: np.random.Generator, n_people: int) -> dict[str, np.ndarray]:
    span = (BORN_UNTIL - BORN_FROM).astype(np.int64) + 1
    dates_of_birth = BORN_FROM + rng.integers(0, span, size=n_people)
    sexes = np.where(rng.random(n_people) < 0.51, "F", "M")
    return {
        "chi": generate_chis(dates_of_birth, sexes, rng),
        "sex": sexes,
        "date_of_birth": dates_of_birth,
        "postcode_district": rng.integers(0, len(POSTCODE_DISTRICTS), size=n_people),
        "simd_quintile": rng.integers(1, 6, size=n_people).astype(np.int8),
    }


def _admissions(rng: np.random.Generator, people: dict[str, np.ndarray]) -> pa.Table:
    ages = _age_in_years(people["date_of_birth"], RECORDS_UNTIL)
    person = np.repeat(
        np.arange(len(ages)), _events_per_person(rng, ages, MEAN_ADMISSIONS_PER_PERSON)
    )
    admitted = _event_dates(rng, people["date_of_birth"][person], RECORDS_FROM["admissions"])
    order = np.lexsort((admitted, person))
    person, admitted = person[order], admitted[order]
    stay_days = rng.geometric(0.25, size=len(person)) - 1
    discharged = np.minimum(admitted + stay_days, RECORDS_UNTIL - 1)

    age_then = _age_in_years(people["date_of_birth"][person], admitted)
    heart_attack_risk = (
        _HEART_ATTACK_BASE_RISK
        * _HEART_ATTACK_RISK_BY_QUINTILE[people["simd_quintile"][person] - 1]
        * np.where(people["sex"][person] == "M", 1.5, 0.8)
        * np.where(age_then >= 45, 2.0, 0.2)
    )
    codes = [HEART_ATTACK, *(code for code, _specialty, _weight in DIAGNOSES)]
    specialties = ["Cardiology", *(specialty for _code, specialty, _weight in DIAGNOSES)]
    other = 1 + rng.choice(len(DIAGNOSES), size=len(person), p=_weights(DIAGNOSES))
    diagnosis = np.where(rng.random(len(person)) < heart_attack_risk, 0, other)
    return pa.table(
        {
            "chi": pa.array(people["chi"][person], type=pa.string()),
            "admission_date": pa.array(admitted, type=pa.date32()),
            "discharge_date": pa.array(discharged, type=pa.date32()),
            "icd10": _pick(codes, diagnosis),
            "specialty": _pick(specialties, diagnosis),
        }
    )


def _prescriptions(rng: np.random.Generator, people: dict[str, np.ndarray]) -> pa.Table:
    ages = _age_in_years(people["date_of_birth"], RECORDS_UNTIL)
    person = np.repeat(
        np.arange(len(ages)), _events_per_person(rng, ages, MEAN_PRESCRIPTIONS_PER_PERSON)
    )
    prescribed = _event_dates(rng, people["date_of_birth"][person], RECORDS_FROM["prescriptions"])
    order = np.lexsort((prescribed, person))
    person, prescribed = person[order], prescribed[order]
    drug = rng.choice(len(DRUGS), size=len(person), p=_weights(DRUGS))
    chapters = np.array([chapter for _name, chapter, _quantity, _weight in DRUGS], dtype=np.int8)
    supply = np.array([quantity for _name, _chapter, quantity, _weight in DRUGS], dtype=np.int32)
    supplies = rng.choice([1, 2, 3], size=len(person), p=[0.7, 0.2, 0.1]).astype(np.int32)
    return pa.table(
        {
            "chi": pa.array(people["chi"][person], type=pa.string()),
            "prescribed_date": pa.array(prescribed, type=pa.date32()),
            "bnf_chapter": pa.array(chapters[drug]),
            "drug": _pick([name for name, *_rest in DRUGS], drug),
            "quantity": pa.array(supply[drug] * supplies),
        }
    )


def generate_cohort(
    n_people: int = DEFAULT_PEOPLE, seed: int = DEFAULT_SEED
) -> dict[str, pa.Table]:
    """The ``people``, ``admissions`` and ``prescriptions`` tables of a synthetic cohort."""
    if n_people < 1:
        raise ValueError("A cohort needs at least one person.")
    rng = np.random.default_rng(seed)
    people = _people(rng, n_people)
    people_table = pa.table(
        {
            "chi": pa.array(people["chi"], type=pa.string()),
            "sex": pa.array(people["sex"], type=pa.string()),
            "date_of_birth": pa.array(people["date_of_birth"], type=pa.date32()),
            "postcode_district": _pick(list(POSTCODE_DISTRICTS), people["postcode_district"]),
            "simd_quintile": pa.array(people["simd_quintile"]),
        }
    )
    return {
        "people": people_table,
        "admissions": _admissions(rng, people),
        "prescriptions": _prescriptions(rng, people),
    }
