"""Finding the prepared answer to a question residents word their own way.

Words, not letters, carry a question's meaning: 「住民票の写しを取りたいんだけど」 and
「住民票がほしい」 share 住民票 and little else. So each prepared question and its other
phrasings are cut into content words with SudachiPy's core dictionary — both its long
units (mode C: 印鑑登録証明書) and its short ones (mode A: 印鑑 / 登録 / 証明 / 書), each
in its normalized form (引越し and 引っ越し meet, 取りたい is 取る), particles and
auxiliaries dropped — and a question is ranked against them with BM25 (Okapi, k1 1.2,
b 0.75), which weighs a rare word (戸籍) above a common one (手続き). Two more signals
keep the ranking honest: hiragana questions (やさしい日本語: 「じゅうみんひょう」) are read
by their readings in character pairs, and rapidfuzz compares the whole question with
the nearest phrasing so a typo still lands. English questions go through the English
phrasings with plain word matching. A question of several clauses often sets the scene
before it asks (「里帰り先で出生届を提出しましたが、児童手当はどこで申請すれば」): the words
said only in a clause ending in が / けど / ので / から, or in a sentence that asks nothing,
weigh half as much, as long as the ask itself names a topic. A prepared answer is more
than its best phrasing: what its texts hold together adds to that phrasing's score, and
a word no prepared question uses counts a little for the answers that say it.

What comes out is a `Found`: one answer when the best question covers most of what was
asked and clearly beats the next one, up to three choices when a few are close, or
nothing. Between the two, a question often names one of a few neighbours sharing a
topic (国民健康保険に加入 / 脱退, 児童手当の申請 / 支給日): a choice list there costs every
resident a tap although the best is usually right. So when the best leads its cluster,
holds most of what was asked, no neighbour holds more of it, and the cluster is small
enough to show whole (a bare マイナンバーカード names six: a choice), it is answered at once
and the close neighbours come with it (`Found.nearby`, 「こちらですか」 chips): a wrong
pick still costs one tap, as the list did. Such a narrow lead is trusted only when a second
view agrees: no other candidate, taken whole (its question, phrasings and answer text), may
hold more of the asked topic words (each weighed by its rarity, counted once) than the
leader does. A city's own question often asks a detail (「所得制限額を超えて…支給を受ける」)
that one phrasing of a neighbour happens to share (支給) while only the right answer's text
names the detail (所得制限); where the two views differ the choices are shown instead of a
confident wrong answer. The thresholds
were set on development sets of paraphrases and of questions real cities published
(bench/faq.py).
"""

from __future__ import annotations

import math
import re
import threading
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import jaconv

from bot.content.store import Content
from bot.lookup import normalize

from .entries import QUESTIONS, Entry, FaqContent, QuestionsFile

K1, B = 1.2, 0.75
CONFIDENT = 0.50     # best score from which one answer is given ...
MARGIN = 0.08        # ... when it leads the next question by this much,
CLEAR = (0.38, 0.14)  # or from this lower score, when it leads by this much (a long question, one topic),
COVERED = 0.25       # and only when it holds this much of the question's topic words
CHOICES_FROM = 0.30  # questions scoring this much are offered as choices (up to three)
MAX_CHOICES = 3
# the best of a small close cluster (all of it fits in the chips) is answered, its neighbours offered
# with it, from this score, when it leads by this much, holds this much of the question's topic
# words and no neighbour holds more
LEADS = (0.40, 0.02, 0.45)
NEAR = 0.15          # neighbours scoring within this of an answer given are offered with it
ASIDE = 0.5          # the weight of a word only said in a clause setting the scene (…ましたが、)
TOLD = 0.25           # a word no prepared question uses, said in a candidate's answer, counts this much there
UNION = 0.2          # how much of the topic words a prepared answer's other texts hold adds to its best one's score
WHOLE = 0.4          # how much the share of topic words a whole prepared answer holds scales its score

