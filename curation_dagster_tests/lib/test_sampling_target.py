"""Sampling to a target: water-filling across cells, the mix, the per-prompt cap, quality, growth."""

from datetime import date

import numpy as np
import pandas as pd
import pytest

from curation_dagster.lib.export import churn, explain_churn
from curation_dagster.lib.progress import projected_progress
from curation_dagster.lib.sampling import (GENERAL, SPECIFIC, SampleSettings, achieved_mix, category_targets,
                                           daily_growth, sample, sample_to_target, water_fill)


#: the figures of the growth and keep-shipped tests were worked out by hand for these settings: one
#: water-filling over every cell, at most half the pool (the defaults before topics came first)
HALF_BY_CELLS = {"balance": "cells", "max_pool_share": 0.5}


def pool(cell_sizes, template="general", prefix="r", quality=0.5, day="2026-11-01"):
    rows = []
    for c, n in enumerate(cell_sizes):
        rows += [{"generation_id": f"{prefix}{c}-{i}", "cluster_id": c // 2, "cell_id": c, "template_id": template,
                  "instruction": f"question {prefix} {c} {i}", "input_message": None, "quality_score": quality,
                  "created_at": pd.Timestamp(day)} for i in range(n)]
    return pd.DataFrame(rows)


def test_water_fill_gives_small_cells_everything_and_levels_the_big_ones():
    alloc, q = water_fill({"a": 2, "b": 5, "c": 100, "d": 100}, 30, lambda c, i: 0.0)
    # 2 + 5 leave 23 for two big cells: level 11, one of them gives the 12th
    assert q == 11 and alloc["a"] == 2 and alloc["b"] == 5 and sorted([alloc["c"], alloc["d"]]) == [11, 12]
    assert sum(alloc.values()) == 30
    alloc, q = water_fill({"a": 3, "b": 4}, 50, lambda c, i: 0.0)  # more than the pool: everything
    assert alloc == {"a": 3, "b": 4}
    # the remainder goes to the cell whose next row has the better (smaller) key
    alloc, _ = water_fill({"a": 10, "b": 10}, 5, lambda c, i: {"a": 0.9, "b": 0.1}[c])
    assert alloc == {"a": 2, "b": 3}


def test_size_is_the_target_or_the_pool_share_and_cells_are_balanced():
    df = pool([400, 40, 10, 10])  # 460 rows, one dominant cell
    out, info = sample_to_target(df, SampleSettings(target_examples=100, general_share=1.0, balance="topics",
                                                    max_pool_share=0.5))
    assert len(out) == 100 and info.limit == ""
    per_cell = out.groupby("cell_id").size().to_dict()
    # topics (cells 0-1: 440 rows, 2-3: 20) at level 80 give 80 and 20; inside the first, q = 40:
    # the big cell gives no more than the next one
    assert per_cell == {0: 40, 1: 40, 2: 10, 3: 10}
    # a target above 0.2 of the pool (the default share): the sample stops at max_pool_share and says why
    out, info = sample_to_target(df, SampleSettings(target_examples=10_000, general_share=1.0))
    assert len(out) == 92 and "max_pool_share" in info.limit  # 0.2 x 460
    assert out["generation_id"].is_unique


def test_category_mix_is_held_across_cells():
    df = pd.concat([pool([150, 150], "general", "g"), pool([30, 10], "follow_up", "s")])  # 340 rows
    out, _ = sample_to_target(df, SampleSettings(max_pool_share=0.5, target_examples=60, general_share=0.5))
    assert len(out) == 60 and achieved_mix(out)[GENERAL] == 0.5
    # only 40 template-specific rows: trim keeps the share, fill keeps the size
    trim, _ = sample_to_target(df, SampleSettings(max_pool_share=0.5, target_examples=100, general_share=0.5))
    assert achieved_mix(trim)[GENERAL] == 0.5 and len(trim) == 80
    fill, _ = sample_to_target(df, SampleSettings(max_pool_share=0.5, target_examples=100, general_share=0.5, mix_strategy="fill"))
    assert len(fill) == 100 and (fill["category"] == SPECIFIC).sum() == 40  # general fills the shortfall
    assert category_targets(100, 120, 40, 0.5, "fill") == (60, 40)
    assert category_targets(100, 120, 40, 0.5, "trim") == (40, 40)
    assert category_targets(100, 120, 0, 0.5, "trim") == (100, 0)  # no specific rows at all: no mix to hold


