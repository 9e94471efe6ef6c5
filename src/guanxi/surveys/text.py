"""Keywords and a sentiment score for survey comments, in English and Chinese. Framework-free.

Keywords: Chinese text through jieba's TF-IDF ``jieba.analyse.extract_tags`` with a small stopword list; English
through a word tokenizer, a stopword list and term frequency.

Sentiment: a heuristic, not a trained model. A small bilingual lexicon of positive and negative words scores
each hit +1/-1 (a few strong words +-2); a negation (不/没/没有/别/not/never/no/n't) up to three tokens before a
word flips its sign; the score is ``sum / (number of hits + 1)`` clipped to [-1, 1], so one mild word gives
+-0.5 and several consistent words approach +-1; no hit gives 0.0. Chinese sentiment libraries on PyPI
(SnowNLP, cnsenti) are unmaintained; this is documented and tested on clear sentences only (docs/surveys.md).
"""

import logging
import re
from collections import Counter

_CJK = re.compile(r"[\u4e00-\u9fff]")
_WORD = re.compile(r"[a-z][a-z']+|[.,;:!?]")
_PUNCT = frozenset(".,;:!?，。；：！？、…")
BOUNDARY = "|"

EN_STOPWORDS = frozenset(
    [
        "a",
        "about",
        "after",
        "again",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "don't",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "him",
        "his",
        "how",
        "i",
        "i'm",
        "if",
        "in",
        "into",
        "is",
        "it",
        "it's",
        "its",
        "just",
        "me",
        "more",
        "most",
        "my",
        "no",
        "nor",
        "not",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "really",
        "get",
        "got",
        "very",
        "much",
        "thanks",
        "thank",
        "please",
        "one",
        "would",
        "also",
        "even",
        "still",
    ]
)
ZH_STOPWORDS = frozenset(
    [
        "的",
        "了",
        "是",
        "我",
        "你",
        "他",
        "她",
        "它",
        "们",
        "我们",
        "你们",
        "在",
        "和",
        "与",
        "也",
        "就",
        "都",
        "而",
        "及",
        "着",
        "或",
        "一个",
        "没有",
        "这个",
        "那个",
        "这",
        "那",
        "有",
        "很",
        "非常",
        "还",
        "又",
        "吗",
        "呢",
        "吧",
        "啊",
        "呀",
        "哦",
        "被",
        "把",
        "让",
        "给",
        "对",
        "从",
        "到",
        "为",
        "以",
        "于",
        "之",
        "但",
        "但是",
        "因为",
        "所以",
        "如果",
        "还是",
        "比较",
        "一下",
        "一些",
        "感觉",
        "觉得",
        "就是",
        "不是",
        "什么",
        "怎么",
        "可以",
        "已经",
        "可能",
        "需要",
        "希望",
        "真的",
        "太",
        "挺",
        "有点",
    ]
)

POSITIVE_EN = {
    "good": 1, "great": 2, "excellent": 2, "fast": 1, "quick": 1, "quickly": 1, "helpful": 1, "friendly": 1,
    "polite": 1, "happy": 1, "satisfied": 1, "love": 2, "like": 1, "nice": 1, "perfect": 2, "easy": 1,
    "professional": 1, "recommend": 1, "thanks": 1, "resolved": 1, "solved": 1, "efficient": 1, "patient": 1,
    "awesome": 2, "amazing": 2, "best": 2, "smooth": 1, "kind": 1, "pleased": 1,
}  # fmt: skip
NEGATIVE_EN = {
    "bad": 1, "terrible": 2, "awful": 2, "slow": 1, "rude": 2, "unhelpful": 1, "angry": 1, "disappointed": 2,
    "disappointing": 2, "poor": 1, "worst": 2, "broken": 1, "late": 1, "delay": 1, "delayed": 1, "waiting": 1,
    "wait": 1, "useless": 2, "hate": 2, "difficult": 1, "hard": 1,
    "unhappy": 1, "complicated": 1, "expensive": 1, "wrong": 1, "ignored": 2,
}  # fmt: skip
POSITIVE_ZH = {
    "好": 1, "很好": 1, "满意": 1, "非常满意": 2, "快": 1, "及时": 1, "很快": 1, "迅速": 1,
    "耐心": 1, "专业": 1, "热情": 1, "感谢": 1, "谢谢": 1,
    "喜欢": 1, "方便": 1, "高效": 1, "周到": 1, "解决": 1, "推荐": 1, "棒": 2,
    "优秀": 2, "完美": 2, "贴心": 1, "靠谱": 1, "负责": 1, "礼貌": 1, "满分": 2, "给力": 1,
}  # fmt: skip
NEGATIVE_ZH = {
    "差": 1, "很差": 2, "太差": 2, "慢": 1, "失望": 2, "生气": 1, "不满": 2, "糟糕": 2, "麻烦": 1, "投诉": 1,
    "敷衍": 2, "态度差": 2, "拖": 1, "拖延": 1, "等待": 1, "垃圾": 2, "坑": 1, "难": 1,
    "推诿": 2, "冷漠": 2, "无语": 1, "贵": 1, "错误": 1, "延迟": 1,
}  # fmt: skip
NEGATIONS = frozenset({"不", "没", "没有", "别", "未", "无", "not", "never", "no", "n't", "dont", "didn't", "don't",
                       "isn't", "wasn't", "won't", "cannot", "can't"})  # fmt: skip
