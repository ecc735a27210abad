"""The rules on answers shaped like real assistant output (markdown, code, tables, lists).

Each case is modelled on a row of the ShareGPT development half that a careful reader labelled
(benchmarks/labels/): the expected verdict is the reader's, not the rule's.
"""

import json

import pandas as pd
import pytest

from curation_dagster.lib.markdown import parse_reply
from curation_dagster.lib.rules import RULES, FilterSettings, continuation_request, refers_to_missing_turn

SETTINGS = FilterSettings(known_templates=(), require_identity=False, require_generator_version=False)
FENCE = "```"
INTRO = ("Here is a small example that does what you asked. It reads the file, counts the lines and prints "
         "the total, so you can run it as it is and adapt the path to your own data.\n")


def fired(output: str, instruction: str = "Write a script that counts the lines of a file") -> dict:
    row = {"generation_id": "g", "created_at": pd.Timestamp("2026-10-01"), "template_id": "general",
           "generator_version": None, "instruction": instruction, "output": output, "input_message": None,
           "identity": None}
    out = {}
    for name, fn in RULES.items():
        if name != "low_quality":
            reason = fn(row, SETTINGS)
            if reason:
                out[name] = reason
    return out


CODE_ANSWER = INTRO + f"{FENCE}python\nimport sys\n\nwith open(sys.argv[1]) as f:\n    n = sum(1 for _ in f)\nprint(n)\n{FENCE}"
HTML_IN_CODE = INTRO + (f"{FENCE}html\n<div class=\"card\">\n  <p>Hello &amp; welcome</p>\n  <br>\n</div>\n{FENCE}\n"
                        "Put this block wherever the card should appear on the page.")
LIST_ENDING = ("There are several good ways to learn a new language quickly and keep at it:\n\n"
               "1. Practice a little every day with an app or a tutor\n"
               "2. Watch films and series with subtitles in the language\n"
               "3. Find a conversation partner online")
TABLE_ENDING = ("Here is the comparison you asked for, with the share of new cars that were electric in each "
                "country, taken from the two yearly reports and put side by side:\n\n"
                "| Country | 2021 | 2022 |\n|---|---|---|\n| Norway | 64% | 79% |\n| Sweden | 32% | 43% |\n"
                "| Denmark | 25% | 39% |\n| Finland | 18% | 31% |\n| Iceland | 45% | 58% |")
SIGNOFF_PLACEHOLDER = ("Dear Hiring Manager,\n\nI am writing to apply for the marketing position at your company. "
                       "I have five years of experience in digital campaigns and would welcome the chance to "
                       "discuss how I can help your team.\n\nSincerely,\n\n[Your Name]")
CODE_ONLY = (f"{FENCE}js\nconst add = (a, b) => a + b;\nconsole.log(add(2, 3));\n"
             "function mul(a, b) {\n  return a * b;\n}\nconsole.log(mul(2, 3));\n"
             "function greet(name) {\n  return `Hello, ${name}!`;\n}\nconsole.log(greet('world'));\n" + FENCE)
MATH = ("The derivative follows from the product rule: for $f(x) = x^2 \\sin(x)$ we get "
        "$f'(x) = 2x \\sin(x) + x^2 \\cos(x)$, which is zero at $x = 0$ and changes sign there as well.")


@pytest.mark.parametrize("output", [CODE_ANSWER, HTML_IN_CODE, LIST_ENDING, TABLE_ENDING, SIGNOFF_PLACEHOLDER,
                                    CODE_ONLY, MATH], ids=["code", "html-in-code", "list", "table",
                                                           "placeholder-signoff", "code-only", "math"])
def test_complete_real_answers_are_kept(output):
    assert fired(output) == {}


CUT_PROSE = INTRO + "The second part of the script then opens the output file and writes the totals for"
CUT_OPEN_FENCE = INTRO + f"{FENCE}python\nimport sys\n\nwith open(sys.argv[1]) as f:\n    n = sum(1 for"
CUT_CLOSED_FENCE = INTRO + f"{FENCE}python\nimport pandas as pd\n\ndf = pd.read_csv('test.csv\n{FENCE}"
CUT_BRACKETS = INTRO + f"{FENCE}js\nfunction main() {{\n  const items = load();\n  for (const x of items) {{\n    show(x);\n{FENCE}"
CUT_LIST = ("Here are the steps:\n\n1. Install the package with pip.\n2. Create a configuration file in your home "
            "folder.\n3. Run the command and check that the")