def test_a_prompt_asked_many_times_counts_once():
    df = pool([50, 50])
    df.loc[df["cell_id"] == 0, "instruction"] = "What is the capital of France?"
    df.loc[(df["cell_id"] == 0) & (df.index % 2 == 0), "instruction"] = "what is the capital of france"
    out, info = sample_to_target(df, SampleSettings(**HALF_BY_CELLS, target_examples=40, general_share=1.0))
    assert (out["cell_id"] == 0).sum() == 1  # case and punctuation fold into one prompt
    assert info.prompt_repeats_skipped == 49 and len(out) == 40  # cell 1 fills the rest
    out, _ = sample_to_target(df, SampleSettings(**HALF_BY_CELLS, target_examples=40, general_share=1.0,
                                                 max_per_prompt=0))
    assert (out["cell_id"] == 0).sum() == 20


def test_quality_weighs_the_picks_inside_a_cell():
    df = pd.concat([pool([200], prefix="lo", quality=0.1), pool([200], prefix="hi", quality=0.9)])
    out, _ = sample_to_target(df, SampleSettings(target_examples=50, general_share=1.0))
    hi = out["generation_id"].str.startswith("hi").sum()
    assert hi >= 40  # weight 9x: about 45 of 50 expected
    # weight 0 with the random order: uniform inside the cell (the diverse order reads the texts instead)
    flat, _ = sample_to_target(df, SampleSettings(target_examples=50, general_share=1.0, quality_weight=0,
                                                  within_cell="random"))
    assert 15 <= flat["generation_id"].str.startswith("hi").sum() <= 35


def test_deterministic_order_independent_and_seeded():
    df = pd.concat([pool([80, 30, 5], "general", "g"), pool([40, 40], "follow_up", "s")])
    s = SampleSettings(target_examples=60, seed=7)
    a, _ = sample_to_target(df, s)
    b, _ = sample_to_target(df.sample(frac=1, random_state=3), s)
    assert a["generation_id"].tolist() == b["generation_id"].tolist()
    c, _ = sample_to_target(df, SampleSettings(target_examples=60, seed=8))
    assert set(a["generation_id"]) != set(c["generation_id"])


def test_a_new_day_adds_examples_and_displaces_few():
    day1 = pool([100] * 20, day="2026-11-01")
    s = SampleSettings(**HALF_BY_CELLS, target_examples=5_000, general_share=1.0)
    first, _ = sample_to_target(day1, s)
    day2 = pd.concat([day1, pool([10] * 20, prefix="n", day="2026-11-02")])
    second, _ = sample_to_target(day2, s)
    assert (len(first), len(second)) == (1_000, 1_100)  # 2,000 then 2,200 pool rows: half of each
    dropped = set(first["generation_id"]) - set(second["generation_id"])
    assert len(dropped) / len(first) <= 0.02
    # once the target is reached, a new day only displaces the picks its rows out-rank
    full = pool([100] * 20, day="2026-11-01")
    s = SampleSettings(**HALF_BY_CELLS, target_examples=400, general_share=1.0)
    before, _ = sample_to_target(full, s)
    after, _ = sample_to_target(pd.concat([full, pool([2] * 20, prefix="n", day="2026-11-02")]), s)
    assert len(after) == 400 and len(set(before["generation_id"]) - set(after["generation_id"])) <= 0.02 * 400


def test_per_cluster_mode_is_the_seed_recipe_with_its_ceiling():
    df = pool([30, 30, 30, 30])  # clusters 0 and 1, 60 rows each
    out, info = sample(df, SampleSettings(mode="per_cluster", n_per_cluster=20, general_share=1.0))
    assert out.groupby("cluster_id").size().to_dict() == {0: 20, 1: 20}
    assert "at most 20 from each of 2 clusters" in info.limit
    with pytest.raises(ValueError, match="unknown sampling mode"):
        SampleSettings(mode="per_topic")


