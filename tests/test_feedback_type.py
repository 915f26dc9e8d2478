"""Feedback type: the cue rules on strings (fast), the shipped weights (fast), the real embedder (slow)."""

from __future__ import annotations

import numpy as np
import pytest

from painpoints.discovery.feedback_type import TYPES, FeedbackTypeModel, sentence_cue, text_cue


@pytest.mark.parametrize(
    "text",
    [
        "Please add a dark mode.",
        "I wish there was a way to export my data.",
        "It would be nice if it synced with Outlook.",
        "Can you add an option to hide read posts?",
        "Would love to see a tablet version.",
        "Feature request: bulk edit.",
        "It would be great if the bank let me freeze my card online.",
        "We need a way to assign two owners.",
        "Bring back the old widget!",
        "If you made this in navy I would buy two.",
        "Any chance of Android Auto support?",
        "Only wish is that the sleeves were longer.",
        "Would give it 5 stars if it had a search bar.",
    ],
)
def test_request_cues(text: str) -> None:
    assert sentence_cue(text) == "request"


@pytest.mark.parametrize(
    "text",
    [
        "I wish it didn't crash every time I open it.",
        "Please fix the login, I can't get in.",
        "I wish I had read the reviews before buying.",
        "Wish it would stop freezing.",
        "I wish that it fit.",
        "It would have been nice if someone explained the fuel policy.",
        "Would give zero stars if I could.",
        "Great colours, but the fabric is too thin.",
        "It would be great if it actually worked.",
    ],
)
def test_request_shaped_complaints_are_problems(text: str) -> None:
    assert sentence_cue(text) == "problem"


@pytest.mark.parametrize(
    "text",
    [
        "How do I change my password?",
        "Is there a way to back up my settings?",
        "does this run small",
        "Will it come back in stock?",
    ],
)
def test_question_cues(text: str) -> None:
    assert sentence_cue(text) == "question"


@pytest.mark.parametrize(
    "text",
    [
        "Would recommend to anyone.",
        "I should have sized down.",
        "Does everything I need.",
        "I had this on my wish list.",
        "The app keeps logging me out.",
        "Love it!",
        "I'm 5'4 and ordered a small.",
        "Won't let me add new podcasts.",
    ],
)
def test_no_request_or_question_cue(text: str) -> None:
    assert sentence_cue(text) not in ("request", "question")


@pytest.mark.parametrize(
    "text",
    [
        "Great colours, but the seams came apart after one wash.",  # a known miss until the defect verbs
        "Love the cut, but it shrank two sizes in the wash.",
        "Soft fabric, but it pilled within a week.",
        "Nice headphones, but the left side stopped working.",
    ],
)
def test_a_contrast_followed_by_a_defect_is_a_problem(text: str) -> None:
    """The clause after "but" carries the verdict; a defect verb (came apart, shrank, pilled, stopped
    working…) is as clear as a negation (held-out test split unchanged by adding them: problem F1 0.678)."""
    assert sentence_cue(text) == "problem"