CONTENT_POS = {"名詞", "動詞", "形容詞", "形状詞", "副詞", "代名詞", "接頭辞", "接尾辞"}
# words too common in questions to a city hall to tell one question from another; よる
# (「郵送による」) only joins clauses in a city's formal wording, and 写し is how it names any
# certificate (住民票の写し, 戸籍の附票の写し)
STOP = {"する", "為る", "ある", "有る", "居る", "いる", "成る", "なる", "出来る", "できる", "良い", "いい", "こと", "事", "もの",
        "物", "方", "ため", "為", "何", "なに", "私", "僕", "自分", "これ", "それ", "あれ", "ここ", "そこ", "下さる", "くださる",
        "思う", "教える", "知る", "分かる", "わかる", "聞く", "たい", "欲しい", "ほしい", "お", "ご", "御", "様", "さん", "的",
        "市", "市役所", "役所", "場合", "今", "時", "とき", "よう", "様", "くれる", "貰う", "もらう", "言う",
        "他", "ほか", "の", "ん", "もう", "すぐ", "ちょっと", "どう", "どうやる", "やる", "みる", "見る", "おく",
        "よる", "因る", "写し",
        # as Sudachi normalizes the kana ones above in a sentence (すぐ is 直ぐ, くれる 呉れる), and
        # しまう (…てしまった), which only says it happened
        "直ぐ", "此処", "其処", "一寸", "呉れる", "此れ", "其れ", "彼れ", "遣る", "しまう", "仕舞う"}
# interrogatives keep their meaning (いつ / どこ / いくら tell questions apart), and so do 来る and
# 行く (引っ越してきた is moving in, 引っ越す moving out)
# words that ask *how*, *when*, *where* or *how much* but name no topic: a question
# matching a prepared one only in these (「墓地の申し込み」 and 「学童の申し込み」) is not
# about it. A question must share at least one other word with the one it is answered by.
GENERIC = {"いつ", "どこ", "いくら", "幾ら", "何時", "何日", "何月", "申し込み", "申し込む", "申込", "申請", "手続き", "届け出",
           "届出", "届け", "予約", "方法", "仕方", "必要", "要る", "受ける", "出す", "取る", "使う", "利用", "時間", "場所",
           "日程", "時期", "相談", "市民", "職員", "窓口", "持つ", "書く", "書き方", "可能", "大丈夫", "変更", "変える",
           "知る", "今年", "来年", "来月", "予定", "近く", "案内", "情報", "内容", "対象", "条件", "無料", "有料", "支払う",
           "払う", "手数料", "開く", "閉まる", "行ける", "行く", "来る", "見る", "探す", "欲しい", "頼む", "お願い", "御願い", "申す",
           "込む", "つく", "付く", "就く", "出る", "入る", "入れる", "いける", "分かる", "良い", "悪い", "駄目", "ダメ",
           "when", "where", "much", "apply", "application", "register", "procedure", "need", "time", "place", "fee",
           "open", "find", "pay", "cost", "help"}
EN_STOP = {"a", "an", "the", "i", "my", "me", "we", "our", "you", "your", "is", "are", "am", "be", "do", "does", "did",
           "can", "could", "should", "would", "will", "to", "of", "for", "in", "on", "at", "it", "its", "and", "or",
           "if", "with", "about", "there", "this", "that", "what", "how", "have", "has", "get", "want", "need",
           "please", "tell", "know", "city", "hall", "any", "some", "from", "by", "as", "so", "just", "then"}

_local = threading.local()


def _tokenizers():
    """A Sudachi tokenizer per thread (they are not safe to share), long and short units."""
    found = getattr(_local, "tokenizers", None)
    if found is None:
        from sudachipy import Dictionary, SplitMode

        dictionary = Dictionary(dict="core")
        found = _local.tokenizers = (dictionary.tokenizer(SplitMode.C), dictionary.tokenizer(SplitMode.A))
    return found


def is_english(text: str) -> bool:
    return not any(_japanese(ch) for ch in text)


def _japanese(ch: str) -> bool:
    return "\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" or "\uff66" <= ch <= "\uff9f"


@dataclass(frozen=True)
class Analysed:
    words: tuple[str, ...]  # content words, normalized
    grams: tuple[str, ...]  # character pairs of the reading (hiragana)
    folded: str             # normalize(text), for the fuzzy comparison
    things: frozenset[str] = frozenset()  # the words that name a thing: nouns, and the synonyms' words
    aside: frozenset[str] = frozenset()   # words only said in a clause setting the scene (…ましたが、 …ので、)

    @property
    def by_sound(self) -> bool:
        """Written in kana alone (やさしい日本語: 「じゅうみんひょう」): read by its reading's pairs."""
        return bool(self.grams) and not any(_kanji(ch) for ch in self.folded)