NEGATION_WINDOW = 3


def is_chinese(text: str) -> bool:
    return bool(_CJK.search(text or ""))


def _en_tokens(text: str) -> list[str]:
    return [BOUNDARY if w in _PUNCT else w for w in _WORD.findall(text.lower())]


def _zh_tokens(text: str) -> list[str]:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokens = []
    for token in jieba.lcut(text):
        token = token.strip()
        if not token:
            continue
        if token in _PUNCT:
            tokens.append(BOUNDARY)
            continue
        # jieba keeps 不/没 glued to the next word (不好, 没解决): split them, so that negation applies.
        if len(token) > 1 and token[0] in "不没别未无" and token not in POSITIVE_ZH and token not in NEGATIVE_ZH:
            tokens.extend([token[0], token[1:]])
        else:
            tokens.append(token)
    return tokens


def tokens(text: str) -> list[str]:
    """Chinese runs through jieba, Latin words through the English tokenizer (mixed comments are common)."""
    out: list[str] = []
    for part in re.split(r"([\u4e00-\u9fff]+)", text or ""):
        if not part:
            continue
        out.extend(_zh_tokens(part) if _CJK.match(part) else _en_tokens(part))
    return out


def sentiment(text: str) -> float | None:
    """A score in [-1, 1] (negative to positive), or None for an empty text. See the module docstring."""
    if not text or not text.strip():
        return None
    total = 0.0
    hits = 0
    negation_left = 0  # tokens for which a negation seen before still applies
    for word in tokens(text):
        if word == BOUNDARY:
            negation_left = 0
            continue
        if word in NEGATIONS or word.endswith("n't"):
            negation_left = NEGATION_WINDOW
            continue
        weight = POSITIVE_EN.get(word) or POSITIVE_ZH.get(word) or 0
        if not weight:
            weight = -(NEGATIVE_EN.get(word) or NEGATIVE_ZH.get(word) or 0)
        if not weight:
            negation_left = max(0, negation_left - 1)
            continue
        if negation_left:  # a negation flips the next sentiment word only
            weight = -weight
            negation_left = 0
        total += weight
        hits += 1
    if not hits:
        return 0.0
    return max(-1.0, min(1.0, total / (hits + 1)))


def keywords(text: str, *, top: int = 5) -> list[str]:
    """Up to ``top`` keywords of ``text``: jieba's TF-IDF tags for Chinese, frequent non-stopwords for English."""
    if not text or not text.strip():
        return []
    found: list[str] = []
    if is_chinese(text):
        import jieba.analyse

        for tag in jieba.analyse.extract_tags(text, topK=top * 3):
            if tag not in ZH_STOPWORDS and tag not in NEGATIONS and not tag.isdigit() and len(tag) > 1:
                found.append(tag.lower())
    counts = Counter(
        w for w in _en_tokens(text) if w != BOUNDARY and w not in EN_STOPWORDS and w not in NEGATIONS and len(w) > 2
    )
    found.extend(word for word, _n in counts.most_common(top * 2) if word not in found)
    return found[:top]
