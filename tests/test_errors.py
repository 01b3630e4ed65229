"""The error catalogue (themer.errors): every code declared once, raised with one meaning, and
its fix rendered in one door's terms only.

The source checks read themer/ and api/ with ``ast``: a raise site is a call of an error class
(``InputFileError(..., code="THM1xx")``, ``ApiError(status, "THM6xx", ...)``, a class called
without a code: its default, or with a code computed at run time) or a use of a catalogue entry
(``Errors.THM136.error(...)``, ``ApiError.of(Errors.THM627, ...)``). Every module raises from
the catalogue only: one template per code, so a code cannot be raised with two meanings.
"""

from __future__ import annotations

import ast
import pickle
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.errors import ApiError, install
from api.limits import BodyLimit
from themer import errors
from themer.errors import (
    CATALOGUE,
    DOORS,
    BadRowsError,
    EmptyGroupError,
    Errors,
    InputFileError,
    ServiceError,
    StatsError,
    StoreError,
    TaxonomyError,
    ThemerError,
    hint,
    lookup,
    render,
)

ROOT = Path(__file__).resolve().parents[1]
CODE = re.compile(r"THM\d{3}")
SOURCES = sorted([*ROOT.glob("themer/**/*.py"), *ROOT.glob("api/**/*.py")])
# the catalogue: Errors and the range classes it composes (not the tree, not the package)
ERRORS_DIR = ROOT / "themer" / "errors"
CATALOGUE_FILES = sorted(set(ERRORS_DIR.glob("*.py"))
                         - {ERRORS_DIR / "__init__.py", ERRORS_DIR / "tree.py"})
CLASSES: dict[str, type[ThemerError]] = {
    cls.__name__: cls for cls in vars(errors).values()
    if isinstance(cls, type) and issubclass(cls, ThemerError)} | {"ApiError": ApiError}

CLI_WORDS = re.compile(r"(?<![\w-])--[a-z]|THEMER_[A-Z]|`themer |pip install")
API_WORDS = re.compile(r"query parameter|form field|request body|header|/v1/|HTTP|"
                       r"[a-z]+=true")


@dataclass(frozen=True)
class Site:
    path: str
    line: int
    code: str
    cls: str  # the class called, or "Errors" for a catalogue entry used
    style: str  # literal | default | computed | template | argument
    texts: tuple[str, ...] = ()  # the string constants of the call

    def __str__(self) -> str:
        return f"{self.path}:{self.line} ({self.cls})"


def _strings(node: ast.AST) -> tuple[str, ...]:
    return tuple(n.value for n in ast.walk(node)
                 if isinstance(n, ast.Constant) and isinstance(n.value, str))


def _called(node: ast.Call) -> str | None:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else None


def _sites_of(path: Path) -> tuple[list[Site], list[Site]]:
    """(raise sites, every other string constant naming a code) of one source file."""
    rel = path.relative_to(ROOT).as_posix()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    sites: list[Site] = []
    claimed: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _called(node) in CLASSES and path not in CATALOGUE_FILES:
            name = _called(node)
            assert name is not None
            kwargs = {k.arg: k.value for k in node.keywords}
            if name == "ApiError":
                given = node.args[1] if len(node.args) > 1 else kwargs.get("code")
            else:
                given = kwargs.get("code")
            if given is None and name != "ApiError":
                sites.append(Site(rel, node.lineno, CLASSES[name].code, name, "default",
                                  _strings(node)))
            elif isinstance(given, ast.Constant) and isinstance(given.value, str):
                claimed.add(id(given))
                sites.append(Site(rel, node.lineno, given.value, name, "literal", _strings(node)))
            else:  # a code computed at run time: which one it is, no reading can tell
                sites.append(Site(rel, node.lineno, "THM???", name, "computed", _strings(node)))
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id == "Errors" and CODE.fullmatch(node.attr)):
            sites.append(Site(rel, node.lineno, node.attr, "Errors", "template"))
    mentions = [Site(rel, node.lineno, code, "", "argument" if CODE.fullmatch(node.value)
                     else "text")
                for node in ast.walk(tree)
                if isinstance(node, ast.Constant) and isinstance(node.value, str)
                and id(node) not in claimed
                for code in CODE.findall(node.value)]
    return sites, mentions