class Analyser:
    """Turns a text into what the index compares; synonyms fold to one word."""

    def __init__(self, synonyms: Iterable[Sequence[str]] = ()):
        self.synonyms: dict[str, str] = {}
        self.synonym_phrases: list[tuple[str, str]] = []
        for group in synonyms:
            canonical = normalize(group[0])
            for word in group:
                self.synonyms[normalize(word)] = canonical
                self.synonym_phrases.append((normalize(word), group[0]))
        self.synonym_phrases.sort(key=lambda pair: -len(pair[0]))
        self.canonical = frozenset(self.synonyms.values())  # 引っ越す, 亡くなる: verbs that name the topic

    def japanese(self, text: str) -> Analysed:
        text = unicodedata.normalize("NFKC", text)
        long_units, short_units = _tokenizers()
        words: list[str] = []
        things: set[str] = set()
        readings: list[str] = []
        scenes = _scenes(long_units.tokenize(text))
        asked: set[str] = set()
        for mode, tokenizer in (("C", long_units), ("A", short_units)):
            for m in tokenizer.tokenize(text):
                pos = m.part_of_speech()
                if mode == "C":
                    readings.append(m.reading_form() if pos[0] != "補助記号" else "")
                if pos[0] not in CONTENT_POS or pos[1] in ("数詞",) and mode == "A":
                    continue
                if pos[0] == "接尾辞" and mode == "C":
                    continue
                word = normalize(m.normalized_form())
                if not word or word in STOP or (len(word) == 1 and not _kanji(word)):
                    continue
                word = self.synonyms.get(word, word)
                words.append(word)
                if not any(b <= m.begin() < e for b, e in scenes):
                    asked.add(word)
                if pos[0] == "名詞" or word in self.canonical:
                    things.add(word)
        folded = normalize(text)
        for phrase, canonical in self.synonym_phrases:  # a synonym Sudachi cuts in two (マイナ保険証)
            if len(phrase) >= 2 and phrase in folded and self.synonyms[phrase] not in words:
                words.append(self.synonyms[phrase])
                things.add(self.synonyms[phrase])
        reading = normalize(jaconv.kata2hira("".join(readings)))
        grams = tuple(reading[i:i + 2] for i in range(len(reading) - 1)) or ((reading,) if reading else ())
        return Analysed(tuple(words), grams, folded, frozenset(things), frozenset(words) - asked)

    def english(self, text: str) -> Analysed:
        words = []
        for raw in re.findall(r"[a-z0-9]+", unicodedata.normalize("NFKC", text).casefold()):
            if raw in EN_STOP:
                continue
            word = _stem(raw)
            words.append(self.synonyms.get(raw, self.synonyms.get(word, word)))
        folded = normalize(text)
        for phrase, _ in self.synonym_phrases:  # "my number card", "family register"
            if phrase.isascii() and len(phrase) >= 6 and phrase in folded and self.synonyms[phrase] not in words:
                words.append(self.synonyms[phrase])
        return Analysed(tuple(words), (), " ".join(words), frozenset(words))


# what ends a clause that sets the scene rather than asks: 「…を提出しましたが、」「…なので、」
SCENE_ENDS = {"が", "けど", "けれど", "けれども", "ので", "から", "のに"}
ASKING = {"たい", "ほしい", "欲しい", "か", "?", "？"}  # a clause with these asks (…したいのですが、)


def _scenes(morphemes) -> list[tuple[int, int]]:
    """The clauses that set the scene rather than ask, as (begin, end) offsets: one ending in
    が / けど / ので / から (…を提出しましたが、) or a sentence that asks nothing (…できていません。),
    when more follows; a clause with たい or か asks (…したいのですが、). Their words still count,
    for less (`Analysed.aside`): 「出生届を提出しましたが、児童手当はどこで」 asks about 児童手当."""
    spans, begin, asking = [], 0, False
    items = list(morphemes)
    for i, m in enumerate(items):
        pos, surface = m.part_of_speech(), m.surface()
        if surface in ASKING or m.normalized_form() in ASKING:
            asking = True
        if not ((pos[1] == "接続助詞" and surface in SCENE_ENDS) or (pos[0] == "補助記号" and pos[1] == "句点")):
            continue
        if not asking and any(r.part_of_speech()[0] not in ("補助記号", "空白") for r in items[i + 1:]):
            spans.append((begin, m.end()))
        begin, asking = m.end(), False
    return spans


def _kanji(word: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in word)


def _stem(word: str) -> str:
    """Enough of an English stemmer for questions: certificates/certificate, moving/move."""
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: len(word) - len(suffix)] + keep
    return word