@pytest.mark.parametrize("output", [CUT_PROSE, CUT_OPEN_FENCE, CUT_CLOSED_FENCE, CUT_BRACKETS, CUT_LIST],
                         ids=["prose", "open-fence", "string-in-closed-fence", "brackets", "list-item"])
def test_cut_answers_are_truncated(output):
    assert "truncated_output" in fired(output)


def test_html_outside_code_is_still_markup():
    out = INTRO + "<div>Click <b>here</b>&nbsp;to continue with the next step of the setup.</div>"
    assert "html_markup" in fired(out)


def test_language_ignores_code_and_sees_cjk():
    chinese = "这是一个简单的例子，它读取文件并计算行数。你可以直接运行它，然后根据你的数据修改路径。我们还可以添加更多功能。"
    assert "non_target_language" in fired(chinese + "\n" + CODE_ONLY)
    # English prose around a lot of code is English
    assert "non_target_language" not in fired(CODE_ANSWER)


def test_continuation_requests():
    for text in ("continue", "Continue the chapter 2", "give me 10 more", "create another 10 variations",
                 "what is the remaining part of the previous code?", "繼續", "write after where you stop"):
        assert continuation_request(text), text
    for text in ("Explain how photosynthesis works in C4 plants", "add country", "More formal, please",
                 "Write a poem about the sea", "List the planets of the solar system"):
        assert not continuation_request(text), text


def history(*turns: str) -> str:
    roles = ("user", "assistant")
    return json.dumps({"conversation_history": [{"role": roles[i % 2], "content": t} for i, t in enumerate(turns)]})


ANSWER = ("Sure. The service reads each order from the queue, checks the stock and then writes the invoice, "
          "so a failed payment never leaves a half-written invoice behind.")


def junk(instruction: str, input_message: str | None = None, **settings) -> str | None:
    row = {"instruction": instruction, "input_message": input_message, "output": ANSWER}
    s = FilterSettings(known_templates=(), require_identity=False, require_generator_version=False, **settings)
    return RULES["instruction_junk"](row, s)


def test_a_conversation_that_opens_on_an_answer_it_does_not_hold_is_rejected():
    # modelled on chunks of split ShareGPT conversations in the development half
    follow_up = "Now add error handling to the invoice step"
    for opener in ("Continue", "Please expand your last response",
                   "You forgot to add the suggestions from your last list. Please show the full list.",
                   "Very nice. Please redo your previous response using Geometric Algebra."):
        reason = junk(follow_up, history(opener, ANSWER))
        assert reason and reason.startswith("the conversation opens on an earlier answer"), opener
        assert junk(follow_up, history(opener, ANSWER), reject_continuations=False) is None
    # a one-turn row is its own opening turn
    assert "opens on an earlier answer" in junk("Please redo your previous response in French")
    # the opener has what it asks about, or asks afresh: kept, whatever the later turns refer to
    for opener in ("Write a queue consumer in Python that writes invoices",
                   "Here is my code: def f(x): return x. Explain the above code to a beginner",
                   "Topic: building a digital business. For the above topic, list common aspirations"):
        assert junk("Please expand your last response", history(opener, ANSWER)) is None, opener
    # a plain message being replied to (not earlier turns) leaves the instruction as the opening turn
    assert junk("Reply to the customer politely", "Where is my refund? You said last week it was sent.") is None
    assert junk("Answer the previous message politely", "Where is my refund? You said last week it was sent.") is None
    assert "opens on an earlier answer" in junk("Answer the previous message politely")  # the message is not there


def test_references_to_a_missing_turn():
    for text in ("Please expand your last response", "what's the result of the last script",
                 "revise all your previous responses and respect the tech stack"):
        assert refers_to_missing_turn(text), text
    for text in ("Explain the above code", "Summarize the last chapter of Moby Dick",
                 "Write a previous-version changelog", "Compare the last two quarters' revenue",
                 "Please expand your last response " + "and add detail " * 20):  # long: a request of its own
        assert not refers_to_missing_turn(text), text