# Request phrasings added after reading dev-split misses and the phrasings customers use in general; each
# group: written examples it must catch, then written near-misses (complaints, praise, advice) it must not.
NEW_REQUEST_CUES = {
    "passive": (
        ["Dark mode should be added.", "Offline playback needs to be made available."],
        ["It should have been added to my order.", "The charge should be refunded."],
    ),
    "would like X to": (
        ["I would like the reps to be friendlier.", "We'd like it to sync with Outlook."],
        ["The scrolling isn't as smooth as I'd like it to be.", "I would like my money back."],
    ),
    "prefer": (
        ["I'd prefer the sleeves to be longer.", "I would prefer if it opened on the inbox."],
        ["It is shorter than I would prefer.", "I'd prefer not to deal with them again."],
    ),
    "could add / possible / how about": (
        ["You could add a filter by date.", "Would it be possible to add a widget?", "How about adding a sleep timer?"],
        ["You might consider sizing up.", "They could not add my card.", "How about answering my emails?"],
    ),
    "waiting for a feature": (
        ["Looking forward to a tablet version.", "Can't wait for the dark mode feature."],
        ["Still waiting for support to answer.", "Looking forward to wearing it."],
    ),
    "only thing missing": (
        ["The only thing missing is a dark mode.", "Only thing I'd change is the font size."],
        ["The only thing that works is the login.", "It was the only thing I needed."],
    ),
    "suggest": (
        ["I would suggest adding a search bar.", "We suggest that you offer weekend slots."],
        ["I highly recommend adding this to your wardrobe."],
    ),
    "conditional perfect": (
        [
            "If it had offline mode it would be perfect.",
            "Would give it 5 stars if it had offline mode.",
            "If they added sync this would be a 10/10 app.",
        ],
        ["If you are tall it will be perfect for you."],
    ),
    "imperative with object": (
        ["Hire more staff at peak times.", "Get rid of the ads."],
        ["Train was late.", "Give me my money back.", "Remove the tags before washing."],
    ),
    "noun phrase + please": (
        ["Dark mode please!", "Landscape support pls"],
        ["Refund please.", "I need help please."],
    ),
    "more + plural noun": (
        ["More agents during peak hours.", "More colours!"],
        ["More expensive than the old one.", "More problems since the update."],
    ),
    "users should be able": (
        ["Users should be able to pick a delivery slot.", "Customers should have the option to opt out."],
        ["One should be able to expect better quality.", "I should be able to log in."],
    ),
    "hopefully they add": (["Hopefully they add a widget soon.", "I hope they add Chromecast."], ["I hope it lasts."]),
    "need to add": (
        ["They need to add a search function.", "The app needs to include a sleep timer."],
        ["No need to add a layer.", "I will need to add a cami."],
    ),
    "the X Y should": (
        ["The next update should include widgets.", "The mobile app should have a widget."],
        ["The transaction should have been processed."],
    ),
    "nice for someone to": (
        ["It would be great for users to be able to export.", "Would be nice for admins to see the logs."],
        ["This dress would be perfect for a wedding.", "It will be a nice addition to my wardrobe."],
    ),
    "should have + participle is a regret": (
        ["It should have an option to skip intros.", "The app should have a search bar."],
        ["They should have refunded me.", "You should have warned me."],
    ),
    "an expectation is not a wish": (
        ["One thought though, it would be nice to have a dark mode."],
        ["I thought these would be great.", "Thought it would be perfect for work, but it is too short."],
    ),
}


@pytest.mark.parametrize("group", sorted(NEW_REQUEST_CUES))
def test_general_request_phrasings_and_their_near_misses(group: str) -> None:
    catch, miss = NEW_REQUEST_CUES[group]
    assert len(catch) >= 1 and len(miss) >= 1
    assert [t for t in catch if sentence_cue(t) != "request"] == []
    assert [t for t in miss if sentence_cue(t) == "request"] == []


def _request_leaning_model(tmp_path, p_request: float = 0.9) -> FeedbackTypeModel:
    """A stand-in classifier whose probabilities ignore the vector: request p_request, question next."""
    rest = (1 - p_request) / 4
    probs = {"problem": rest * 1.2, "request": p_request, "question": rest * 1.3, "praise": rest, "other": rest * 0.8}
    path = tmp_path / "stand_in.npz"
    np.savez(
        path,
        coef=np.zeros((5, 384), np.float32),
        intercept=np.log(np.array([probs[t] for t in TYPES], np.float32)),
        classes=np.array(TYPES),
        model=np.array("all-MiniLM-L6-v2"),
    )
    return FeedbackTypeModel(path=path).fit()


def test_the_classifier_alone_calls_no_hypothetical_a_request(tmp_path) -> None:
    """Without a cue a sure classifier may say request, never for a past counterfactual, an expectation,
    fit advice, a wish list or "all I need"; questions and unsure requests fall to problem/praise/other."""
    texts = [
        "Offline playlists for the car.",
        "I would've walked right past it in the store.",
        "I thought these would work for my trip.",
        "Would probably look better on a taller woman.",
        "It has been on my wish list for months.",
        "It does exactly what I need.",
    ]
    labels, _ = _request_leaning_model(tmp_path).predict(np.zeros((len(texts), 384), np.float32), texts)
    assert labels[0] == "request" and "request" not in labels[1:] and "question" not in labels
    unsure, _ = _request_leaning_model(tmp_path, 0.5).predict(np.zeros((1, 384), np.float32), texts[:1])
    assert unsure == ["problem"]  # request too unsure and question a matter of form: the next type that may stand