def _scan() -> tuple[list[Site], list[Site]]:
    sites: list[Site] = []
    mentions: list[Site] = []
    for path in SOURCES:
        found, named = _sites_of(path)
        sites += found
        mentions += named
    return sites, mentions


SITES, MENTIONS = _scan()
BY_CODE: dict[str, list[Site]] = defaultdict(list)
for _site in SITES:
    BY_CODE[_site.code].append(_site)


# (a) every code named anywhere is declared, once ------------------------------------------

def test_every_code_in_the_sources_is_declared() -> None:
    named = {s.code: s for s in [*SITES, *MENTIONS] if s.style != "computed"}
    undeclared = sorted(f"{code} at {site}" for code, site in named.items()
                        if code not in CATALOGUE)
    assert not undeclared, f"declare these in themer.errors.Errors: {undeclared}"


def test_each_code_is_declared_once_in_its_range_class() -> None:
    names: Counter[str] = Counter()
    for path in CATALOGUE_FILES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for declared in (n for n in tree.body if isinstance(n, ast.ClassDef)):
            codes = [target.id for statement in declared.body
                     if isinstance(statement, ast.Assign | ast.AnnAssign)
                     for target in (statement.targets if isinstance(statement, ast.Assign)
                                    else [statement.target])
                     if isinstance(target, ast.Name) and CODE.fullmatch(target.id)]
            assert len({code[3] for code in codes}) <= 1, f"{declared.name} spans ranges"
            names.update(codes)
    assert [name for name, count in names.items() if count > 1] == []
    assert set(names) == set(CATALOGUE)
    assert all(entry.code == code for code, entry in CATALOGUE.items())
    assert all(getattr(Errors, code) is entry for code, entry in CATALOGUE.items())


# (b) every declared code is raised, or reserved -------------------------------------------

def test_every_declared_code_is_raised_or_reserved() -> None:
    used = {s.code for s in SITES} | {s.code for s in MENTIONS if s.style == "argument"
                                       and not s.path.startswith("themer/errors/")}
    idle = sorted(code for code, entry in CATALOGUE.items()
                  if not entry.reserved and code not in used)
    assert not idle, f"raise these or mark them reserved=True: {idle}"


def test_every_raisable_code_has_a_template() -> None:
    # every raise renders a template, so a code without one could never be raised
    assert [code for code, entry in CATALOGUE.items()
            if not entry.reserved and entry.template is None] == []


def test_reserved_codes_are_never_raised() -> None:
    raised = sorted(str(s) + " " + s.code for s in SITES if CATALOGUE.get(s.code) is not None
                    and CATALOGUE[s.code].reserved)
    assert not raised


# (c) one meaning per code -----------------------------------------------------------------

def test_raise_sites_use_the_declared_class() -> None:
    wrong = []
    for site in SITES:
        if site.style in ("template", "computed") or site.code not in CATALOGUE:
            continue
        declared = lookup(site.code).cls
        # a literal ApiError code is one of the API's own (THM6xx)
        ok = declared is ServiceError if site.cls == "ApiError" else CLASSES[site.cls] is declared
        if not ok:
            wrong.append(f"{site}: {site.code} is declared for {declared.__name__}")
    assert not wrong


def test_no_code_is_raised_with_two_meanings() -> None:
    """A code is raised through its one template (one text, one meaning); a literal message,
    or several of them, beside it may drift: give a second meaning a new code."""
    shared = []
    for code, sites in sorted(BY_CODE.items()):
        literal = [s for s in sites if s.style in ("literal", "default")]
        templated = any(s.style == "template" for s in sites)
        if literal and (templated or len(literal) > 1):
            shared.append(f"{code}: {', '.join(map(str, literal))}"
                          f"{' and its template' if templated else ''}")
    assert not shared, "give a second meaning a new code, or raise one template: " + str(shared)


