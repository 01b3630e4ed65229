"""Store and service commands: import, retag, worker, serve, keys."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from themer.cli.common import context, handle_errors, note, out
from themer.cli.options import (
    EngineOpt,
    RayActorsOpt,
    RayAddressOpt,
    TaxonomyOpt,
    reads_responses,
)

__all__ = ["register", "retag"]


@handle_errors
@reads_responses
def import_(inputs: Any,
            source: Annotated[str, typer.Option("--source", help="Where the export is from.")
                              ] = "import",
            wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Tag here with a "
                                               "progress bar, or leave the job queued.")
                            ] = True,
            dry_run: Annotated[bool, typer.Option(
                "--dry-run", help="Show the export profile, the columns found and the first "
                "problems; write nothing.")] = False) -> None:
    """Store a survey export in THEMER_DATABASE_URL (idempotent) and tag the new responses.

    Qualtrics, SurveyMonkey, Typeform, Delighted and Medallia-style exports are recognised and
    mapped (extra header rows dropped); anything else by column names or --mapping."""
    from themer.usecases.store_ops import ImportRequest, import_export

    done = import_export(context(), ImportRequest(inputs, source=source, wait=wait,
                                                  dry_run=dry_run))
    if dry_run:
        out.print(f"dry run: {done['input']} read as profile '{done['profile']}'; "
                  f"{done['kept']} of {done['rows']} rows would be stored, {done['problems']} "
                  "problem(s); nothing was written.", highlight=False)
    elif wait:
        out.print(f"imported {done['created']} responses, {done['tag_rows']} tag rows",
                  highlight=False)


@handle_errors
def retag(taxonomy: TaxonomyOpt = None,
          wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Run it here, with a "
                                             "progress bar (default), or leave it queued.")
                          ] = True,
          engine: EngineOpt = "local", ray_address: RayAddressOpt = None,
          ray_actors: RayActorsOpt = 2,
          ray_range: Annotated[int, typer.Option(
              "--ray-range", min=1, max=1_000_000, help="Responses per Ray task (--engine ray)."
          )] = 5_000) -> None:
    """Queue a re-tag of the stored history against a taxonomy (from cached embeddings)."""
    from themer.usecases.store_ops import RetagRequest
    from themer.usecases.store_ops import retag as run

    done = run(context(), RetagRequest(taxonomy=taxonomy, wait=wait, engine=engine,
                                       ray_address=ray_address, ray_actors=ray_actors,
                                       ray_range=ray_range))
    if wait:
        out.print(f"re-tagged {done['done']} responses: {done['added']} tags added, "
                  f"{done['removed']} removed; taxonomy v{done['version']} is active",
                  highlight=False)


@handle_errors
def serve(host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
          port: Annotated[int, typer.Option("--port")] = 8000,
          workers: Annotated[int, typer.Option("--workers")] = 1) -> None:
    """Start the HTTP API (uvicorn); settings from THEMER_* (store: THEMER_DATABASE_URL)."""
    import uvicorn

    # By import string: themer does not import the web layer.
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, workers=workers)


@handle_errors
def worker(once: Annotated[bool, typer.Option("--once", help="Exit when no job waits.")] = False,
           stale_after: Annotated[float, typer.Option(
               "--stale-after", help="Seconds without a heartbeat before a running job is "
               "taken over.")] = 30.0) -> None:
    """Run background jobs from the store (re-tags); resumes jobs whose worker died."""
    from themer.runtime.encoders import store_tagger_for
    from themer.store.jobs import run_worker

    ctx = context()
    ran = run_worker(ctx.open_store(), store_tagger_for(ctx.settings), once=once,
                     chunk_size=ctx.settings.job_chunk, stale_after=stale_after)
    note(f"ran {ran} job(s)")


keys_app = typer.Typer(help="API keys: only a hash is stored; the key is printed once.")


@keys_app.command("create")
@handle_errors
def keys_create(scope: Annotated[str, typer.Option("--scope", help="read, write or admin")],
                name: Annotated[str | None, typer.Option("--name")] = None) -> None:
    """Create an API key in the store and print it (it cannot be shown again)."""
    from themer.usecases.store_ops import create_key

    out.print(create_key(context(), scope, name), highlight=False)
    note(f"{scope} key created; store it now, only its hash is kept.")


def register(app: typer.Typer) -> None:
    app.command("import")(import_)
    app.command()(retag)
    app.command()(serve)
    app.command()(worker)
    app.add_typer(keys_app, name="keys")