def test_parse_reply_separates_prose_and_code():
    r = parse_reply(HTML_IN_CODE)
    assert "<div" not in r.prose and "<div" in r.code
    assert r.code_blocks == 1 and not r.open_fence
    assert parse_reply(CUT_OPEN_FENCE).open_fence
    assert parse_reply(LIST_ENDING).last_kind == "list"
    assert parse_reply(TABLE_ENDING).last_kind == "table"


def test_pii_leaves_published_contacts_and_figures_alone():
    from curation_dagster.lib.pii import first_pii_kind

    assert first_pii_kind("For more information, contact us at info@acme-analytics.com.") is None
    assert first_pii_kind("or call (123) 456-7890 during office hours") is None
    assert first_pii_kind("Total 1147 31 143 232 1139 1545 7 22 22 38 5 94") is None
    # a person's own address and number are still personal data
    assert first_pii_kind("Write to anna.lee@gmail.com") == "email"
    assert first_pii_kind("call me on (415) 555-0132") == "phone"


QUIZ = "\n".join(f"{i}. Question number {i} about the water cycle?\nA) Rain\nB) Snow\nC) Hail\nD) Fog\nAnswer: A"
                 for i in range(1, 4)) + "\n4. Which process turns water vapour into liquid water?\nA) Melting\nB) Freezing"
REFERENCES = ("Edmonton has grown quickly over the last decade [1], and its energy mix is changing fast [2]. Its "
              "emissions are among the highest in Canada [3].\n\nReferences:\n\n[1] Statistics Canada. (2021). "
              "Population and Dwelling Counts. Retrieved from <https://www12.statcan.gc.ca/census>")
CUT_TABLE = ("Here are the meanings of each figure in every one of the sixteen houses, one row per figure:\n\n"
             "|  | 1 | 2 | 3 | 4 |\n|---|---|---|---|---|\n| **Via** | Journey | Change | Travel | Movement |\n"
             "| **Populus** | Crowd | Community | Group | Public |\n| **Amissio** | Loss | Sacrifice |  |  |")
FOOTNOTE_TABLE = ("Here are the totals of the survey by region, as reported in the yearly statistics bulletin:\n\n"
                  "| Region | 2020 | 2021 | 2022 |\n|---|---|---|---|\n| North | 12 | 15 | 18 |\n"
                  "| South | 22 | 25 | 27 |\n| (16*) |  |  |  |")


@pytest.mark.parametrize("output,expected", [(QUIZ, True), (REFERENCES, True), (CUT_TABLE, True),
                                             (FOOTNOTE_TABLE, False), (TABLE_ENDING, False)],
                         ids=["quiz-options", "references", "table-row", "footnote-row", "full-table"])
def test_structural_endings(output, expected):
    assert ("truncated_output" in fired(output)) is expected


def test_pii_leaves_placeholder_contacts_alone():
    from curation_dagster.lib.pii import first_pii_kind

    for text in ('email: "john.doe@example.com", phone: "555-555-5555"', "\\email{john.doe@email.com}",
                 "--email admin@yourcompany.com"):
        assert first_pii_kind(text) is None, text
    assert first_pii_kind("Frisco, TX • zuhair.l@gmail.com • (516)-974-4700") == "email"


def test_pii_in_the_history_is_judged_as_exported():
    import json

    # the history column is JSON: "\n" is escaped there, so "\n+44 7700 900123" hides from a raw scan,
    # but the export check reads the messages as exported and would fail on it
    history = json.dumps({"conversation_history": [
        {"role": "user", "content": "My details:\n+44 7700 900123"}, {"role": "assistant", "content": "Noted."}]})
    row = {"generation_id": "g", "created_at": pd.Timestamp("2026-10-01"), "template_id": "general",
           "generator_version": None, "instruction": "Write a short bio for me", "output": CODE_ANSWER,
           "input_message": history, "identity": None}
    assert RULES["pii"](row, SETTINGS)
