"""Content scaled up with plausible synthetic sessions, organizations and FAQ entries.

Built directly with the pydantic models, so it is validated like the real thing. Names mix
invented words (the vocabulary grows with the content, as real names would) with the topics,
places and kinds of organization an event like this one talks about, in en/es/ca.
"""

from __future__ import annotations

import random

from bot.content import Content, Faq, Organization, OrganizationRole, Session, SessionKind

# (en, es, ca) so synthetic titles have their three translations like the shipped ones.
TOPICS = [
    ("connectivity", "conectividad", "connectivitat"),
    ("digital divide", "brecha digital", "bretxa digital"),
    ("digital skills", "competencias digitales", "competències digitals"),
    ("broadband", "banda ancha", "banda ampla"),
    ("open data", "datos abiertos", "dades obertes"),
    ("smart cities", "ciudades inteligentes", "ciutats intel·ligents"),
    ("rural areas", "zonas rurales", "zones rurals"),
    ("public services", "servicios públicos", "serveis públics"),
    ("interoperability", "interoperabilidad", "interoperabilitat"),
    ("cybersecurity", "ciberseguridad", "ciberseguretat"),
    ("artificial intelligence", "inteligencia artificial", "intel·ligència artificial"),
    ("e-government", "administración electrónica", "administració electrònica"),
    ("local businesses", "comercio local", "comerç local"),
    ("digital inclusion", "inclusión digital", "inclusió digital"),
    ("5G networks", "redes 5G", "xarxes 5G"),
    ("data platforms", "plataformas de datos", "plataformes de dades"),
    ("mobility", "movilidad", "mobilitat"),
    ("energy transition", "transición energética", "transició energètica"),
    ("citizen participation", "participación ciudadana", "participació ciutadana"),
    ("innovation ecosystems", "ecosistemas de innovación", "ecosistemes d'innovació"),
]
TITLE_TEMPLATES = [
    ("{a} for {place}", "{a} para {place}", "{a} per a {place}"),
    ("From {a} to {b}", "De {a} a {b}", "De {a} a {b}"),
    ("{a} and {b} in {place}", "{a} y {b} en {place}", "{a} i {b} a {place}"),
    (
        "Scaling {a}: lessons from {place}",
        "Escalar {a}: lecciones de {place}",
        "Escalar {a}: lliçons de {place}",
    ),
]
ORG_KINDS = ["Foundation", "Lab", "Institute", "Network", "Council", "Agency", "Consortium"]
SYLLABLES = ["ta", "ver", "no", "lu", "mi", "sor", "ka", "del", "ri", "ban", "qu", "ex", "om"]
FAQ_TEMPLATES = [
    ("When was {org} founded?", "what year was {org} created", "{org} founded in {year}."),
    (
        "How many employees does {org} have?",
        "how many people work at {org}",
        "{org} has {n} employees.",
    ),
    ("Where is {org} based?", "where are the {org} headquarters", "{org} is based in {place}."),
    ("What does {org} do about {a}?", "{org} and {a}", "{org} works on {a} with {b}."),
    (
        "Which municipalities does {org} support?",
        "{org} municipalities",
        "{org} supports {n} municipalities.",
    ),
]
KINDS = [SessionKind.PANEL, SessionKind.SIDE_EVENT]


def invented_word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()


def place(rng: random.Random) -> str:
    return f"{invented_word(rng)} {rng.choice(('Valley', 'County', 'Region', 'Coast'))}"


def organization(rng: random.Random, number: int) -> Organization:
    name = f"{invented_word(rng)} {rng.choice(ORG_KINDS)}"
    short = "".join(word[0] for word in name.split()).upper() + str(number)
    return Organization(
        id=f"syn-org-{number}",
        name=name,
        role=rng.choice(list(OrganizationRole)),
        aliases=[short, f"{name} {number}"],
        description={"en": f"{name} works on {rng.choice(TOPICS)[0]} in {place(rng)}."},
    )


def session(rng: random.Random, number: int, hosts: list[Organization]) -> Session:
    a, b = rng.sample(TOPICS, 2)
    template = rng.choice(TITLE_TEMPLATES)
    where = place(rng)
    titles = {
        lang: text.format(a=a[i], b=b[i], place=where)
        for i, (lang, text) in enumerate(zip(("en", "es", "ca"), template, strict=True))
    }
    start = rng.randrange(9 * 60, 18 * 60, 15)
    return Session(
        id=f"syn-ses-{number}",
        kind=rng.choice(KINDS),
        title=titles,
        start=f"{start // 60:02d}:{start % 60:02d}",
        end=f"{(start + 45) // 60:02d}:{(start + 45) % 60:02d}",
        description={"en": f"A session on {a[0]} and {b[0]}."},
        host=rng.choice(hosts).id if hosts else None,
        topics=[a[0], b[0]],
    )


def faq(rng: random.Random, number: int, orgs: list[Organization]) -> Faq:
    org = rng.choice(orgs).name
    question, alternative, answer = rng.choice(FAQ_TEMPLATES)
    values = {
        "org": org,
        "year": rng.randint(1950, 2020),
        "n": rng.randint(10, 90_000),
        "place": place(rng),
        "a": rng.choice(TOPICS)[0],
        "b": rng.choice(TOPICS)[0],
    }
    return Faq(
        id=f"syn-faq-{number}",
        question={"en": question.format(**values)},
        alternatives=[alternative.format(**values)],
        answer={"en": answer.format(**values)},
    )


def scaled(content: Content, factor: int, seed: int = 6) -> Content:
    """The shipped content plus (factor - 1) times as many synthetic items of each kind."""
    if factor <= 1:
        return content
    rng = random.Random(seed)
    extra = factor - 1
    orgs = [organization(rng, n) for n in range(len(content.organizations) * extra)]
    sessions = [session(rng, n, orgs) for n in range(len(content.sessions) * extra)]
    faqs = [faq(rng, n, orgs) for n in range(len(content.faqs) * extra)]
    # A new Content (not model_copy) so its own set-up, e.g. ordering sessions, runs too.
    return Content(
        **{
            **dict(content),
            "sessions": [*content.sessions, *sessions],
            "organizations": [*content.organizations, *orgs],
            "faqs": [*content.faqs, *faqs],
        }
    )