def _raises_from_a_template(node: ast.AST) -> bool:
    """``Errors.THMnnn.error(...)``, ``Errors.THMnnn.render(...)`` or ``ApiError.of(...)``."""
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
        return False
    func = node.func
    if func.attr == "of":
        return isinstance(func.value, ast.Name) and func.value.id == "ApiError"
    return (func.attr in ("error", "render") and isinstance(func.value, ast.Attribute)
            and isinstance(func.value.value, ast.Name) and func.value.value.id == "Errors")


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_module_raises_from_the_catalogue(path: Path) -> None:
    sites, _ = _sites_of(path)
    literal = [f"{s} {s.code}" for s in sites if s.style != "template"]
    assert not literal, "raise these with Errors.THMnnn.error(...) or ApiError.of(...)"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    door_words = [f"{path.name}:{node.lineno}" for node in ast.walk(tree)
                  if _raises_from_a_template(node)
                  and any(CLI_WORDS.search(text) for text in _strings(node))]
    assert not door_words, "library messages name no CLI flag or THEMER_ variable"


# (d) ranges -------------------------------------------------------------------------------

RANGES: dict[str, type[ThemerError]] = {"0": ThemerError, "1": InputFileError,
                                        "2": TaxonomyError, "3": errors.ModelError,
                                        "4": StatsError, "5": StoreError, "6": ServiceError}


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_codes_are_in_their_class_range(code: str) -> None:
    entry = lookup(code)
    family = RANGES[code[3]]
    assert issubclass(entry.cls, family), f"{code} is a {family.__name__} code"
    if family is ThemerError:
        assert entry.cls is ThemerError
        assert entry.reserved
    assert (entry.status is not None) == (family is ServiceError and not entry.reserved)


def test_class_defaults_are_their_own_codes() -> None:
    for cls in CLASSES.values():
        if cls is not ApiError:
            assert lookup(cls.code).cls is cls, cls


# (e) hints: each door in its own terms ----------------------------------------------------

@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_hints_speak_their_door(code: str) -> None:
    entry = lookup(code)
    if entry.cli is not None:
        assert not API_WORDS.search(entry.cli), entry.cli
    if entry.api is not None:
        assert not CLI_WORDS.search(entry.api), entry.api
    if entry.cli is not None and entry.api is not None:
        assert entry.cli != entry.api
    for text in (entry.meaning, entry.template or "", entry.cli or "", entry.api or ""):
        assert "\n" not in text
        assert "{" not in (entry.cli or "") + (entry.api or "")  # hints are plain text


@pytest.mark.parametrize("code", sorted(c for c, e in CATALOGUE.items() if e.template))
def test_templates_render_in_library_terms(code: str) -> None:
    entry = lookup(code)
    assert all(name.isidentifier() for name in entry.fields), entry.fields
    message = entry.render(**dict.fromkeys(entry.fields, "x"))
    assert not CLI_WORDS.search(message), message
    if entry.cls is not ServiceError:
        assert not API_WORDS.search(message), message


@pytest.mark.parametrize("code", sorted(c for c, e in CATALOGUE.items() if e.cli and e.api))
def test_a_door_never_renders_the_other_doors_hint(code: str) -> None:
    entry = lookup(code)
    fields = dict.fromkeys(entry.fields, "x")
    error = entry.error(**fields) if entry.template else entry.cls("message", code=code)
    assert entry.cli is not None
    assert entry.api is not None
    assert entry.cli in render(error, "cli")
    assert entry.api not in render(error, "cli")
    assert entry.api in render(error, "api")
    assert entry.cli not in render(error, "api")


def test_hint_of_an_undeclared_code_is_none() -> None:
    assert hint("HTTP404", "api") is None
    assert hint("THM136", "cli") == Errors.THM136.cli
    assert set(DOORS) == {"cli", "api"}
    error = Errors.THM407.error()
    assert render(error, "cli") == f"{error} ({Errors.THM407.cli})"
    assert render(Errors.THM405.error(), "cli") == "[THM405] theme counts exceed the total counts."


# construction: loud on a wrong code -------------------------------------------------------

def test_the_constructor_keeps_working() -> None:
    error = InputFileError("x.csv: file not found.", code="THM103")
    assert (error.code, error.message, str(error)) == ("THM103", "x.csv: file not found.",
                                                       "[THM103] x.csv: file not found.")
    assert isinstance(error, ValueError)
    assert BadRowsError("bad rows", ["row 2"]).problems == ["row 2"]
    assert EmptyGroupError("nps() of nobody").code == "THM401"