def test_a_noun_opening_is_not_an_imperative() -> None:
    assert sentence_cue("Support never answered my emails.") is None
    assert sentence_cue("Add an export button.") == "request"


def test_segment_precedence_request_over_praise_and_problem() -> None:
    assert text_cue("Great app. I wish it had a dark mode.") == "request"
    assert text_cue("Crashes daily. Please fix it. How do I get a refund?") == "problem"
    assert text_cue("Nice colours. Is it lined?") == "question"
    assert text_cue("Nice colours and soft fabric.") is None


def test_weights_load_and_guard_shapes() -> None:
    m = FeedbackTypeModel().fit()
    assert set(m.classes_) == set(TYPES) and m.coef_.shape == (5, 384) and m.model_name_ == "all-MiniLM-L6-v2"
    with pytest.raises(ValueError, match="expect 384-d"):
        m.predict(np.zeros((1, 10), np.float32), ["x"])
    with pytest.raises(ValueError, match="1 vectors for 2 texts"):
        m.predict(np.zeros((1, 384), np.float32), ["x", "y"])
    assert m.predict(np.zeros((0, 384), np.float32), []) == ([], pytest.approx(np.zeros(0)))


def test_a_cue_decides_whatever_the_vector() -> None:
    labels, conf = (
        FeedbackTypeModel()
        .fit()
        .predict(np.zeros((2, 384), np.float32), ["Please add a dark mode.", "Please fix the crash."])
    )
    assert labels == ["request", "problem"] and np.all((conf >= 0.5) & (conf <= 1))


CLEAR = {
    "problem": [
        "The app crashes every time I open a photo.",
        "My package arrived two weeks late and damaged.",
        "I was charged twice for the same order.",
        "The zipper broke after one wear.",
        "Support never answered my emails.",
        "It keeps logging me out since the update.",
        "The car was dirty and the AC did not work.",
        "Terrible battery life, dead by noon.",
        "The website is so slow it times out at checkout.",
        "They lost my luggage.",
        "The fabric is thin and see-through.",
        "Notifications stopped working on my phone.",
    ],
    "request": [
        "Please add a dark mode.",
        "I wish the app had a tablet layout.",
        "It would be nice to export reports as CSV.",
        "Can you add Apple Pay?",
        "Would love to see this dress in petite sizes.",
        "Please bring back the old menu.",
        "It would be great if I could schedule transfers.",
        "Need a way to mute a single chat.",
        "Feature request: offline mode.",
        "You should offer a student plan.",
        "Please let us pick a delivery slot.",
        "Would be awesome to have widgets.",
    ],
    "question": [
        "How do I reset my password?",
        "Does this come in a size 14?",
        "Is there a student discount?",
        "What is the return policy?",
        "When will the update be released?",
        "Can I use it on two phones?",
        "Where do I find my invoices?",
        "Why is my order still pending?",
        "Is the shuttle free?",
        "Do you ship to Canada?",
        "How long does delivery take?",
        "Which plan includes SSO?",
    ],
    "praise": [
        "I love this app, it is so easy to use!",
        "Beautiful dress and it fits perfectly.",
        "The staff were friendly and helpful.",
        "Best banking app I have used.",
        "Super soft and comfortable.",
        "Fast delivery and great quality.",
        "Works flawlessly on my old phone.",
        "Great customer service, thank you!",
        "The new design looks fantastic.",
        "Absolutely worth the price.",
        "Check-in took two minutes, excellent.",
        "Clean interface and no ads.",
    ],
}


