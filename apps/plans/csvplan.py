"""Plans from a CSV file: one row per change (email, instance, workspace, action, role, status, group, key, value).

The upload is read as a stream (the csv module over a text wrapper of the uploaded file), bounded in bytes and rows,
and validated row by row against what the console knows without writing anything: the connection (by slug), the
person on that instance (the directory index), the workspace, the action's capability there, the group (read once
per instance and workspace), and the policy for this operator. Valid rows become the operations of a draft plan;
refused rows are kept on the plan (``source_report``) for the error report. Nothing is sent until the operator
confirms the normal review.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from apps.accounts.scope import operator_scope
from apps.connections.clients import connection_capabilities, get_provider
from apps.connections.models import Connection
from apps.directory.models import DirectoryUser
from apps.plans.actions import get_action
from apps.plans.models import Plan
from apps.plans.services import BUILDER_ACTIONS, OpReview, OpSpec, PlanError, account_specs, plan_create
from apps.providers.errors import ProviderError

COLUMNS = ("email", "instance", "workspace", "action", "role", "status", "group", "key", "value")
REQUIRED = ("email", "instance", "action")
MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5_000
CHUNK = 500  # rows validated together: one index query per chunk, memory bounded by it
STATUSES = ("active", "archived", "disabled")
TEMPLATE_ROWS = (
    ("jose.alvarez@example.com", "tooljet-prod", "", "role", "builder", "", "", "", ""),
    ("jose.alvarez@example.com", "tooljet-prod", "Sales", "group_add", "", "", "Support", "", ""),
    ("jose.alvarez@example.com", "tooljet-prod", "Sales", "metadata", "", "", "", "department", "Sales"),
    ("jose.alvarez@example.com", "retool-prod", "", "status", "", "disabled", "", "", ""),
    ("jose.alvarez@example.com", "retool-prod", "", "group_remove", "", "", "Support", "", ""),
    ("jose.alvarez@example.com", "retool-prod", "", "offboard", "", "", "", "", ""),
)


def csv_template() -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows(TEMPLATE_ROWS)
    return out.getvalue()


class _Lookups:
    """Names read live once per instance (and workspace): groups, and Retool's declared user attributes. A failed
    read is remembered as its message."""

    def __init__(self) -> None:
        self._names: dict[tuple[str, int, str], set[str] | str] = {}

    def _read(self, key: tuple[str, int, str], connection: Connection, read) -> set[str] | str:
        if key not in self._names:
            try:
                with get_provider(connection) as provider:
                    self._names[key] = {name.lower() for name in read(provider)}
            except ProviderError as exc:
                self._names[key] = f"Could not read {key[0]} on {connection.name}: {exc.message}"
        return self._names[key]

    def groups(self, connection: Connection, workspace_id: str) -> set[str] | str:
        return self._read(
            ("the groups", connection.pk, workspace_id),
            connection,
            lambda p: [g.name for g in p.iter_groups(workspace_id or None)],
        )

    def attributes(self, connection: Connection) -> set[str] | str:
        return self._read(
            ("the user attributes", connection.pk, ""),
            connection,
            lambda p: [a.name for a in p.list_user_attributes()],
        )


def _rows(upload) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row by column name) for every non-blank row; the header is checked first."""
    text = io.TextIOWrapper(upload, encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    try:
        header = [h.strip().lower() for h in next(reader, [])]
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise PlanError(
                f"The file needs a header row with at least {', '.join(REQUIRED)} "
                f"(columns: {', '.join(COLUMNS)}). Missing: {', '.join(missing)}."
            )
        unknown = [h for h in header if h and h not in COLUMNS]
        if unknown:
            raise PlanError(f"Unknown column {unknown[0]!r}; the columns are {', '.join(COLUMNS)}.")
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            yield reader.line_num, {h: v.strip() for h, v in zip(header, values, strict=False) if h}
    except UnicodeDecodeError:
        raise PlanError("The file is not UTF-8 text: save it as CSV UTF-8.") from None
    except csv.Error as exc:
        raise PlanError(f"Line {reader.line_num} is not valid CSV: {exc}.") from None
    finally:
        text.detach()


@dataclass
class _Validator:
    actor: Any
    connections: dict[str, Connection]
    lookups: _Lookups
    caps: dict[int, Any] = field(default_factory=dict)  # parsed once per connection
    people: dict[tuple[int, str], DirectoryUser] = field(
        default_factory=dict
    )  # the current chunk's index rows

    def load_people(self, rows: list[dict[str, str]]) -> None:
        """The index rows a chunk of the file names, in one query (and none per row)."""
        emails = {r.get("email", "").lower() for r in rows}
        ids = {
            c.pk
            for slug in {r.get("instance", "").lower() for r in rows}
            if (c := self.connections.get(slug))
        }
        self.people = {}
        for person in DirectoryUser.objects.filter(email__in=emails, connection_id__in=ids):
            person.connection = next(c for c in self.connections.values() if c.pk == person.connection_id)
            self.people[(person.connection_id, person.email)] = person

    def specs(self, row: dict[str, str]) -> list[OpSpec]:
        """The operations of one row, or PlanError with why it is refused."""
        email = row.get("email", "").lower()
        if "@" not in email:
            raise PlanError("No e-mail address.")
        slug = row.get("instance", "")
        connection = self.connections.get(slug.lower())
        if connection is None:
            raise PlanError(f"No connection {slug!r}." if slug else "No instance (connection slug).")
        name = row.get("action", "").lower()
        if name not in BUILDER_ACTIONS:
            raise PlanError(f"Unknown action {name!r}; use one of {', '.join(BUILDER_ACTIONS)}.")
        fields = {f: row.get(f, "") for f in ("role", "status", "group", "key", "value", "workspace")}
        needs = {
            "role": "role",
            "status": "status",
            "group_add": "group",
            "group_remove": "group",
            "metadata": "key",
        }
        if name in needs and not fields[needs[name]]:
            raise PlanError(f"Action {name} needs a {needs[name]}.")
        if name == "status" and fields["status"] not in STATUSES:
            raise PlanError(f"Status must be one of {', '.join(STATUSES)}.")
        caps = self.caps.get(connection.pk) or self.caps.setdefault(
            connection.pk, connection_capabilities(connection)
        )
        if name == "metadata" and not caps.supports_metadata and caps.supports_user_attributes:
            action = get_action("user.attribute")  # Retool: user attributes instead of workspace metadata
        else:
            action = get_action(BUILDER_ACTIONS[name])
        missing = action.missing_capability(caps)
        if missing:
            raise PlanError(f"Not possible on {connection.name}: {missing}")
        if name == "role" and caps.roles and fields["role"] not in caps.roles:
            raise PlanError(
                f"{connection.name} has no role {fields['role']!r} (roles: {', '.join(caps.roles)})."
            )
        person = self.people.get((connection.pk, email))
        if person is None:
            raise PlanError(f"{email} is not on {connection.name} (as last indexed).")
        if fields["workspace"] and not person.memberships:
            raise PlanError(f"{connection.name} has no workspaces; leave the workspace empty.")
        specs = account_specs(person, name, **fields)
        if name in ("group_add", "group_remove"):
            self._check_group(connection, person, specs, fields["group"])
        if action.name == "user.attribute":
            names = self.lookups.attributes(connection)
            if isinstance(names, str):
                raise PlanError(names)
            if fields["key"].lower() not in names:
                raise PlanError(
                    f"{connection.name} has no user attribute {fields['key']!r}; declare it there first."
                )
        for spec in specs:
            snapshot = {"protected": person.is_admin, "group": {"name": fields["group"]}}
            decision = self._decide(spec, snapshot)
            if decision:
                raise PlanError(f"Not allowed: {decision}")
        return specs

    def _check_group(self, connection, person, specs: list[OpSpec], group: str) -> None:
        if any(group in m.get("groups", ()) for m in person.memberships) or any(
            g.get("name") == group for g in person.groups
        ):
            return
        for spec in specs:
            names = self.lookups.groups(connection, spec.params.get("workspace_id", ""))
            if isinstance(names, str):
                raise PlanError(names)
            if group.lower() in names:
                return
        raise PlanError(f"No group named {group!r} on {connection.name}.")

    def _decide(self, spec: OpSpec, snapshot: dict[str, Any]) -> str:
        from apps.accounts.policy import decide

        action = get_action(spec.action)
        target = action.policy_target(spec.connection, snapshot, spec.params)
        decision = decide(operator=self.actor, action=action.policy_action, target=target)
        return "" if decision.allowed else decision.reason


def plan_build_csv(*, actor, upload, filename: str, size: int, ticket: str = "") -> Plan:
    """A draft plan from an uploaded CSV (see the module docstring). Refuses the whole file only when it cannot be
    read (size, header, encoding, more than MAX_ROWS rows); otherwise every refused row is reported."""
    if size > MAX_BYTES:
        raise PlanError(f"The file is {size:,} bytes; the limit is {MAX_BYTES:,}. Split it.")
    validator = _Validator(
        actor=actor,
        # an instance outside the operator's scope is as unknown as one that does not exist
        connections={c.slug.lower(): c for c in Connection.objects.filter(operator_scope(actor).q())},
        lookups=_Lookups(),
    )
    specs: list[OpSpec] = []
    errors: list[list[Any]] = []
    count = 0
    chunk: list[tuple[int, dict[str, str]]] = []

    def validate(chunk: list[tuple[int, dict[str, str]]]) -> None:
        validator.load_people([row for _, row in chunk])
        for line, row in chunk:
            try:
                row_specs = validator.specs(row)
            except PlanError as exc:
                errors.append(
                    [line, row.get("email", ""), row.get("instance", ""), row.get("action", ""), exc.message]
                )
                continue
            for spec in row_specs:
                spec.line = line
            specs.extend(row_specs)

    for line, row in _rows(upload):
        count += 1
        if count > MAX_ROWS:
            raise PlanError(f"The file has more than {MAX_ROWS:,} rows. Split it.")
        chunk.append((line, row))
        if len(chunk) == CHUNK:
            validate(chunk)
            chunk = []
    validate(chunk)
    if not count:
        raise PlanError("The file has no rows under its header.")
    return plan_create(
        actor=actor,
        title=f"CSV {filename}"[:200],
        source=Plan.Source.CSV,
        specs=specs,
        ticket=ticket,
        source_report={"file": filename[:200], "rows": count, "errors": errors},
    )


@dataclass
class CsvSummary:
    file: str
    rows: int
    change: int  # rows with at least one operation that will apply
    already: int  # rows whose every operation is already so
    errored: int  # refused when read, refused at review (policy, unreadable, not possible), or invalid


def _row_error(r: OpReview) -> str:
    if r.denied:
        return f"Not allowed: {r.denied}"
    if r.skip and not r.already:
        return r.skip
    return ""


def plan_csv_summary(*, plan: Plan, rows: list[OpReview]) -> CsvSummary:
    report = plan.source_report or {}
    by_line: dict[int, list[OpReview]] = {}
    for r in rows:
        by_line.setdefault(r.op.source_line or 0, []).append(r)
    change = already = errored = 0
    for reviews in by_line.values():
        if any(r.will_apply for r in reviews):
            change += 1
        elif all(r.already for r in reviews):
            already += 1
        else:
            errored += 1
    return CsvSummary(
        file=report.get("file", ""),
        rows=report.get("rows", 0),
        change=change,
        already=already,
        errored=errored + len(report.get("errors", ())),
    )


def plan_csv_errors(*, plan: Plan, rows: list[OpReview]) -> Iterator[list[Any]]:
    """The error report: every refused row, then every operation the review refuses or cannot do (in line
    order), as CSV rows with a header."""
    yield ["line", "email", "instance", "action", "error"]
    found = [list(e) for e in (plan.source_report or {}).get("errors", ())]
    for r in rows:
        message = _row_error(r) if r.op.state == "pending" or plan.state == Plan.State.DRAFT else ""
        if message and r.op.connection is not None:
            found.append(
                [r.op.source_line or "", r.op.target_email, r.op.connection.slug, r.op.action, message]
            )
    yield from sorted(found, key=lambda e: (int(e[0] or 0), str(e[4])))