@pytest.mark.parametrize(("build", "message"), [
    (lambda: InputFileError("x", code="THM999"), "not declared"),
    (lambda: StatsError("x", code="THM401"), "declared for EmptyGroupError"),
    (lambda: EmptyGroupError("x", code="THM402"), "declared for StatsError"),
    (lambda: TaxonomyError("x", code="THM113"), "declared for InputFileError"),
    (lambda: InputFileError("x"), "reserved"),  # a class default: name a specific code
    (lambda: ThemerError("x"), "reserved"),
    (lambda: ApiError(404, "THM625", "x"), "status 503"),
    (lambda: ApiError(404, "THM999", "x"), "not declared"),
    (lambda: ApiError(422, "THM101", "x"), "reserved"),
    (lambda: Errors.THM136.error(segments=["a"]), "needs fields"),
    (lambda: Errors.THM136.error(segments=["a"], available=[], extra=1), "needs fields"),
    (lambda: Errors.THM101.error(), "no message template"),
])
def test_a_wrong_code_fails_at_construction(build: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()


def test_errors_pickle_with_their_code() -> None:  # Ray workers send them back pickled
    for error in (Errors.THM136.error(segments=["a"], available=[]),
                  BadRowsError("2 bad rows", ["row 2", "row 3"]),
                  Errors.THM401.error(function="nps"),
                  ApiError(429, "THM613", "slow down", {"Retry-After": "3"})):
        again = pickle.loads(pickle.dumps(error))
        assert type(again) is type(error)
        assert (str(again), vars(again)) == (str(error), vars(error))


def test_template_errors_are_their_declared_class() -> None:
    error = Errors.THM136.error(segments=["role"], available=["plan"])
    assert type(error) is InputFileError
    assert error.code == "THM136"
    assert error.message == "no segment column for ['role'] (segments present: ['plan'])."
    assert type(Errors.THM401.error(function="nps")) is EmptyGroupError


def test_api_errors_carry_their_declared_status() -> None:
    error = ApiError.of(Errors.THM627, job_id="j1")
    assert (error.status, error.code, error.detail) == (404, "THM627", "no job j1")
    assert isinstance(error, ServiceError)
    relayed = ApiError.relay(Errors.THM113.error(source="a.csv", absent=["x"], columns=["y"]),
                             "a.csv: column(s) ['x'] not found")
    assert (relayed.status, relayed.code) == (422, "THM113")  # a library code keeps its meaning
    assert ApiError(422, "THM113", "relayed as api/app.py does").code == "THM113"


# the API door: problem+json with the API's hint -------------------------------------------

def _app() -> TestClient:
    app = FastAPI()
    install(app)

    @app.get("/segment")
    def segment() -> None:
        raise Errors.THM408.error(types=["relationship", "transactional"])

    @app.get("/job")
    def job() -> None:
        raise ApiError.of(Errors.THM627, job_id="j1")

    @app.get("/store")
    def store() -> None:
        raise StoreError("store unreachable: timeout", code="THM503")

    @app.get("/count")
    def count(n: int) -> int:
        return n

    @app.post("/body")
    def body() -> None:
        return None

    return TestClient(BodyLimit(app, max_bytes=10))


def test_problem_responses_keep_their_shape_and_add_the_api_hint() -> None:
    client = _app()
    answer = client.get("/segment")
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["code"] == "THM408"
    assert body["detail"].startswith("responses mix survey types")
    assert body["hint"] == Errors.THM408.api
    assert Errors.THM408.cli is not None
    assert Errors.THM408.cli not in answer.text
    assert "--" not in answer.text
    job = client.get("/job").json()
    assert (job["status"], job["code"], job["detail"]) == (404, "THM627", "no job j1")
    assert "hint" not in job  # no hint declared: the field is left out
    store = client.get("/store")
    assert store.status_code == 503
    assert store.json()["hint"] == Errors.THM503.api
    invalid = client.get("/count", params={"n": "many"}).json()
    assert invalid["code"] == "THM601"
    assert invalid["detail"].startswith("query.n: ")
    too_big = client.post("/body", content=b"x" * 100)
    assert too_big.status_code == 413
    assert too_big.json() == {"type": "https://themer.dev/errors/THM602",
                              "title": "Payload too large", "status": 413, "code": "THM602",
                              "detail": "request body over 10 bytes",
                              "hint": Errors.THM602.api}
