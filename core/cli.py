"""Commands: ``flask --app app demo | create-admin | audit-verify | check |
cleanup-files | backup | remind | jobs run`` (``db upgrade`` comes from
Flask-Migrate)."""
from __future__ import annotations

import datetime as dt
import sys
import time

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from core import accounts, audit, demo, files, gendata, jobs, plugins, reminders
from core.backup import BackupError, backup
from core.db import db
from core.forms import check_password_policy
from core.models import OrgUnit, Role


def register(app: Flask) -> None:
    app.cli.add_command(demo_command)
    app.cli.add_command(create_admin)
    app.cli.add_command(audit_verify)
    app.cli.add_command(backup_command)
    app.cli.add_command(remind)
    app.cli.add_command(gen_data)
    app.cli.add_command(jobs_group)
    app.cli.add_command(check)
    app.cli.add_command(cleanup_files)


@click.command("demo")
@with_appcontext
def demo_command():
    """Load the demo data (once: running it again changes nothing)."""
    audit.set_actor(audit.Actor(None, "demo"))
    added = demo.load(current_app.config["DEMO_PASSWORD"])
    db.session.commit()
    if any(added.values()):
        click.echo("Demo data loaded: " + ", ".join(f"{k} +{v}" for k, v in added.items() if v))
    else:
        click.echo("Demo data already loaded: nothing changed.")
    click.echo(f"Demo logins (password for each: {current_app.config['DEMO_PASSWORD']}):")
    for username, display_name, _unit, roles in demo.USERS:
        click.echo(f"  {username:<12} {', '.join(r.value for r in roles):<12} {display_name}")


@click.command("gen-data")
@click.option("--vendors", default=10000, show_default=True)
@click.option("--contracts", default=50000, show_default=True)
@click.option("--verifications", default=200000, show_default=True)
@click.option("--seed", default=7, show_default=True)
@click.option("--only", default="", metavar="DOMAINS",
              help="Run only these domains' generators, comma-separated (vendors, contracts, cloud, social, "
                   "incidents, assurance), e.g. to add the incidents and the yearly loop to a data set "
                   "generated before them; sizes still follow --contracts.")
@with_appcontext
def gen_data(vendors: int, contracts: int, verifications: int, seed: int, only: str):
    """Add a large generated data set (for benchmarks; loads the demo data
    first if needed).  Never on a real database: it adds thousands of
    fictitious vendors and contracts."""
    started = time.perf_counter()
    audit.set_actor(audit.Actor(None, "gen-data"))
    demo.load(current_app.config["DEMO_PASSWORD"])
    db.session.commit()
    domains = {name.strip() for name in only.split(",") if name.strip()} or None
    known = {gendata.domain_of(build) for build in plugins.registry().generators}
    if domains and domains - known:
        raise click.BadParameter(f"unknown: {', '.join(sorted(domains - known))} (known: {', '.join(sorted(known))})",
                                 param_hint="--only")
    click.echo(f"Generating {vendors:,} vendors, {contracts:,} contracts, {verifications:,} verifications"
               + (f" (only {', '.join(sorted(domains))})…" if domains else "…"))
    gendata.generate(vendors, contracts, verifications, seed=seed, report=click.echo, only=domains)
    click.echo(f"gen-data: {time.perf_counter() - started:.1f} s in all")


@click.command("create-admin")
@with_appcontext
@click.argument("username")
@click.option("--name", "display_name", help="Display name (default: the user name).")
@click.option("--unit", "unit_name", help="Name of an existing organisational unit.")
@click.password_option("--password", prompt="Password", confirmation_prompt="Repeat for confirmation")
def create_admin(username: str, display_name: str | None, unit_name: str | None, password: str):
    """Create an administrator (asks for the password twice)."""
    audit.set_actor(audit.Actor(None, "cli"))
    if accounts.find_user(username) is not None:
        raise click.ClickException(f"user {username!r} already exists")
    error = check_password_policy(password, username, current_app.config["PASSWORD_MIN_LENGTH"])
    if error:
        raise click.ClickException(error)
    unit = None
    if unit_name:
        unit = db.session.scalar(select(OrgUnit).where(OrgUnit.name == unit_name))
        if unit is None:
            raise click.ClickException(f"no organisational unit named {unit_name!r}")
    accounts.create_user(username=username, display_name=display_name or username, password=password,
                         roles=[Role.ADMIN], unit=unit)
    db.session.commit()
    click.echo(f"Administrator {username} created.")


