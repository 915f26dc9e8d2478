"""``painpoints ask``: a question about the feedback answered by the configured LLM with cited,
checked feedback ids (painpoints/ask.py)."""

from __future__ import annotations

import json

import click

from painpoints.cli_theme import DB_HELP


@click.command()
@click.argument("question")
@click.option("--db", help=DB_HELP)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--max-tool-calls", default=8, show_default=True, type=click.IntRange(0, 50), help="Tool calls allowed")
@click.option(
    "--max-tokens", default=30_000, show_default=True, type=click.IntRange(1), help="Tokens allowed, all requests"
)
@click.option(
    "--min-support",
    default=0.45,
    show_default=True,
    type=click.FloatRange(-1, 1),
    help="Cosine a sentence needs to its cited item (docs/ask.md)",
)
def ask(question: str, db: str | None, fmt: str, max_tool_calls: int, max_tokens: int, min_support: float) -> None:
    """Ask a question about the feedback, e.g. painpoints ask "why do customers want refunds?".
    Needs an LLM with tool calling (OPENAI_API_KEY or OPENAI_BASE_URL, PAINPOINTS_LLM_MODEL); every
    sentence of the answer cites feedback ids that exist and say what it says."""
    from painpoints.ask import AskError, Budget
    from painpoints.ask import ask as answer_question
    from painpoints.cli_workspace import _workspace

    try:
        ws, budget = _workspace(db), Budget(max_tool_calls, max_tokens)
        answer = answer_question(ws, question, budget=budget, min_support=min_support)
    except AskError as err:
        raise click.ClickException(str(err)) from err
    if fmt == "json":
        click.echo(json.dumps(answer.as_dict(), ensure_ascii=False, indent=1))
        return
    click.echo(answer.answer)
    cited = [c for c in answer.citations if c.supported]
    if cited:
        click.echo("\nSources:")
    for c in cited:
        text = (c.text or "").replace("\n", " ")
        click.echo(f"  [{c.feedback_id}] {c.external_id}: {text[:100]}{'...' if len(text) > 100 else ''}")
    notes = [f"{len(answer.tool_calls)} tool calls", f"{sum(answer.tokens.values())} tokens"]
    if answer.cached:
        notes.append("cached answer")
    if answer.dropped:
        notes.append(f"{len(answer.dropped)} unsupported sentences removed (--format json lists them)")
    if answer.budget:
        notes.append(f"{answer.budget.replace('_', '-')} budget spent")
    click.echo(f"\n({'; '.join(notes)})")
