"""Deterministic, realistic people shared by both simulators' seed data."""

from __future__ import annotations

import random
import unicodedata
import uuid
from dataclasses import dataclass

FIRST_NAMES = (
    "Zoë",
    "José",
    "Priya",
    "Mårten",
    "Aoife",
    "Chloé",
    "Søren",
    "Ngozi",
    "Mateo",
    "Hannah",
    "Yuki",
    "Olúwaseun",
    "Łukasz",
    "Renée",
    "Sebastián",
    "Ines",
    "Tomás",
    "Fatima",
    "Björn",
    "Camille",
    "Dmitri",
    "Émilie",
    "Rahul",
    "Siobhán",
    "Kwame",
    "Lucía",
    "Noa",
    "Jürgen",
    "Amélie",
    "Ahmed",
    "Mei",
    "Thandiwe",
    "Zoltán",
    "Ana",
    "Liam",
    "Sakura",
    "François",
    "Gráinne",
    "Mohammed",
    "Eleni",
    "Diego",
    "Anneliese",
    "Kofi",
    "Nadia",
    "Oskar",
    "Ximena",
)
LAST_NAMES = (
    "O'Brien",
    "Álvarez",
    "Raman",
    "Ångström",
    "Ní Bhriain",
    "Dubois",
    "Kierkegaard",
    "Okafor",
    "García",
    "Müller",
    "Tanaka",
    "Adébáyọ̀",
    "Wiśniewski",
    "D'Angelo",
    "Núñez",
    "Ferreira",
    "Ó Súilleabháin",
    "Haddad",
    "Lindqvist",
    "Lefèvre",
    "Ivanov",
    "Côté",
    "Iyer",
    "MacDonald",
    "Mensah",
    "Fernández",
    "Cohen",
    "Schröder",
    "Leroy",
    "Hassan",
    "Zhang",
    "Dlamini",
    "Kovács",
    "Silva",
    "O'Connor",
    "Sato",
    "Bérubé",
    "Ó Gráda",
    "Al-Sayed",
    "Papadopoulou",
    "Hernández",
    "von Bülow",
    "Asante",
    "Petrović",
    "Nyström",
    "Peña",
)
DEPARTMENTS = ("engineering", "sales", "support", "finance", "operations", "marketing", "legal", "people")
TIERS = ("gold", "silver", "bronze")


@dataclass(frozen=True)
class Person:
    first: str
    last: str
    email: str

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


# Present in every seed, with these exact e-mail addresses (see the simulator README in __init__).
WELL_KNOWN = (
    Person("Priya", "Raman", "priya.raman@example.com"),
    Person("Zoë", "O'Brien", "zoe.obrien@example.com"),
    Person("José", "Álvarez", "jose.alvarez@example.com"),
    Person("Mårten", "Ångström", "marten.angstrom@example.com"),
    Person("Aoife", "Ní Bhriain", "aoife.nibhriain@example.com"),
)


def ascii_slug(text: str) -> str:
    normalised = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "".join(ch for ch in normalised if ch.isalnum())


def make_rng(seed: int, salt: str) -> random.Random:
    return random.Random(f"{salt}:{seed}")  # noqa: S311 - fake data, not security


def rng_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def rng_hex(rng: random.Random, n: int = 32) -> str:
    return f"{rng.getrandbits(n * 4):0{n}x}"


def generate_people(count: int, seed: int) -> list[Person]:
    """``count`` people: the well-known ones first, then generated ones with unique e-mail addresses."""
    rng = make_rng(seed, "people")
    people = list(WELL_KNOWN[:count])
    firsts, lasts = FIRST_NAMES, LAST_NAMES
    for i in range(len(people), count):
        first = firsts[rng.randrange(len(firsts))]
        last = lasts[rng.randrange(len(lasts))]
        email = f"{ascii_slug(first)}.{ascii_slug(last)}.{i}@example.com"
        people.append(Person(first, last, email))
    return people