class BM25:
    def __init__(self, documents: Sequence[Sequence[str]]):
        self.lengths = [len(d) for d in documents]
        self.average = (sum(self.lengths) / len(documents)) if documents else 0.0
        self.postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for index, doc in enumerate(documents):
            for term, count in Counter(doc).items():
                self.postings[term].append((index, count))
        n = len(documents)
        self.idf = {t: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5)) for t, p in self.postings.items()}
        self.size = n

    def scores(self, query: Iterable[str], weights: dict[str, float] | None = None) -> dict[int, float]:
        out: dict[int, float] = defaultdict(float)
        for term in set(query):
            idf = self.idf.get(term)
            if idf is None:
                continue
            idf *= (weights or {}).get(term, 1.0)
            for index, count in self.postings[term]:
                norm = K1 * (1 - B + B * self.lengths[index] / (self.average or 1))
                out[index] += idf * count * (K1 + 1) / (count + norm)
        return out

    def ceiling(self, query: Iterable[str], weights: dict[str, float] | None = None) -> float:
        """What a document holding each known query word once, of average length, would
        score: the yardstick a score is measured against (0..~1)."""
        return sum(self.idf.get(t, 0.0) * (weights or {}).get(t, 1.0) for t in set(query)) or 1.0

    def weight(self, term: str) -> float:
        return self.idf.get(term, max(self.idf.values(), default=1.0))


@dataclass(frozen=True)
class Hit:
    entry: Entry
    score: float          # 0..1
    matched: str          # the prepared phrasing that came closest
    covered: float = 1.0  # share of the question's own topic words it holds (weighted)
    holds: float = 1.0    # the same for all its texts together, relative to the candidate holding most


@dataclass(frozen=True)
class Found:
    hits: tuple[Hit, ...] = ()
    confident: bool = False
    nearby: tuple[Hit, ...] = ()  # with an answer: the questions scoring close to it, offered as well
    others: tuple[Hit, ...] = ()  # with an answer: the next candidates, offered if the resident says it did not help

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.confident and self.hits else None

    @property
    def choices(self) -> tuple[Hit, ...]:
        return () if self.confident else self.hits[:MAX_CHOICES]


@dataclass
class _Side:
    """The documents of one language group (Japanese incl. やさしい日本語, or English)."""

    entries: list[int] = field(default_factory=list)  # document -> entry index
    texts: list[str] = field(default_factory=list)
    analysed: list[Analysed] = field(default_factory=list)
    words: BM25 | None = None
    grams: BM25 | None = None
    known: dict[int, frozenset[str]] = field(default_factory=dict)  # entry -> words of all its texts
    told: dict[int, frozenset[str]] = field(default_factory=dict)   # entry -> words of its answer
    whole: BM25 | None = None  # one document per entry: all its texts and its answer (the second view)


