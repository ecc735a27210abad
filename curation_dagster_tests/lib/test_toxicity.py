"""toxic_output (lib/rules.py) and its offline classifier (lib/toxicity.py: alt-profanity-check)."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from curation_dagster.defs.filtering.config import FilterConfig
from curation_dagster.lib.filtering import apply_filters
from curation_dagster.lib.rules import RULES, FilterSettings, rule_order
from curation_dagster.lib.toxicity import (DEFAULT_TOXICITY_THRESHOLD, _model, abstention, toxicity,
                                           toxicity_probabilities)

REPO = Path(__file__).resolve().parents[2]
LABELLED = REPO / "benchmarks" / "data" / "toxicity_labelled.jsonl"

TOXIC = ("Honestly, this is the dumbest question I've seen all day. Google it yourself, you fucking idiot. "
         "I'm not going to waste my time explaining basic shit to a lazy moron who can't read the docs.")
HARD_NEGATIVE = (
    "If the server hangs, find its PID with `ps aux | grep server` and kill the process:\n\n"
    "```bash\nkill -9 4242\n```\n\n"
    "Then shoot a photo of the error screen for the ticket. For the health leaflet, the section on the "
    "prostate explains why a rectal exam is recommended after fifty, and the section on breast cancer "
    "explains self-examination. The film night is 'Kill Bill' followed by 'Reservoir Dogs'.")
POLITE = ("I understand you're frustrated, and I'm sorry the earlier answer didn't help. Let's look at the "
          "error together: the loop never ends because the counter is never incremented, so add `i += 1` "
          "at the end of the loop body and run it again.")


def row(gid="g1", **over):
    base = dict(generation_id=gid, created_at=pd.Timestamp("2026-11-01 10:00"), template_id="general",
                generator_version="1.5.0", instruction="Why does my loop never stop? Please explain the bug.",
                identity=json.dumps({"name": "Anna Lee"}), input_message=None, output=POLITE,
                copied=True, sent=True, edit_ratio=0.1, rating=5)
    base.update(over)
    return base


def test_offensive_output_is_quarantined_with_rule_name_and_probability():
    out = apply_filters(pd.DataFrame([row("bad", output=TOXIC), row("good")]), FilterSettings())
    assert list(out.kept["generation_id"]) == ["good"]
    rejected = out.rejected.set_index("generation_id").loc["bad"]
    assert rejected["rule"] == "toxic_output"
    p = toxicity(TOXIC)
    assert p > 0.95
    assert f"probability {p:.2f} >= toxicity_threshold 0.80" in rejected["reason"]
    assert "alt-profanity-check" in rejected["reason"]
    # judged after the language rule, before the answer-shape rules
    order = rule_order()
    assert order.index("non_target_language") < order.index("toxic_output") < order.index("truncated_output")


def test_clean_answer_with_hard_negative_words_passes():
    assert RULES["toxic_output"](row(output=HARD_NEGATIVE), FilterSettings()) is None
    assert toxicity(HARD_NEGATIVE) < 0.5


def test_rude_instruction_answered_politely_passes_but_a_toxic_answer_does_not():
    rude = "Fix my stupid fucking loop, you useless piece of shit bot."
    assert toxicity(rude) > 0.95  # the classifier would flag the instruction...
    s = FilterSettings()
    assert RULES["toxic_output"](row(instruction=rude, output=POLITE), s) is None  # ...the rule reads the output
    assert RULES["toxic_output"](row(instruction="Please explain the bug.", output=TOXIC), s) is not None


def test_code_is_not_judged_only_the_prose():
    code_only = "```python\nprint('you idiot, fuck off')\n```"
    assert RULES["toxic_output"](row(output=code_only), FilterSettings()) is None
    assert toxicity_probabilities(["print('you idiot, fuck off')"])[0] > 0.9  # the same words as prose fire
    assert RULES["toxic_output"](row(output=TOXIC + "\n\n" + code_only), FilterSettings()) is not None


def test_threshold_setting_changes_the_outcome():
    borderline = "Read the damn error message, you absolute clown. It tells you exactly what's wrong."
    p = toxicity(borderline)
    assert 0.5 < p < DEFAULT_TOXICITY_THRESHOLD
    fn = RULES["toxic_output"]
    assert fn(row(output=borderline), FilterSettings()) is None
    assert f"probability {p:.2f} >= toxicity_threshold 0.50" in fn(row(output=borderline),
                                                                   FilterSettings(toxicity_threshold=0.5))
    # above 1 turns the rule off, even for text the model is sure about
    assert toxicity("fuck you") == pytest.approx(1.0, abs=1e-3)
    assert fn(row(output="Fuck you, you stupid fucking idiot."), FilterSettings(toxicity_threshold=1.01)) is None
    with pytest.raises(ValueError, match="toxicity_threshold must be above 0"):
        FilterSettings(toxicity_threshold=0)
    # the launchpad / settings-file field reaches the rule
    assert FilterConfig().to_settings().toxicity_threshold == DEFAULT_TOXICITY_THRESHOLD
    assert FilterConfig(toxicity_threshold=0.5).to_settings().toxicity_threshold == 0.5


def test_non_english_prose_gets_no_verdict():
    german = ("Um die Klasse so zu gestalten, dass sie nicht mit einem vorhandenen Firmennamen instanziiert "
              "werden muss, könnten Sie die Klasse so ändern, dass sie ohne Parameter erzeugt wird und die "
              "Datendatei für die gewählte Firma erst danach lädt.")
    assert abstention(german) == "prose reads as de (stop words), not English" and toxicity(german) is None
    assert abstention("这是一个关于如何在 Mac 上执行脚本的说明，请按照步骤操作。") == "prose is not mostly Latin script"
    s = FilterSettings(target_languages=("en", "de"))
    assert RULES["toxic_output"](row(output=german), s) is None
    assert abstention(TOXIC) is None and abstention("Moron. Absolute moron.") is None  # short English is judged


def test_fast_path_gives_sklearns_probabilities():
    m = _model()
    assert m.analyzer is not None  # the array path is in use, not the 7 ms-per-call fallback
    texts = [TOXIC, HARD_NEGATIVE, POLITE, "", "!!!", "the and of", "kill -9 " * 50]
    ref = m.classifier.predict_proba(m.vectorizer.transform(texts))[:, 1]
    assert toxicity_probabilities(texts) == pytest.approx(list(ref), abs=1e-12)


def test_classifier_runs_offline_in_a_fresh_process():
    """No socket can be opened: the model must come from the wheel, with no scikit-learn pickle warning."""
    script = textwrap.dedent("""
        import socket, warnings
        def no_network(*a, **k):
            raise OSError("network disabled in this test")
        socket.socket.connect = socket.socket.connect_ex = no_network
        socket.create_connection = socket.getaddrinfo = no_network
        from sklearn.exceptions import InconsistentVersionWarning
        warnings.simplefilter("error", InconsistentVersionWarning)  # a model pickled by another sklearn
        from curation_dagster.lib.toxicity import toxicity
        print(round(toxicity("Shut the fuck up, you pathetic loser."), 3), round(toxicity("Thanks for the help!"), 3))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr[-2000:]
    hi, lo = map(float, done.stdout.split())
    assert hi > 0.9 and lo < 0.2


def test_labelled_set_and_measured_figures_hold():
    """The README's figures on the hand-written set (benchmarks/toxicity.py prints them in full)."""
    rows = [json.loads(line) for line in LABELLED.open(encoding="utf-8")]
    assert len(rows) >= 300 and len({r["id"] for r in rows}) == len(rows)
    toxic = [r for r in rows if r["label"] == "toxic"]
    assert 0.4 < len(toxic) / len(rows) < 0.6 and {r["label"] for r in rows} == {"toxic", "clean"}
    fn, s = RULES["toxic_output"], FilterSettings()
    flags = [fn({"output": r["text"]}, s) is not None for r in rows]
    tp = sum(f for f, r in zip(flags, rows) if r["label"] == "toxic")
    fp = sum(f for f, r in zip(flags, rows) if r["label"] == "clean")
    assert tp / (tp + fp) >= 0.94 and tp / len(toxic) >= 0.77  # measured: 131 / 139 = 0.942, 131 / 170 = 0.771
