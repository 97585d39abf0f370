"""The house: where a domain plugs in.

Each domain package (``vendors``, ``contracts``, ``cloud``, ``social``) has an
``init_app(app)`` that registers its blueprints and adds what it contributes to
the app's one :class:`Registry`, ``app.extensions["itaku"]``.  The features
that span domains — the dashboard, due items (reminders and the calendar feed),
the self-inspection sheet and the audit pack, the spreadsheet and API
registers, the demo data, the blocks a domain adds to another's pages — read
only this registry, so ``core`` imports no domain and nothing is registered as
a side effect of an import.

    def init_app(app):
        app.register_blueprint(bp)
        house = plugins.registry(app)
        house.add_panel(20, dashboard_panel)
        house.add_due(due_items)

Every list is kept in the order of its ``order`` argument (then the order of
registration), so what a page shows does not depend on the order the domains
were set up in.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, NamedTuple

from flask import Flask, current_app
from jinja2.environment import TemplateModule
from markupsafe import Markup

KEY = "itaku"


@dataclass(frozen=True)
class Document:
    """A printable document offered on the checklists page (a register's PDF…)."""
    order: int
    label: Any  # a lazy string: shown in the user's language
    endpoint: str


@dataclass(frozen=True)
class InspectionArea:
    """An area of the self-inspection catalogue (業務委託, 外部サービス…) and the
    built-in items a domain contributes to it (core.inspection_items.Item)."""
    order: int
    code: str
    name_ja: str
    name_en: str
    items: tuple = ()

    def name(self, language: str = "ja") -> str:
        return self.name_en if language == "en" and self.name_en else self.name_ja


@dataclass(frozen=True)
class Responsibility:
    """A kind of responsibility a user holds (core.handover, 人事異動).

    ``items(user)`` lists the user's open ones (core.handover.Item: a readable
    description and a link); ``roles``: a successor must hold one of them
    (empty: any active user; an item may ask for its own); ``hand_over(leaver,
    successor)`` moves every one of them to the successor and flushes —
    never commits."""
    key: str
    order: int
    label: Any  # a lazy string: shown in the user's language
    items: Callable[[Any], list]
    hand_over: Callable[[Any, Any], Any]
    roles: frozenset = frozenset()


@dataclass(frozen=True)
class MeasureSource:
    """What opens improvement measures (core.measures.Measure.source_type):
    ``label`` names the kind of source (a lazy string); ``link(measure)`` →
    (endpoint, params) of the source's page, or None; ``may_accept(user,
    measure)`` says who may confirm a measure's completion (None: the
    defaults, core.measures.ACCEPTORS) — never its reporter, whatever it says;
    ``acceptors``: the roles among which those are (the inbox asks no one else)."""
    source_type: str
    label: Any
    link: Callable[[Any], tuple[str, dict] | None] | None = None
    may_accept: Callable[[Any, Any], bool] | None = None
    acceptors: frozenset = frozenset()


@dataclass(frozen=True)
class Auditable:
    """A kind of record an audit plan can name (情報セキュリティ監査, policy §7):
    ``choices()`` → [(id, text)] for the plan's form; ``responsible(ids)`` →
    {id: {user ids}}, the people responsible for each record (an auditor among
    them is not independent of it); ``describe(ids)`` → {id: text}; the
    record's page is ``endpoint`` with its id as ``param``.  Loaded in bulk."""
    kind: str
    order: int
    label: Any  # a lazy string: the register's name
    choices: Callable[[], list]
    responsible: Callable[[Iterable[int]], dict]
    describe: Callable[[Iterable[int]], dict]
    endpoint: str
    param: str = "id"


@dataclass(frozen=True)
class IncidentSubject:
    """A kind of record an incident may concern (緊急時対応, policy §6(7);
    core.incidents, issue 19): a contract, a cloud service, an SNS account.
    ``kind`` is the incident's ``subject_type``; the callables take ids and
    load in bulk:

    - ``choices()`` → [(id, text)] for the incident form;
    - ``describe(ids)`` → {id: text} (number and name, as a reader knows it);
    - ``units(ids)`` → {id: unit id or None}: the unit responsible for it;
    - ``responsible(ids)`` → {id: {user ids}}: its responsible persons
      (officer, administrator, account holder), who handle its incidents;
    - ``classification(ids)`` → {id: rank of the highest confidentiality
      class it may hold, or None} (core.models.ClassificationLevel.rank);
    - ``report_hours(ids)`` → {id: hours or None}: within how many hours the
      contractor must report an incident under its contract (C10), None when
      no such duty applies;
    - ``late_report(incident)``: a late contractor report, recorded against
      the record (a contract's finding); None: nothing to record;
    - ``closed(incident)``: the incident closed with its cause and
      prevention — e.g. a note for the contract's next verification.

    The record's page is ``endpoint`` with its id as ``param``; the module that
    owns the records registers them (``Registry.add_incident_subject``)."""
    kind: str
    order: int
    label: Any  # a lazy string: the register's name
    choices: Callable[[], list]
    describe: Callable[[Iterable[int]], dict]
    units: Callable[[Iterable[int]], dict]
    responsible: Callable[[Iterable[int]], dict]
    endpoint: str
    param: str = "id"
    classification: Callable[[Iterable[int]], dict] | None = None
    report_hours: Callable[[Iterable[int]], dict] | None = None
    late_report: Callable[[Any], Any] | None = None
    closed: Callable[[Any], Any] | None = None


@dataclass(frozen=True)
class AuditRecord:
    """How the audit trail shows the rows of one table (core.audit_display,
    issue 20): each stored entry is read through it, so only the display
    changes — the trail and its hashes keep the stored values.

    - ``labels``: {column: lazy label} — what the row's form does not say
      (or says at length); ``forms``: form classes whose fields are named
      after the columns (their labels are read, the forms never built);
    - ``name(ids)`` → {id: text}: the records as a reader knows them
      (契約 R8-004 件名; 条項 C20 名称), loaded in bulk, in the reader's
      language; None: the model's own name (``label(locale)``, ``__str__``,
      ``number``/``name``/``title``);
    - ``endpoint`` / ``param``: the record's page, linked for those who may
      open it (core.auth.can_view, the page's own rule);
    - ``parent``: the foreign-key column naming the record a row belongs to
      (a clause row → its contract), for grouping one save into one entry;
      None: a many-to-one whose collection owns the rows (delete-orphan);
    - ``values``: {column: {stored value: lazy label}} for a text column that
      holds codes; ``hidden``: columns never shown;
    - ``summary(changes)`` → a short text for a row of a larger save
      ({column: core.audit_display.Change} → 「規定なし → 規定あり（第12条）」),
      or None to list the changes.

    Tables nobody describes are read from their model (column ``info``
    labels, enum labels, foreign keys), so new records get it for free."""
    table: str
    labels: dict = field(default_factory=dict)
    forms: tuple = ()
    name: Callable[[Iterable[int]], dict] | None = None
    endpoint: str | None = None
    param: str = "id"
    parent: str | None = None
    values: dict = field(default_factory=dict)
    hidden: frozenset = frozenset()
    summary: Callable[[dict], str | None] | None = None


def _ordered(items: list, order: int, item) -> None:
    items.append((order, len(items), item))
    items.sort(key=lambda entry: entry[:2])


class DueSource(NamedTuple):
    """A domain's due items: ``items(scope)`` and, optionally, ``count(scope)``."""
    items: Callable[[Any], Iterable[Any]]
    count: Callable[[Any], int] | None = None


def _items(items: list) -> list:
    return [entry[2] for entry in items]


@dataclass
class Registry:
    """What the domains contributed.  Read through the properties (in order);
    add through the ``add_*`` methods."""

    _panels: list = field(default_factory=list)
    _due: list = field(default_factory=list)
    _due_labels: dict = field(default_factory=dict)
    _facts: list = field(default_factory=list)
    _pack_parts: list = field(default_factory=list)
    _registers: list = field(default_factory=list)
    _seeders: list = field(default_factory=list)
    _generators: list = field(default_factory=list)
    _documents: list = field(default_factory=list)
    _sections: dict = field(default_factory=dict)
    _references: dict = field(default_factory=dict)
    _responsibilities: list = field(default_factory=list)
    _request_kinds: dict = field(default_factory=dict)
    _inbox: list = field(default_factory=list)
    _report_figures: list = field(default_factory=list)
    _report_parts: list = field(default_factory=list)
    _decisions: list = field(default_factory=list)
    _measure_sources: dict = field(default_factory=dict)
    _inspection_areas: list = field(default_factory=list)
    _auditables: list = field(default_factory=list)
    _incident_subjects: list = field(default_factory=list)
    _audit_records: dict = field(default_factory=dict)

    # --- adding ------------------------------------------------------------------------
    def add_panel(self, order: int, build: Callable[[Any], Any]) -> None:
        """A dashboard panel: ``build(user)`` → core.dashboard.Panel, or None to show none."""
        _ordered(self._panels, order, build)

    def add_due(self, build: Callable[[Any], Iterable[Any]], order: int = 0, labels: dict | None = None,
                count: Callable[[Any], int] | None = None) -> None:
        """Due items (inbox, reminders, calendar): ``build(scope)`` → the domain's open
        core.due.DueItem in a core.due.DueScope (its owner, dates and limit, in SQL);
        ``count(scope)`` → how many, without building them (default: those built);
        ``labels``: each of its kinds as people read it ({"verification": _l("確認期限")…})."""
        _ordered(self._due, order, DueSource(build, count))
        self._due_labels.update(labels or {})

    def add_facts(self, build: Callable[[Any], dict[str, Any]], order: int = 0) -> None:
        """What the records say about self-inspection items: ``build(scope)`` →
        {code: core.inspection.Fact (the text and links to the records) or a plain text}."""
        _ordered(self._facts, order, build)

    def add_pack_part(self, order: int, build: Callable[[Any], list]) -> None:
        """Sections of the annual audit pack: ``build(scope)`` → [core.pdf.Section]."""
        _ordered(self._pack_parts, order, build)

    def add_registers(self, build: Callable[[], list], order: int = 0) -> None:
        """Spreadsheet and API registers: ``build()`` → [core.registers.Register]."""
        _ordered(self._registers, order, build)

    def add_seeder(self, order: int, seed: Callable[..., Any]) -> None:
        """Demo data: ``seed(demo)`` adds the domain's records through its services."""
        _ordered(self._seeders, order, seed)

    def add_generator(self, order: int, generate: Callable[..., Any]) -> None:
        """Generated data at scale (``flask gen-data``, the benchmarks): ``generate(plan)``."""
        _ordered(self._generators, order, generate)

    def add_document(self, document: Document) -> None:
        _ordered(self._documents, document.order, document)

    def add_section(self, page: str, order: int, build: Callable[..., Any]) -> None:
        """A block on another domain's page: ``page`` names the slot (e.g.
        ``"vendors.detail"``); ``build(**context)`` returns its HTML — :func:`block` — or '' for
        none.  A template places a slot's blocks with ``{{ slot("vendors.detail", vendor=vendor) }}``.
        A slot of a PDF says what its blocks return (``"vendors.summary"``: flowables by vendor)."""
        _ordered(self._sections.setdefault(page, []), order, build)

    def add_reference(self, model: str, check: Callable[[Any], bool]) -> None:
        """Records of this domain that point to another's: ``check(record)`` is
        true when one does (a vendor with contracts is not deleted…)."""
        self._references.setdefault(model, []).append(check)

    def add_responsibility(self, kind: Responsibility) -> None:
        """Something a user can be responsible for (core.handover, 人事異動): a
        user who still holds one is not deactivated until it is handed to a
        successor."""
        _ordered(self._responsibilities, kind.order, kind)

    def add_request_kind(self, kind: str, describe: Callable[[Any], Any],
                         roles: frozenset = frozenset()) -> None:
        """A kind of four-eyes request (core.approvals): ``describe(approval)``
        → core.handover.Item, and the roles one of which a successor taking
        over the pending request must hold (empty: any active user)."""
        self._request_kinds[kind] = (describe, frozenset(roles))

    def add_inbox(self, provider: Callable[[Any], list], order: int = 0) -> None:
        """What waits for a user (core.inbox, issue 18): ``provider(user)`` →
        [core.inbox.Entry] — the requests the user may decide, the flagged
        records they are responsible for; loaded in bulk, never per row."""
        _ordered(self._inbox, order, provider)

    def add_report_figures(self, order: int, build: Callable[[int], list]) -> None:
        """Key figures of the annual report (core/report.py): ``build(fiscal_year)`` → [Figure]."""
        _ordered(self._report_figures, order, build)

    def add_report_part(self, order: int, build: Callable[[int], list]) -> None:
        """Tables of the annual report (core/report.py): ``build(fiscal_year)`` → [Table]."""
        _ordered(self._report_parts, order, build)

    def add_decisions(self, order: int, build: Callable[[int], list]) -> None:
        """What the committee is asked to decide (core/report.py): ``build(fiscal_year)`` → [Decision]."""
        _ordered(self._decisions, order, build)

    def add_measure_source(self, source_type: str, *, label: Any,
                           link: Callable[[Any], tuple[str, dict] | None] | None = None,
                           may_accept: Callable[[Any, Any], bool] | None = None,
                           acceptors: frozenset = frozenset()) -> None:
        """A kind of finding that opens improvement measures (core.measures,
        issue 18): how its measures link back to it and who confirms their
        completion (see :class:`MeasureSource`).  An audit finding's are
        confirmed by an auditor only::

            house.add_measure_source("audit_finding", label=_l("内部監査の指摘"),
                                     link=lambda m: ("audits.finding", {"finding_id": m.source_id}),
                                     may_accept=lambda user, m: user.has_role(Role.AUDITOR),
                                     acceptors=frozenset({Role.AUDITOR}))
        """
        self._measure_sources[source_type] = MeasureSource(source_type, label, link, may_accept, frozenset(acceptors))

    def add_inspection_items(self, order: int, area_code: str, area_name_ja: str, area_name_en: str,
                             items: Iterable[Any]) -> None:
        """Built-in self-inspection items (core.inspection_items.Item) of one
        area, in the order given; areas are listed by ``order``.  A code is
        added once (a second registration of it is a programming error); an
        area added twice keeps its first name and gathers both lists.  The
        body's own items and retirements are data (core.inspection_items)."""
        items = tuple(items)
        known = {item.code for area in _items(self._inspection_areas) for item in area.items}
        for item in items:
            if item.code in known or item.area != area_code:
                raise ValueError(f"inspection item {item.code}: added twice, or not of area {area_code}")
            known.add(item.code)
        _ordered(self._inspection_areas, order, InspectionArea(order, area_code, area_name_ja, area_name_en, items))

    def add_incident_subject(self, kind: IncidentSubject) -> None:
        """A register whose records an incident may concern (core.incidents)."""
        _ordered(self._incident_subjects, kind.order, kind)

    def add_auditable(self, kind: Auditable) -> None:
        """A register whose records an audit plan may name (assurance.audits):
        its records, who is responsible for each, and where each is shown."""
        _ordered(self._auditables, kind.order, kind)

    def add_audit_record(self, record: AuditRecord) -> None:
        """How the audit trail shows a table's rows (core.audit_display): a
        second description of a table adds to the first (labels, values…)."""
        first = self._audit_records.get(record.table)
        if first is not None:
            record = AuditRecord(
                record.table, {**first.labels, **record.labels}, first.forms + record.forms,
                record.name or first.name, record.endpoint or first.endpoint,
                record.param if record.endpoint else first.param, record.parent or first.parent,
                {**first.values, **record.values}, first.hidden | record.hidden, record.summary or first.summary)
        self._audit_records[record.table] = record

    # --- reading -----------------------------------------------------------------------
    def audit_record(self, table: str | None) -> AuditRecord | None:
        return self._audit_records.get(table)

    def measure_source(self, source_type: str) -> MeasureSource | None:
        """How measures of ``source_type`` are described and confirmed; None: not registered."""
        return self._measure_sources.get(source_type)

    @property
    def measure_sources(self) -> list[MeasureSource]:
        return list(self._measure_sources.values())

    @property
    def auditables(self) -> list[Auditable]:
        return _items(self._auditables)

    @property
    def incident_subjects(self) -> list[IncidentSubject]:
        return _items(self._incident_subjects)

    def incident_subject(self, kind: str) -> IncidentSubject | None:
        return next((item for item in self.incident_subjects if item.kind == kind), None)

    def auditable(self, kind: str) -> Auditable | None:
        return next((item for item in self.auditables if item.kind == kind), None)

    @property
    def report_figures(self) -> list[Callable]:
        return _items(self._report_figures)

    @property
    def report_parts(self) -> list[Callable]:
        return _items(self._report_parts)

    @property
    def decisions(self) -> list[Callable]:
        return _items(self._decisions)

    @property
    def inspection_areas(self) -> list[InspectionArea]:
        """The areas in order, each with every built-in item added to it."""
        merged: dict[str, InspectionArea] = {}
        for area in _items(self._inspection_areas):
            first = merged.get(area.code)
            merged[area.code] = area if first is None else InspectionArea(
                first.order, first.code, first.name_ja, first.name_en, first.items + area.items)
        return list(merged.values())

    @property
    def responsibilities(self) -> list[Responsibility]:
        return _items(self._responsibilities)

    def request_kind(self, kind: str):
        """(describe, roles) of a request kind, or None when no domain added it."""
        return self._request_kinds.get(kind)

    @property
    def inbox(self) -> list[Callable]:
        return _items(self._inbox)

    def due_label(self, kind: str):
        """A due item's kind as people read it (the kind itself when no domain named it)."""
        return self._due_labels.get(kind, kind)

    @property
    def panels(self) -> list[Callable]:
        return _items(self._panels)

    @property
    def due(self) -> list[DueSource]:
        return _items(self._due)

    @property
    def facts(self) -> list[Callable]:
        return _items(self._facts)

    @property
    def pack_parts(self) -> list[Callable]:
        return _items(self._pack_parts)

    @property
    def seeders(self) -> list[Callable]:
        return _items(self._seeders)

    @property
    def generators(self) -> list[Callable]:
        return _items(self._generators)

    @property
    def documents(self) -> list[Document]:
        return _items(self._documents)

    def registers(self) -> list:
        return [register for build in _items(self._registers) for register in build()]

    def sections(self, page: str) -> list[Callable]:
        return _items(self._sections.get(page, []))

    def referenced(self, model: str, record) -> bool:
        return any(check(record) for check in self._references.get(model, []))


def init_app(app: Flask) -> Registry:
    app.jinja_env.globals["slot"] = slot
    return app.extensions.setdefault(KEY, Registry())


def registry(app: Flask | None = None) -> Registry:
    """The registry of ``app`` (default: the current app)."""
    return (app or current_app).extensions[KEY]


def block(template: str, **context) -> TemplateModule:
    """A block for a slot: ``template`` rendered with ``context`` (and what Flask
    adds to every template's), as HTML a page inserts as it is — the template
    escaped every value, as any page's does."""
    app = current_app._get_current_object()
    app.update_template_context(context)
    return app.jinja_env.get_template(template).make_module(context)  # rendered; its __html__ is the HTML


def slot(page: str, **context) -> Markup:
    """The HTML of every block added to ``page``, in order (a template global)."""
    return Markup("").join(build(**context) for build in registry().sections(page))
