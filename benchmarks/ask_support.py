"""The support threshold of ``painpoints ask`` (``discovery.citations.MIN_SUPPORT``), measured.

Twenty claims written by hand, each as a PM-facing answer sentence about one item of the demo DB
(``painpoints demo``). Each claim is scored against its own item (a true citation) and against the 19
other items (a real but unrelated citation), with ``discovery.citations.support`` and the run's
embedding model. Prints, per threshold, the share of true citations kept and of unrelated ones
accepted. ``python -m benchmarks.ask_support [--db painpoints-demo.duckdb]``
"""

from __future__ import annotations

import argparse

import numpy as np

from painpoints.discovery import store
from painpoints.discovery.citations import support
from painpoints.discovery.embed import Embedder

CLAIMS = {  # demo-DB feedback_id → a sentence an answer could cite it for
    "0067de276d54d3b4fc0b": "Users like that they can listen to any podcast, not only curated content.",
    "011c4bc2979e0ada5784": "A customer asked to confirm a $100 refund was applied and wants to return another item.",
    "00863254b8ae4ba20dff": "Some users miss key features such as turning off the embedded browser.",
    "0413387728cf5d644588": "One reviewer calls it the best Reddit client for Android.",
    "02161cd0a0bfa1ca4b17": "The latest version crashes for some users.",
    "02a69d88dca32247044a": "A borrower wants Lending Club to agree on a fair settlement.",
    "02c2d96040cd1c7753da": "Users find the app simple and effective.",
    "00038e82d4bfa22d034e": "Consumers ask to remove and block information from their credit report under the FCRA.",
    "02126e9265c3e5a600cf": "A Barclays account is still reported negatively although the balance was paid.",
    "01d3fdb84e732ffd6fbf": "Daily users praise the UI and the absence of ads.",
    "0d55ff6d7611cd5c86a7": "A customer is still waiting for funds to be returned to their account by the bank.",
    "04176bf6e0bd90a23f41": "Customers who forgot their username cannot log in to their account.",
    "1a077526835d41502421": "Chase is unwilling to help customers fix account issues.",
    "1530b729b30c8370ccee": "Equifax claims disputed accounts are accurate despite requests for validation.",
    "0615daafb1e14572382b": "A customer is still waiting for an escrow refund and a payment adjustment.",
    "051e1fd61d713c2c10e2": "Users ask for a way to view sidebars and for better colours for flair.",
    "1697384e53fb774d277a": "Student loans that do not belong to the consumer appear on their credit report.",
    "0be12e8811ce5a6ce01b": "Users want an indication of the link type before clicking, and better search.",
    "0294afd158d2fe755344": "Slide crashes a lot and cannot open links to posts.",
    "07012b0a71da231a8093": "AntennaPod is praised as the best open-source podcatcher.",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="painpoints-demo.duckdb")
    args = parser.parse_args()
    with store.connect(args.db, read_only=True) as con:
        sql = "select text from segments where feedback_id = ? order by segment"
        texts = {i: [t for (t,) in con.execute(sql, [i]).fetchall()] for i in CLAIMS}
    ids = list(CLAIMS)
    scores = support(Embedder(progress=False).fit(), [(CLAIMS[a], b) for a in ids for b in ids], texts)
    grid = np.array([[scores[(CLAIMS[a], b)][0] for b in ids] for a in ids])
    true, other = np.diag(grid), grid[~np.eye(len(ids), dtype=bool)]
    print(f"true citations: min {true.min():.3f}, median {np.median(true):.3f} (n={len(true)})")
    print(f"unrelated items: median {np.median(other):.3f}, p95 {np.percentile(other, 95):.3f}, max {other.max():.3f}")
    print("threshold  true kept  unrelated accepted")
    for t in (0.30, 0.35, 0.40, 0.45, 0.50):
        print(f"{t:9.2f}  {(true >= t).mean():9.0%}  {(other >= t).mean():18.1%}")


if __name__ == "__main__":
    main()