def test_daily_growth_is_measured_by_sampling_the_older_pool():
    days = [pool([20], prefix=f"d{d}", day=f"2026-11-{d:02d}") for d in range(1, 11)]  # 20 rows a day
    df = pd.concat(days)
    s = SampleSettings(**HALF_BY_CELLS, target_examples=10_000, general_share=1.0)
    now, _ = sample_to_target(df, s)
    rate, then = daily_growth(df, s, len(now), window_days=7)
    assert len(now) == 100 and then == 30 and rate == pytest.approx(10.0)  # half of 20 new rows a day
    per_cluster = SampleSettings(mode="per_cluster", n_per_cluster=20, general_share=1.0)
    full, _ = sample(df, per_cluster)
    assert daily_growth(df, per_cluster, len(full), 7)[0] == 0.0  # its one cluster was full a week ago


def test_daily_growth_counts_what_every_within_cell_order_would_sample():
    # two cells, 3 and 9 rows a day: quotas cut into the second, so the within-cell order matters there
    days = [pd.concat([pool([3], prefix=f"a{d}", day=f"2026-11-{d:02d}"),
                       pool([0, 9], prefix=f"b{d}", day=f"2026-11-{d:02d}")]) for d in range(1, 11)]
    df = pd.concat(days)
    older = df[pd.to_datetime(df["created_at"]) < pd.Timestamp("2026-11-04")]
    for order in ("diverse", "random"):
        s = SampleSettings(target_examples=50, general_share=1.0, within_cell=order)
        now, _ = sample_to_target(df, s)
        then, _ = sample_to_target(older, s)
        assert daily_growth(df, s, len(now), window_days=7) == (pytest.approx((len(now) - len(then)) / 7), len(then))


def test_projection_uses_the_rate_and_the_ceiling():
    p = projected_progress(1_000, 2_000, 100.0, date(2026, 11, 10))
    assert p.projected_date == date(2026, 11, 20)
    assert projected_progress(1_000, 50_000, 100.0, date(2026, 11, 10), ceiling=1_960).projected_date is None
    assert projected_progress(1_000, 2_000, 0.0, date(2026, 11, 10)).projected_date is None
    assert projected_progress(2_000, 2_000, 0.0, date(2026, 11, 10)).projected_date == date(2026, 11, 10)


def test_churn_is_split_by_cause():
    prev = {"a", "b", "c", "d", "e"}
    cur = {"a", "b", "x"}
    out = explain_churn(churn(prev, cur), prev, cur, pool_ids={"a", "b", "x", "d", "e"}, review_rejected={"d"})
    assert (out["dropped"], out["dropped_left_pool"], out["dropped_in_review"], out["dropped_by_selection"]) == (3, 1, 1, 1)
    assert out["selection_churn_rate"] == 0.2
    assert explain_churn(churn(None, cur), None, cur, set(), set())["selection_churn_rate"] == 0.0
    # c left out at export as a duplicate of x's chat record: not the selection's doing
    out = explain_churn(churn(prev, cur), prev, cur, pool_ids={"a", "b", "x", "c", "d", "e"},
                        review_rejected={"d"}, duplicate_ids={"c"})
    assert (out["dropped_as_duplicate"], out["dropped_by_selection"], out["selection_churn_rate"]) == (1, 1, 0.2)


def test_water_fill_keeps_each_cells_floor():
    # cell a already holds 8 shipped rows: it keeps them, and the other 4 picks level b and c at 2
    alloc, q = water_fill({"a": 10, "b": 10, "c": 10}, 12, lambda c, i: 0.0, floor={"a": 8})
    assert alloc == {"a": 8, "b": 2, "c": 2} and q == 2
    # a floor above what the cell has is capped at the cell
    alloc, _ = water_fill({"a": 3, "b": 10}, 6, lambda c, i: 0.0, floor={"a": 5})
    assert alloc == {"a": 3, "b": 3}