@click.command("audit-verify")
@with_appcontext
def audit_verify():
    """Check the whole audit chain; exit 1 at the first broken entry."""
    report = audit.verify_chain(db.session.connection())
    if report.ok:
        click.echo(f"OK: {report.checked} entries, head {report.head_hash}")
        return
    click.echo(f"BROKEN at entry #{report.broken_seq}: {report.reason} "
               f"({report.checked} entries before it are intact)", err=True)
    sys.exit(1)


@click.command("backup")
@with_appcontext
@click.argument("directory", required=False, type=click.Path(file_okay=False))
def backup_command(directory: str | None):
    """Copy the SQLite database and stored files to DIRECTORY (default
    instance/backups) with a timestamp, then verify the copy."""
    try:
        result = backup(directory)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Backup written to {result.path}")
    click.echo(f"  database: integrity ok, audit chain ok ({result.audit_entries} entries, head {result.head_hash})")
    click.echo(f"  files: {result.files} copied")


@click.command("remind")
@with_appcontext
def remind():
    """Email each responsible person a digest of what is due (for cron)."""
    audit.set_actor(audit.Actor(None, "remind"))
    outcome = reminders.run()
    click.echo(f"Reminders: {outcome.sent} email(s), {outcome.items} item(s).")
    if outcome.failed:
        for failure in outcome.failed:
            click.echo(f"  not sent (will retry next run): {failure}", err=True)
        sys.exit(1)


@click.group("jobs")
def jobs_group():
    """Jobs that run off the request path (large spreadsheet imports)."""


@jobs_group.command("run")
@with_appcontext
def jobs_run():
    """Run every job that waits (or whose process died), then exit (for
    cron or a systemd timer; the app also runs them itself)."""
    ran = jobs.run_claimable(current_app._get_current_object())
    click.echo(f"Jobs: {ran} run.")


@click.command("check")
@with_appcontext
@click.option("--older-than", default=24.0, show_default=True, help="Hours after which a leftover counts.")
def check(older_than: float):
    """Check the audit chain and the stored files: report files nothing
    refers to (remove them with cleanup-files); exit 1 if the chain is
    broken or a stored file is missing."""
    report = audit.verify_chain(db.session.connection())
    if report.ok:
        click.echo(f"audit chain OK: {report.checked} entries")
    else:
        click.echo(f"audit chain BROKEN at entry #{report.broken_seq}: {report.reason}", err=True)
    found = files.leftovers(dt.timedelta(hours=older_than))
    click.echo(f"{len(found.files)} leftover file(s) older than {older_than:g} h"
               + (" (remove them with: flask cleanup-files)" if found.files else ""))
    for path in found.files:
        click.echo(f"  {path}")
    if found.missing:
        click.echo(f"{len(found.missing)} stored file(s) missing:", err=True)
        for key in found.missing:
            click.echo(f"  {key}", err=True)
    if not report.ok or found.missing:
        sys.exit(1)


@click.command("cleanup-files")
@with_appcontext
@click.option("--older-than", default=24.0, show_default=True,
              help="Only files older than this many hours (an upload in use is never that old).")
@click.option("--dry-run", is_flag=True, help="List what would be removed, remove nothing.")
def cleanup_files(older_than: float, dry_run: bool):
    """Remove uploads of imports never confirmed and stored files no record
    refers to (written before a transaction that failed)."""
    age = dt.timedelta(hours=older_than)
    if dry_run:
        found = files.leftovers(age).files
        for path in found:
            click.echo(f"  {path}")
        click.echo(f"cleanup-files: would remove {len(found)} file(s) older than {older_than:g} h")
        return
    removed = files.remove_leftovers(age)
    db.session.commit()
    for path in removed:
        click.echo(f"  {path}")
    click.echo(f"cleanup-files: removed {len(removed)} file(s) older than {older_than:g} h")
