"""The values personas are drawn from: life stages, regions (names, streets, phone formats),
budgets and dietary restrictions.

:mod:`synth.profiles` assigns them top-down (life stage x region x budget); they are data so that
both backends build the same users and a new region is one more row, not new code.
"""

from __future__ import annotations

from dataclasses import dataclass

# Level 1: life stage -> (age range, occupations, urgency bias)
LIFE_STAGES: dict[str, tuple[tuple[int, int], tuple[str, ...], float]] = {
    "student": ((18, 24), ("student", "intern", "barista", "research assistant"), 0.6),
    "young_professional": (
        (25, 33),
        (
            "software developer",
            "designer",
            "marketing analyst",
            "nurse",
            "consultant",
            "journalist",
        ),
        0.7,
    ),
    "parent": (
        (32, 45),
        ("teacher", "accountant", "pharmacist", "sales manager", "architect", "police officer"),
        0.5,
    ),
    "senior_professional": (
        (42, 60),
        (
            "lawyer",
            "engineering manager",
            "surgeon",
            "director of finance",
            "professor",
            "sommelier",
        ),
        0.6,
    ),
    "retiree": (
        (62, 78),
        ("retired teacher", "retired engineer", "volunteer", "retired nurse"),
        0.3,
    ),
}
BUDGETS = ("frugal", "moderate", "comfortable", "affluent")


@dataclass(frozen=True)
class Region:
    """Level 2: where a user lives, and the names, streets and contact formats found there."""

    city: str
    phone: str
    language: str
    first_f: tuple[str, ...]
    first_m: tuple[str, ...]
    last: tuple[str, ...]
    streets: tuple[str, ...]
    domain: str


REGIONS: tuple[Region, ...] = (
    Region(
        "San Francisco",
        "+1-415-555-",
        "en",
        ("Alice", "Grace", "Maya", "Chloe", "Hannah"),
        ("Bob", "Ethan", "Lucas", "Noah", "Owen"),
        ("Miller", "Parker", "Reed", "Hughes", "Brooks"),
        ("Ocean Ave", "Market St", "Valencia St", "Geary Blvd"),
        "example.com",
    ),
    Region(
        "London",
        "+44-20-5555-",
        "en",
        ("Olivia", "Amelia", "Isla", "Zara", "Priya"),
        ("Femi", "Harry", "Oscar", "Arjun", "George"),
        ("Adeyemi", "Clarke", "Patel", "Walsh", "Evans"),
        ("Baker St", "King's Rd", "Camden High St", "Brick Ln"),
        "example.co.uk",
    ),
    Region(
        "Madrid",
        "+34-600-555-",
        "es",
        ("Carmen", "Lucia", "Elena", "Sofia", "Paula"),
        ("Javier", "Diego", "Pablo", "Mateo", "Andres"),
        ("Diaz", "Garcia", "Romero", "Navarro", "Ruiz"),
        ("Calle Mayor", "Gran Via", "Calle de Alcala", "Paseo del Prado"),
        "example.es",
    ),
    Region(
        "Berlin",
        "+49-30-555-",
        "de",
        ("Anna", "Lena", "Mia", "Clara", "Frieda"),
        ("Dmitri", "Jonas", "Felix", "Lukas", "Paul"),
        ("Volkov", "Schmidt", "Weber", "Becker", "Hoffmann"),
        ("Hauptstrasse", "Torstrasse", "Kastanienallee", "Friedrichstrasse"),
        "example.de",
    ),
    Region(
        "Tokyo",
        "+81-90-5555-",
        "ja",
        ("Emi", "Yui", "Hana", "Aoi", "Sakura"),
        ("Kenji", "Haruto", "Ren", "Sota", "Daiki"),
        ("Tanaka", "Sato", "Suzuki", "Takahashi", "Ito"),
        ("Shibuya", "Nakameguro", "Ebisu", "Asakusa"),
        "example.jp",
    ),
    Region(
        "Paris",
        "+33-6-5555-",
        "fr",
        ("Camille", "Chloe", "Manon", "Ines", "Juliette"),
        ("Louis", "Hugo", "Jules", "Antoine", "Theo"),
        ("Moreau", "Laurent", "Bernard", "Lefevre", "Roux"),
        ("Rue de Rivoli", "Rue Oberkampf", "Boulevard Voltaire", "Rue du Bac"),
        "example.fr",
    ),
    Region(
        "Sao Paulo",
        "+55-11-5555-",
        "pt",
        ("Ana", "Beatriz", "Julia", "Larissa", "Bianca"),
        ("Gabriel", "Rafael", "Thiago", "Bruno", "Caio"),
        ("Silva", "Souza", "Costa", "Oliveira", "Lima"),
        ("Avenida Paulista", "Rua Augusta", "Rua Oscar Freire", "Rua da Consolacao"),
        "example.com.br",
    ),
    Region(
        "Shanghai",
        "+86-138-5555-",
        "zh",
        ("Li Na", "Wang Fang", "Chen Jing", "Zhao Min", "Liu Yang"),
        ("Zhang Wei", "Wang Lei", "Li Qiang", "Chen Hao", "Zhou Jie"),
        ("", "", "", "", ""),
        ("Nanjing Road", "Huaihai Road", "Wulumuqi Road", "Fuxing Road"),
        "example.cn",
    ),
)
DIETS = ("vegetarian", "vegan", "gluten-free", "halal", "lactose intolerant", "no nuts")