def test_water_fill_gives_the_remainder_to_cells_at_the_level_not_to_a_floor_above_it():
    # 15 picks, a holds 6 shipped: level 4 gives 6 + 4 + 4 = 14, level 5 would give 16; the one
    # left over goes to b or c (at the level), never to a even though a's next key is the smallest
    keys = {"a": 0.0, "b": 0.5, "c": 0.7}
    alloc, q = water_fill({"a": 10, "b": 5, "c": 5}, 15, lambda c, i: keys[c], floor={"a": 6})
    assert alloc == {"a": 6, "b": 5, "c": 4} and q == 4


def test_shipped_examples_stay_when_a_day_is_added_or_the_cells_are_refit():
    full = pool([100] * 20, day="2026-11-01")  # 2,000 rows in 20 cells
    s = SampleSettings(**HALF_BY_CELLS, target_examples=400, general_share=1.0)
    before, _ = sample_to_target(full, s)
    shipped = set(before["generation_id"])
    # a new day brings 300 rows in 3 new cells: without the shipped set, q falls from 20 to 17 (9 cells
    # give an 18th) and the new cells take 51 to 54 picks from the old ones; with it every shipped row
    # stays and the size holds at the target
    grown = pd.concat([full, pool([100] * 3, prefix="n", day="2026-11-02").assign(cell_id=lambda d: d["cell_id"] + 20)])
    blind, _ = sample_to_target(grown, s)
    assert 51 <= len(shipped - set(blind["generation_id"])) <= 54
    kept, info = sample_to_target(grown, s, shipped)
    assert len(kept) == 400 and shipped <= set(kept["generation_id"]) and info.shipped_in_pool == 400
    # below the target the new day's quota goes to the new rows, on top of everything shipped
    s_big = SampleSettings(**HALF_BY_CELLS, target_examples=5_000, general_share=1.0)
    first, _ = sample_to_target(full, s_big)
    second, _ = sample_to_target(grown, s_big, set(first["generation_id"]))
    assert len(second) == 1_150 and set(first["generation_id"]) <= set(second["generation_id"])
    # a refit deals the rows into new cells: shipped rows still stay
    refit = full.assign(cell_id=[int(g.split("-")[1]) % 20 for g in full["generation_id"]])
    after, _ = sample_to_target(refit, s, shipped)
    assert set(after["generation_id"]) == shipped
    # a smaller goal keeps only shipped rows, evenly: 10 from each of the 20 cells
    small, _ = sample_to_target(full, SampleSettings(**HALF_BY_CELLS, target_examples=200, general_share=1.0), shipped)
    assert set(small["generation_id"]) <= shipped and small.groupby("cell_id").size().eq(10).all()


def test_a_shrinking_pool_keeps_what_shipped():
    # 1,000 rows, target 400: 400 ship. A reviewer then excludes 4 of the 10 cells (400 rows, 160 of
    # them shipped): half of the 600 rows left is 300, but the 240 shipped rows still in the pool are
    # below that and 60 new ones join; excluding 7 cells leaves 300 rows (120 shipped): half is 150,
    # so all 120 stay and 30 join. No shipped row still in the pool is dropped.
    full = pool([100] * 10)
    s = SampleSettings(**HALF_BY_CELLS, target_examples=400, general_share=1.0)
    shipped = set(sample_to_target(full, s)[0]["generation_id"])
    assert len(shipped) == 400
    for excluded, still, added in ((4, 240, 60), (7, 120, 30)):
        left = full[full["cell_id"] >= excluded]
        out, info = sample_to_target(left, s, shipped)
        assert info.shipped_in_pool == still and shipped & set(left["generation_id"]) <= set(out["generation_id"])
        assert len(out) == still + added
    # a pool that shrinks below twice what shipped keeps every shipped row, past the share
    only = full[full["generation_id"].isin(shipped) | (full["cell_id"] == 0)]  # 400 shipped + 60 unshipped
    out, _ = sample_to_target(only, s, shipped)
    assert set(out["generation_id"]) == shipped