class Index:
    def __init__(self, entries: Sequence[Entry], analyser: Analyser):
        self.entries = list(entries)
        self.numbers = {entry.id: number for number, entry in enumerate(self.entries)}
        self.analyser = analyser
        self.sides = {"ja": _Side(), "en": _Side()}
        for number, entry in enumerate(self.entries):
            for group, text in entry.texts():
                side = self.sides[group]
                side.entries.append(number)
                side.texts.append(text)
                side.analysed.append(analyser.english(text) if group == "en" else analyser.japanese(text))
        for side in self.sides.values():
            known: dict[int, set[str]] = defaultdict(set)
            for number, analysed in zip(side.entries, side.analysed):
                known[number].update(analysed.words)
            side.known = {number: frozenset(words) for number, words in known.items()}
            side.words = BM25([a.words for a in side.analysed])
            side.grams = BM25([a.grams for a in side.analysed])
        for number, entry in enumerate(self.entries):
            self.sides["ja"].told[number] = frozenset(analyser.japanese(entry.answer.ja).words)
            if entry.answer.en:
                self.sides["en"].told[number] = frozenset(analyser.english(entry.answer.en).words)
        for side in self.sides.values():  # what each entry says anywhere; only presence counts there
            side.whole = BM25([sorted(side.known.get(n, frozenset()) | side.told.get(n, frozenset()))
                               for n in range(len(self.entries))])

    def search(self, text: str) -> Found:
        text = " ".join(text.split())[:300]
        if not normalize(text):
            return Found()
        group = "en" if is_english(text) else "ja"
        side = self.sides[group]
        if not side.texts:
            return Found()
        query = self.analyser.english(text) if group == "en" else self.analyser.japanese(text)
        if not query.words and not query.grams:
            return Found()
        by_entry: dict[int, tuple[float, int, float]] = {}
        for doc, (score, covered) in self._scores(side, query).items():
            entry = side.entries[doc]
            if score > by_entry.get(entry, (0.0, -1, 0.0))[0]:
                by_entry[entry] = (score, doc, covered)
        union = self._union(side, query, by_entry)
        by_entry = {entry: (score + UNION * max(union[entry] - covered, 0.0), doc, max(union[entry], covered))
                    for entry, (score, doc, covered) in by_entry.items()}
        holds = self._holds(side, query, by_entry)
        by_entry = {entry: (score * (1 - WHOLE + WHOLE * holds[entry]), doc, covered)
                    for entry, (score, doc, covered) in by_entry.items()}
        ranked = sorted(by_entry.items(), key=lambda item: -item[1][0])
        hits = tuple(Hit(self.entries[e], round(s, 3), side.texts[d], c, round(holds[e], 3)) for e, (s, d, c) in ranked
                     if s >= CHOICES_FROM)[:MAX_CHOICES]
        if not hits:
            return Found()
        best, others = hits[0], hits[1:]
        lead = best.score - (others[0].score if others else 0.0)
        confident = best.covered >= COVERED and (
            (best.score >= CONFIDENT and lead >= MARGIN) or (best.score >= CLEAR[0] and lead >= CLEAR[1]))
        cluster = sum(1 for _, (score, _, _) in ranked if score >= best.score - NEAR)
        leads = (best.score >= LEADS[0] and lead >= LEADS[1] and best.covered >= LEADS[2] and cluster <= MAX_CHOICES
                 and all(best.holds >= other.holds for other in others)) and self._agrees(side, query, best, by_entry)
        if not (confident or leads):
            return Found(hits)
        return Found(hits[:1], True, tuple(h for h in others if h.score >= best.score - NEAR), tuple(others))

    def _agrees(self, side: _Side, query: Analysed, best: Hit, candidates: Iterable[int]) -> bool:
        """Whether no other candidate, taken whole (all its texts and its answer), holds more of
        the asked topic words than `best` does (ties count for it). A question read by its sound
        (kana only) or naming no known topic has no second view."""
        whole = side.whole
        assert whole is not None
        topics = [t for t in query.words if t not in GENERIC and t in whole.idf]
        if not topics or query.by_sound:
            return True
        held: dict[int, float] = defaultdict(float)
        candidates = set(candidates)
        for term in set(topics):
            for number, _ in whole.postings[term]:
                if number in candidates:
                    held[number] += whole.idf[term]
        mine = held.get(self.numbers[best.entry.id], 0.0)
        return all(score <= mine + 1e-9 for score in held.values())

    def _holds(self, side: _Side, query: Analysed, by_entry: dict[int, tuple[float, int, float]]) -> dict[int, float]:
        """A city's question asks about one detail of a topic in several clauses (「郵送による住民票の
        写しの請求は」): its words are spread over a prepared question and its phrasings, so the
        best single phrasing of the wrong answer (「住民票の写しを取るには」) can outscore the right
        one. What a prepared answer knows is the union of its texts. Each candidate's score is
        scaled by the share of the question's topic words (rare ones weigh more; words no prepared
        question uses tell nothing) its union holds, relative to the candidate holding most (the
        share returned here, 0..1): an answer that never uses the detail asked (郵送) falls behind
        the one that does, and the best-holding candidate keeps its score, so the thresholds keep
        their meaning."""
        words_bm = side.words
        assert words_bm is not None
        topics = {t for t in query.words if t not in GENERIC and t in words_bm.idf}
        kana = query.by_sound
        if not topics or kana or len(by_entry) < 2:
            return {entry: 1.0 for entry in by_entry}
        aside = _aside(query, topics)
        weight = {t: min(words_bm.weight(t), 3.0) * aside.get(t, 1.0) for t in topics}
        held = {entry: sum(w for t, w in weight.items() if t in side.known.get(entry, ())) for entry in by_entry}
        most = max(held.values()) or 1.0
        return {entry: share / most for entry, share in held.items()}

    def _union(self, side: _Side, query: Analysed, by_entry: dict[int, tuple[float, int, float]]) -> dict[int, float]:
        """The share of the question's topic words (weighted as in `covered`) a prepared answer's
        texts hold together. Its best phrasing alone may hold less: 「市外のコンビニでも納付できますか」
        meets 「税金をコンビニで払いたい」 in コンビニ and 「納付書をなくした」 in 納付, so the best
        phrasing's score gets a part of what the others add (`UNION`) and the answer is taken to
        cover what all of them do."""
        words_bm = side.words
        assert words_bm is not None
        topics = set(query.words) - GENERIC
        kana = query.by_sound
        if not topics or kana:
            return {entry: c for entry, (_, _, c) in by_entry.items()}
        aside = _aside(query, {t for t in topics if t in words_bm.idf})
        weight = {t: min(words_bm.weight(t), 3.0) * aside.get(t, 1.0) for t in topics}
        total = sum(weight.values()) or 1.0
        return {entry: sum(w for t, w in weight.items() if t in side.known.get(entry, ())) / total for entry in by_entry}

    def _scores(self, side: _Side, query: Analysed) -> dict[int, tuple[float, float]]:
        """Per document, 0..1: how much of the question's meaning it covers (BM25 against the
        ceiling, with words the prepared questions never use counting against), the reading's
        character pairs for kana-heavy questions, and the whole-text likeness."""
        from rapidfuzz import fuzz  # here: the other services' questions (`citybot ask` one of them) never need it

        words_bm, grams_bm = side.words, side.grams
        assert words_bm is not None and grams_bm is not None
        asked = set(query.words)
        topics = asked - GENERIC
        aside = _aside(query, {t for t in topics if t in words_bm.idf})
        strange = {w: min(words_bm.weight(w), 3.0) * aside.get(w, 1.0) for w in asked if w not in words_bm.idf}
        unknown = sum(strange.values())
        ceiling = words_bm.ceiling(query.words, aside) + 0.5 * unknown
        word_scores = words_bm.scores(query.words, aside)
        gram_scores = grams_bm.scores(query.grams) if query.grams else {}
        gram_ceiling = grams_bm.ceiling(query.grams)
        candidates = set(word_scores) | {d for d, s in gram_scores.items() if s >= 0.3 * gram_ceiling}
        out = {}
        kana = query.by_sound
        for doc in candidates:
            if topics and not (topics & query.things & set(side.analysed[doc].words)) and \
                    not (kana and gram_scores.get(doc, 0.0) >= 0.5 * gram_ceiling):
                continue  # shares no thing the question names, only "how / when / where" or a verb: not about it
            told = {t: v for t, v in strange.items() if t in side.told.get(side.entries[doc], ())}
            w = min((word_scores.get(doc, 0.0) + TOLD * sum(told.values())) / ceiling, 1.0) if query.words else 0.0
            if query.words:  # and how much of the prepared question the question covers
                own = set(side.analysed[doc].words)
                w = 0.75 * w + 0.25 * (sum(words_bm.weight(t) for t in own & asked)
                                       / (sum(words_bm.weight(t) for t in own) or 1.0))
            g = min(gram_scores.get(doc, 0.0) / gram_ceiling, 1.0) if query.grams else 0.0
            f = fuzz.token_set_ratio(query.folded, side.analysed[doc].folded) / 100.0
            score = 0.6 * w + 0.25 * g + 0.15 * f if query.grams else 0.8 * w + 0.2 * f
            covered = 1.0
            if topics and not kana:  # the question's own topics met (「図書館の…カード」 is not the My Number card)
                met = sum(min(words_bm.weight(t), 3.0) * aside.get(t, 1.0) for t in topics & set(side.analysed[doc].words))
                met += TOLD * sum(v for t, v in told.items() if t in topics)
                covered = met / sum(min(words_bm.weight(t), 3.0) * aside.get(t, 1.0) for t in topics)
            out[doc] = (score, covered)
        return out


def _aside(query: Analysed, topics: set[str]) -> dict[str, float]:
    """The weight of the words said only in the scene-setting clauses: less, when the ask
    itself names a topic the prepared questions know (else the scene is all there is)."""
    if not query.aside or not (topics - query.aside):
        return {}
    return {word: ASIDE for word in query.aside}


_cache: dict[str, Index] = {}
_lock = threading.Lock()


def index_for(content: Content) -> Index:
    """The index of this content version, built once (when the content loads: Intent warm)."""
    with _lock:
        found = _cache.get(content.version)
        if found is None:
            _cache.clear()
            words: FaqContent = content["faq"]
            questions: QuestionsFile = content[QUESTIONS]
            found = _cache[content.version] = Index(questions.questions, Analyser(words.synonyms))
        return found
