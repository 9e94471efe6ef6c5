"""The comment analysis on clear sentences in both languages (the lexicon scorer is a heuristic)."""

import pytest

from guanxi.surveys import scoring, text


@pytest.mark.parametrize(
    "sentence",
    [
        "The agent was very helpful and friendly, the problem was solved quickly.",
        "Excellent service, thank you!",
        "客服非常耐心，问题很快解决了，很满意。",
        "服务很专业，非常感谢！",
    ],
)
def test_clearly_positive_sentences_score_above_zero(sentence):
    assert text.sentiment(sentence) > 0.3


@pytest.mark.parametrize(
    "sentence",
    [
        "Terrible service, rude and slow.",
        "I am very disappointed, nobody called back.",
        "态度很差，等了三天都没解决，非常失望。",
        "客服敷衍，太慢了。",
    ],
)
def test_clearly_negative_sentences_score_below_zero(sentence):
    assert text.sentiment(sentence) < -0.3


@pytest.mark.parametrize(
    ("sentence", "sign"),
    [("The service was not good.", -1), ("It was never slow.", 1), ("不满意", -1), ("质量不好", -1), ("一点都不慢", 1)],
)
def test_a_negation_flips_the_next_sentiment_word(sentence, sign):
    assert text.sentiment(sentence) * sign > 0


def test_negation_does_not_cross_a_sentence_boundary():
    assert text.sentiment("没有等很久。客服很耐心") > 0
    assert text.sentiment("Not today. Great service") > 0


def test_score_stays_in_range_and_empty_text_has_none():
    assert text.sentiment("great excellent perfect amazing best love") == 1.0
    assert text.sentiment("") is None
    assert text.sentiment("The parcel arrived on Tuesday.") == 0.0


def test_keywords_use_jieba_for_chinese_and_drop_stopwords():
    words = text.keywords("快递太慢了，包装也破损了，客服态度还可以")
    assert "快递" in words and "包装" in words
    assert not {"了", "也", "还"} & set(words)
    english = text.keywords("The delivery was late and the delivery box was damaged")
    assert english[0] == "delivery" and "the" not in english and "was" not in english


def test_nps_csat_and_detractors_follow_the_standard_definitions():
    # 3 promoters (9, 10, 10), 2 passives (7, 8), 5 detractors (0..6): (3 - 5) / 10 = -20
    assert scoring.nps([9, 10, 10, 7, 8, 0, 3, 5, 6, 6]) == pytest.approx(-20.0)
    assert scoring.nps([]) is None
    assert scoring.csat([5, 4, 3, 2]) == pytest.approx(50.0)
    assert scoring.is_detractor(nps=6, csat=None) and not scoring.is_detractor(nps=7, csat=None)
    assert scoring.is_detractor(nps=None, csat=2) and not scoring.is_detractor(nps=None, csat=3)