def test_examples_of_an_excluded_cluster_count_as_removed_in_review(tmp_path):
    import json

    from curation_dagster.lib.export import excluded_cluster_ids
    (tmp_path / "manifest.json").write_text(json.dumps({"topic_model_version": "v1"}))
    (tmp_path / "provenance.jsonl").write_text("".join(
        json.dumps({"generation_id": g, "cluster_id": c}) + "\n" for g, c in (("a", 0), ("b", 1), ("c", 1), ("d", 2))))
    decisions = pd.DataFrame({"model_version": ["v1", "v1", "v0"], "cluster_id": [1, 2, 0],
                              "state": ["rejected", "edited", "rejected"], "new_name": [None, "x", None]})
    # cluster 1 excluded for this dataset's model; cluster 0's exclusion is about an older model
    assert excluded_cluster_ids(tmp_path, decisions) == {"b", "c"}
    assert excluded_cluster_ids(tmp_path, decisions.iloc[0:0]) == set()
    assert excluded_cluster_ids(tmp_path / "none", decisions) == set()


def test_a_pool_whose_mix_moves_keeps_what_shipped():
    # general cells of 100 x 4, template-specific cells of 100, 100, 100 and 30; target 200 at 50/50:
    # 100 general ship, and 100 specific (25 from each cell). A reviewer excludes the three big
    # specific cells: 30 specific rows are left, 25 shipped. 'trim' would hold the share with 30 + 30,
    # dropping 70 shipped general rows; the shipped rows stay instead: 100 + 25, and 5 new specific
    gen = pool([100] * 4, "general", "g")
    spec = pool([100, 100, 100, 30], "follow_up", "s").assign(cell_id=lambda d: d["cell_id"] + 4)
    df = pd.concat([gen, spec])
    s = SampleSettings(**HALF_BY_CELLS, target_examples=200, general_share=0.5)
    first = sample_to_target(df, s)[0]
    shipped = set(first["generation_id"])
    assert len(shipped) == 200 and (first["cell_id"] == 7).sum() == 25
    left = df[~df["cell_id"].isin([4, 5, 6])]
    out, _ = sample_to_target(left, s, shipped)
    assert shipped & set(left["generation_id"]) <= set(out["generation_id"]) and len(out) == 130
    # without what shipped the same pool gives the trimmed mix
    blind, _ = sample_to_target(left, s)
    assert len(blind) == 60 and achieved_mix(blind)[GENERAL] == 0.5
    # a share of 1 says template-specific rows are not wanted: the shipped ones leave
    only_general, _ = sample_to_target(df, SampleSettings(**HALF_BY_CELLS, target_examples=200, general_share=1.0), shipped)
    assert (only_general["category"] == GENERAL).all() and len(only_general) == 200


def topic_pool(cells_per_topic, rows_per_cell=10):
    """Topic t has cells_per_topic[t] cells of rows_per_cell rows; cell ids numbered topic by topic."""
    rows, cell = [], 0
    for t, n_cells in enumerate(cells_per_topic):
        for _ in range(n_cells):
            rows += [{"generation_id": f"t{t}c{cell}-{i}", "cluster_id": t, "cell_id": cell, "template_id": "general",
                      "instruction": f"question {cell} {i}", "input_message": None, "quality_score": 0.5,
                      "created_at": pd.Timestamp("2026-11-01")} for i in range(rows_per_cell)]
            cell += 1
    return pd.DataFrame(rows)


def test_balance_topics_levels_the_topics_before_their_cells():
    # topic 0: four cells of 10 rows, topic 1: one cell of 10; goal 10
    df = topic_pool([4, 1])
    by_cells, _ = sample_to_target(df, SampleSettings(target_examples=10, general_share=1.0, max_pool_share=1.0,
                                                      balance="cells"))
    # five equal cells, level 2: the big topic gives 4 x 2 = 8, as a random sample would in proportion
    assert by_cells.groupby("cluster_id").size().to_dict() == {0: 8, 1: 2}
    by_topics, info = sample_to_target(df, SampleSettings(target_examples=10, general_share=1.0, max_pool_share=1.0,
                                                          balance="topics"))
    # topics first: level 5, each topic gives 5; topic 0's 5 over its four cells: level 1, one cell gives 2
    assert by_topics.groupby("cluster_id").size().to_dict() == {0: 5, 1: 5}
    assert sorted(by_topics[by_topics.cluster_id == 0].groupby("cell_id").size().tolist()) == [1, 1, 1, 2]
    assert info.quota == {GENERAL: 5, SPECIFIC: 0}
    # the bound the quota check applies: a cell's level in its topic + 1
    assert {c: info.cell_bound[(c, GENERAL)] for c in range(5)} == {0: 2, 1: 2, 2: 2, 3: 2, 4: 6}
    # weighted by the square root of their size (40 and 10 rows: 6.32 and 3.16), the topics give 7 and 3:
    # between proportional (8 and 2) and level (5 and 5)
    by_sqrt, _ = sample_to_target(df, SampleSettings(target_examples=10, general_share=1.0, max_pool_share=1.0,
                                                     balance="topics_sqrt"))
    assert by_sqrt.groupby("cluster_id").size().to_dict() == {0: 7, 1: 3}