@pytest.mark.slow
def test_clear_examples_with_the_real_embedder(embedder) -> None:
    texts = [t for ts in CLEAR.values() for t in ts]
    truth = [label for label, ts in CLEAR.items() for _ in ts]
    labels, conf = FeedbackTypeModel().fit().predict(embedder.encode(texts), texts)
    wrong = [(t, y, p) for t, y, p in zip(texts, truth, labels, strict=False) if y != p]
    # ≥ 44 of 48; known misses: "Why is my order still pending?" (rhetorical-looking → problem),
    # "The fabric is thin and see-through.", "Check-in took two minutes, excellent.", "Clean interface and no ads."
    assert len(wrong) <= 4, wrong
    assert conf.min() > 0.2 and conf.max() <= 1


def test_theme_type_follows_the_mix_of_its_segments() -> None:
    """Theme 0 mostly praise, 1 mostly positive in tone, 2 led by requests, 3 neutral-toned problems
    (support contact reasons stay pains), 4 more praise than complaints though neither is most of it
    ("It was fine" answers), 5 more complaints than praise; −1 unassigned is ignored."""
    from painpoints.discovery.feedback_type import theme_types

    labels = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, -1, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5])
    types = [
        "praise",
        "praise",
        "problem",
        "other",
        "other",
        "problem",
        "request",
        "request",
        "problem",
        "question",
        "other",
        "problem",
        "praise",
        *["praise", "praise", "problem", "other", "other", "other", "other"],
        *["problem", "problem", "praise", "other", "other"],
    ]
    tone = [
        "positive",
        "positive",
        "negative",
        "positive",
        "positive",
        "neutral",
        "neutral",
        "neutral",
        "negative",
        "neutral",
        "neutral",
        "neutral",
        "positive",
        *["positive", "positive", "negative", "neutral", "neutral", "neutral", "neutral"],
        *["negative", "neutral", "positive", "neutral", "neutral"],
    ]
    kinds = theme_types(labels, types, tone, 6)
    assert [k.theme_type for k in kinds] == ["praise", "praise", "request", "problem", "praise", "problem"]
    assert kinds[2].request_share == pytest.approx(2 / 3) and kinds[0].positive_share == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    "text",
    [
        "Did not have any problems. My car was ready on time.",
        "My last rental was fine -- no service issues to speak of.",
        "I never had an issue with this app.",
        "Hassle-free pickup, friendly staff.",
        "I didn\u2019t have any issues with sizing.",
    ],
)
def test_a_negated_problem_is_praise(text: str) -> None:
    """Embeddings read "problems" and miss the "no": the cue says things went well."""
    assert text_cue(text) == "praise"


@pytest.mark.parametrize(
    "text",
    [
        "No problems booking. The car was dirty.",
        "No problems until the update, now it crashes.",
        "Did not have some problems. My car was not ready on time.",
        "No issues with login but export fails.",
        "The app has issues.",
    ],
)
def test_a_negated_problem_beside_a_complaint_is_not_praise(text: str) -> None:
    assert text_cue(text) != "praise"


@pytest.mark.parametrize(
    "text",
    ["It was fine", "they were fine.", "N/A", "Nothing to improve", "The staff was fine.", "Nothing I'd change",
     "Nothing I\u2019d change", "Everything was fine!", "It's fine", "ok"],
)  # fmt: skip
def test_an_answer_with_nothing_to_report_is_other(text: str, embedder) -> None:
    """Survey answers to "what could we improve?": the classifier alone calls a short "fine" a problem;
    the whole answer says there is none."""
    assert text_cue(text) == "other"
    assert FeedbackTypeModel().predict(embedder.encode([text]), [text])[0] == ["other"]


@pytest.mark.parametrize(
    "text",
    ["Service was fine but the car was dirty", "Fine, until it crashed.", "Nothing works", "Not fine at all",
     "Nothing happened when I clicked pay", "None of the buttons work", "no one helped me", "Not ok",
     "Nothing. The app crashes", "Nothing.", "None.", "Not really.", "Nothing special", "It was ok?", "ok :(",
     "fine \U0001f621"],
)  # fmt: skip
def test_fine_or_nothing_inside_a_complaint_is_not_other(text: str) -> None:
    """A bare "Nothing." may answer "what did you like?"; a question mark or an angry emoticon is not
    a verdict that all went well."""
    assert text_cue(text) != "other"