def test_balance_topics_keeps_what_shipped():
    df = topic_pool([4, 1])
    shipped = {f"t0c0-{i}" for i in range(3)}  # three rows of topic 0's first cell were published
    out, info = sample_to_target(df, SampleSettings(target_examples=10, general_share=1.0, max_pool_share=1.0,
                                                    balance="topics"), shipped=shipped)
    assert shipped <= set(out["generation_id"])
    # topic 0 still gives 5: the 3 shipped in cell 0 and 2 more from two of its other cells
    assert out.groupby("cluster_id").size().to_dict() == {0: 5, 1: 5}
    per_cell = out[out.cluster_id == 0].groupby("cell_id").size().to_dict()
    assert per_cell[0] == 3 and sorted(v for c, v in per_cell.items() if c) == [1, 1]
    assert info.cell_bound[(0, GENERAL)] == 3


def test_unknown_balance_is_refused():
    with pytest.raises(ValueError, match="unknown balance"):
        SampleSettings(balance="clusters")


def test_default_settings_grow_with_the_pool_and_keep_what_shipped():
    full = topic_pool([4, 2, 1], rows_per_cell=25)  # 175 rows in three topics
    s = SampleSettings(target_examples=1_000, general_share=1.0)  # defaults: topics by sqrt first, 0.2 of the pool
    first, _ = sample_to_target(full, s)
    # 0.2 x 175 = 35: topics of 100, 50 and 25 rows weigh 10, 7.07 and 5; the level 1.69 gives 16 + 11 + 8
    assert len(first) == 35 and first.groupby("cluster_id").size().to_dict() == {0: 16, 1: 11, 2: 8}
    new_topic = pd.DataFrame([{"generation_id": f"n-{i}", "cluster_id": 3, "cell_id": 7, "template_id": "general",
                               "instruction": f"new question {i}", "input_message": None, "quality_score": 0.5,
                               "created_at": pd.Timestamp("2026-11-02")} for i in range(25)])
    second, info = sample_to_target(pd.concat([full, new_topic]), s, set(first["generation_id"]))
    assert len(second) == 40 and set(first["generation_id"]) <= set(second["generation_id"])  # 0.2 x 200
    # the old topics sit on what shipped (their level x weight stays below it up to 1.69): the new
    # topic's weight 5 takes the 5 new picks at a level of 1
    assert (second["cluster_id"] == 3).sum() == 5


def test_weighted_fill_gives_shares_by_weight_and_no_extra_to_a_group_its_floor_holds():
    from curation_dagster.lib.sampling import weighted_fill
    # weights 4 and 1: at level 2 the groups give 8 and 2
    alloc, level = weighted_fill({"a": 100, "b": 100}, 10, {"a": 4.0, "b": 1.0}, lambda g, i: 0.0)
    assert alloc == {"a": 8, "b": 2} and 2 <= level < 2.25
    # level 3 gives 3 + 3 + c's floor 6 = 12; the 13th goes to the open group with the smaller next key,
    # never to c, whose floor holds it above the level
    keys = {"a": 0.5, "b": 0.1, "c": 0.0}
    alloc, _ = weighted_fill({"a": 10, "b": 10, "c": 10}, 13, {g: 1.0 for g in "abc"}, lambda g, i: keys[g],
                             floor={"c": 6})
    assert alloc == {"a": 3, "b": 4, "c": 6}
    assert weighted_fill({}, 5, {}, lambda g, i: 0.0) == ({}, 0.0)
