"""Ranked search over the catalogue in the field's own words: abbreviations, synonyms and typos.

Text is normalised (NFKC, casefold, µ/μ -> mu, accents and punctuation dropped, a light plural stem); every
phrase of one small table of the field's abbreviations and synonyms (SYNONYMS) adds a concept token, so "EoS",
"PL condition", "µP", "muP" and "uP" find the results that spell the idea out, and never match its words one
by one. A result's score is how much of the query it covers (IDF-weighted, from scikit-learn's TF-IDF of words
and word pairs: whole words only, so a short token never matches inside a longer word), ranked further by
word TF-IDF and character n-gram (char_wb 2-4) similarity. Unknown query words are corrected to vocabulary
words found by character n-grams and confirmed letter by letter ("grokin", "doubel descent").
"""
from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher
from itertools import pairwise

import numpy as np
import pandas as pd

from atlas_viz.core.names import SEARCH_FIELDS

SYNONYMS: tuple[tuple[str, ...], ...] = (
    # Each group holds phrases that name one idea; the first is the one every variant is expanded to.
    ("edge of stability", "eos"),
    ("polyak lojasiewicz", "pl", "pl condition", "pl inequality", "lojasiewicz"),
    ("maximal update parameterization", "mup", "mu p", "maximal update parametrization", "tensor program"),
    ("neural tangent kernel", "ntk", "tangent kernel"),
    ("neural network gaussian process", "nngp", "gaussian process limit"),
    ("sharpness aware minimization", "sam", "sharpness aware"),
    ("double descent", "dd", "peaking phenomenon"),
    ("grokking", "grok", "delayed generalization"),
    ("lottery ticket", "lth", "winning ticket"),
    ("neural collapse", "nc"),
    ("feature learning", "rich regime", "rich training", "active regime"),
    ("lazy training", "lazy regime", "kernel regime", "lazy"),
    ("mean field", "mean field limit", "mf"),
    ("scaling law", "neural scaling", "compute optimal", "chinchilla"),
    ("gradient noise", "sgd noise", "stochastic gradient noise", "minibatch noise"),
    ("stochastic gradient descent", "sgd"),
    ("gradient descent", "gd"),
    ("gradient flow", "gf", "continuous time limit"),
    ("learning rate", "lr", "step size"),
    ("batch size", "minibatch size", "bs"),
    ("batch normalization", "batchnorm", "bn", "batch norm"),
    ("layer normalization", "layernorm", "ln", "layer norm"),
    ("weight decay", "wd", "l2 regularization"),
    ("implicit bias", "implicit regularization"),
    ("spectral bias", "frequency principle", "f principle"),
    ("flat minima", "flatness", "wide minima"),
    ("mode connectivity", "lmc", "linear mode connectivity"),
    ("random matrix theory", "rmt"),
    ("dynamical mean field theory", "dmft"),
    ("in context learning", "icl"),
    ("large language model", "llm"),
    ("vision transformer", "vit"),
    ("convolutional network", "cnn", "convnet", "convolutional neural network"),
    ("recurrent network", "rnn", "lstm"),
    ("residual network", "resnet", "skip connection"),
    ("multilayer perceptron", "mlp", "fully connected network"),
    ("graph neural network", "gnn"),
    ("information bottleneck", "ib"),
    ("out of distribution", "ood", "distribution shift"),
    ("reinforcement learning", "rl"),
    ("self supervised learning", "ssl", "contrastive learning"),
    ("knowledge distillation", "kd", "distillation"),
    ("mixture of experts", "moe"),
    ("benign overfitting", "harmless interpolation"),
    ("adversarial example", "adversarial robustness", "adversarial attack"),
    ("catapult phase", "catapult"),
    ("hyperparameter transfer", "mutransfer", "mu transfer"),
    ("pac bayes", "pac bayesian"),
    ("vc dimension", "vapnik chervonenkis"),
    ("teacher student", "student teacher"),
    ("deep linear network", "dln", "linear network"),
    ("infinite depth", "deep limit"),
)
EXPANSIONS: dict[str, tuple[str, ...]] = {
    # One-way: a query phrase also looks for related, narrower phrasing (not the other way round).
    "infinite width": ("mean field", "large width", "wide network", "width limit"),
    "wide network": ("infinite width", "large width"),
    "overparameterization": ("overparameterized", "interpolation"),
    "generalization gap": ("generalization", "test error"),
    "adam": ("adaptive optimizer", "adaptive"),
}
CASE_SENSITIVE: dict[str, str] = {"uP": "mup", "muP": "mup", "μP": "mup", "µP": "mup"}
"""Spellings whose meaning depends on case, read before casefolding ('uP' is µP; 'up' is a word)."""

STOP_WORDS = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "in", "into", "is", "it", "its",
    "of", "on", "or", "over", "that", "the", "their", "this", "to", "under", "with", "without", "which", "while",
    "when", "where", "than", "then", "these", "those", "we", "our", "can", "also", "via", "such"))
"""A short list on purpose: general English lists drop words the field uses ('top', 'full', 'system')."""
_CHARS = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "æ": "ae", "œ": "oe", "ı": "i", "μ": "mu", "µ": "mu",
                        "∞": " infinite ", "×": " "})
_WORD = re.compile(r"[a-z0-9]+")
_LETTER_DIGIT = re.compile(r"(?<=[a-z])(?=[0-9])|(?<=[0-9])(?=[a-z])")
MIN_CHAR_TOKEN = 4
"""Query words shorter than this match whole words only (no character n-grams, no typo correction)."""
MAX_QUERY_CHARS = 300
"""A longer query is cut here (a search is a few words; a pasted page should not cost seconds)."""
SEARCH_HIGHLIGHT = 5
"""How many of the best hits the map rings and zooms to."""
TYPO_CANDIDATES = 8
"""How many vocabulary words nearest in character n-grams are compared letter by letter with a typo."""


def _stem(word: str) -> str:
    """A light plural stem: 'laws' -> 'law', 'theories' -> 'theory' (applied to texts and queries alike)."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def normalise(text: object) -> str:
    """Lowercase words separated by single spaces: NFKC, casefold, µ -> mu, accents and punctuation dropped."""
    raw = "" if text is None or (isinstance(text, float) and np.isnan(text)) else str(text)
    raw = " ".join(CASE_SENSITIVE.get(tok, tok) for tok in raw.split())
    s = unicodedata.normalize("NFKC", raw).casefold().translate(_CHARS)
    if not s.isascii():  # accents off: é -> e
        s = "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))
    s = _LETTER_DIGIT.sub(" ", s)
    return " ".join(_stem(w) for w in _WORD.findall(s))


_GROUPS: dict[str, tuple[str, ...]] = {normalise(g[0]).replace(" ", ""): tuple(normalise(p) for p in g) for g in SYNONYMS}
"""Concept token (the canonical phrase without spaces) -> the normalised phrases that name it."""
_ONE_WAY = {normalise(k).replace(" ", ""): tuple(normalise(v).replace(" ", "") for v in vals)
            for k, vals in EXPANSIONS.items()}
for _phrase in sorted({normalise(p) for k, v in EXPANSIONS.items() for p in (k, *v)}
                      - {p for g in _GROUPS.values() for p in g}):
    _GROUPS[_phrase.replace(" ", "")] = (_phrase,)
_MULTIWORD = frozenset(c for c, g in _GROUPS.items() if " " in g[0])
"""Concept tokens that are not words themselves (left out of the vocabulary typos are corrected to)."""
_PHRASES = sorted(((p, c) for c, g in _GROUPS.items() for p in g), key=lambda pc: (-len(pc[0].split()), pc[0]))
"""(phrase, concept) pairs, longest phrases first, so 'pl condition' is read before 'pl'."""
SEP = " | "


def analyse(text: str) -> list[str]:
    """Words and word pairs of each ' | '-separated segment (pairs never span two segments), stop words out."""
    terms: list[str] = []
    for seg in text.split("|"):
        words = [w for w in seg.split() if w not in STOP_WORDS]
        terms += words + [f"{a} {b}" for a, b in pairwise(words)]
    return terms


_BY_FIRST_WORD: dict[str, list[tuple[str, str]]] = {}
for _phrase, _concept in _PHRASES:
    _BY_FIRST_WORD.setdefault(_phrase.split()[0], []).append((_phrase, _concept))


def concepts_in(norm: str) -> list[str]:
    """Concept tokens of the synonym groups that ``norm`` (normalised text) mentions, longest phrases first."""
    padded, words = f" {norm} ", set(norm.split())
    found = [(p, c) for w in words for p, c in _BY_FIRST_WORD.get(w, ()) if f" {p} " in padded]
    return list(dict.fromkeys(c for p, c in sorted(found, key=lambda pc: (-len(pc[0].split()), pc[0]))))


def result_text(row: pd.Series | dict) -> str:
    """The searchable text of one result: id, aliases (twice), title, claim, authors and notes, normalised,
    then a concept token for every synonym group each of them mentions (segments separated by ' | ')."""
    segments, found = [], []
    for col in SEARCH_FIELDS:
        val = row.get(col)
        vals = list(val) if isinstance(val, (list, tuple)) else [val]
        if col == "id":
            vals = [str(v).replace("_", " ") for v in vals if v]
        texts = [normalise(v) for v in vals] * (2 if col == "aliases" else 1)
        segments += texts
        if col != "authors":  # names are not abbreviations: Sam McCandlish is no SAM
            found += [c for t in texts for c in concepts_in(t)]  # counted per field: a title mention weighs more
    return SEP.join(segments + found)


def parse_query(norm: str) -> tuple[list[tuple[str, ...]], str]:
    """The parts a result should contain, each a tuple of alternative terms (a synonym concept with its
    one-way expansions, or a word), and the query's text for the cosine (segments separated by ' | ')."""
    text, parts = f" {norm} ", []
    for phrase, c in _PHRASES:
        if f" {phrase} " in text:
            text = text.replace(f" {phrase} ", " | ")
            if all(c != part[0] for part in parts):
                parts.append((c, *_ONE_WAY.get(c, ())))
    words = [w for w in " ".join(text.split("|")).split() if w not in STOP_WORDS]
    parts += [(w,) for w in dict.fromkeys(words)]
    # One-way expansions widen what matches (coverage) but not the ranking: what was asked for ranks first.
    return parts, SEP.join([text.strip(" |"), *(part[0] for part in parts if len(part) > 1 or part[0] in _GROUPS)])


class SearchIndex:
    """A ranked search over a results frame (fit once per catalogue; scikit-learn style).

    A result's score (0..1) is its coverage of the query (the IDF-weighted share of the query's parts it
    contains: words, or synonym concepts with their expansions) times a factor from 0.6 to 1 for how
    central those words are to it (word TF-IDF cosine) and how alike its longer words are (character
    n-gram cosine). A hit needs ``min_score`` and at least ``relative`` times the best hit's score; an
    unknown query word of at least MIN_CHAR_TOKEN letters stands for the vocabulary words nearest to it in
    character n-grams whose spelling is at least ``typo_similarity`` alike.
    """

    def __init__(self, *, min_score: float = 0.2, relative: float = 0.4, typo_similarity: float = 0.8,
                 rank_weights: tuple[float, float] = (0.25, 0.15)) -> None:
        self.min_score = min_score
        self.relative = relative
        self.typo_similarity = typo_similarity
        self.rank_weights = rank_weights

    def fit(self, results: pd.DataFrame) -> SearchIndex:
        """Learn the vocabularies and document vectors of ``results`` (needs an ``id`` column)."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.ids_ = results["id"].astype(str).to_numpy() if len(results) else np.array([], dtype=object)
        docs = [result_text(r) for r in results.to_dict("records")]
        self.word_vectorizer_ = TfidfVectorizer(analyzer=analyse, sublinear_tf=True)
        self.char_vectorizer_ = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)
        self.vocab_vectorizer_ = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4))
        if not docs:
            return self
        self.word_matrix_ = self.word_vectorizer_.fit_transform(docs)
        self.presence_ = (self.word_matrix_ > 0).tocsc()
        # Character n-grams of each distinct word once: a third of the text to read, the same n-grams.
        self.char_matrix_ = self.char_vectorizer_.fit_transform([" ".join(set(d.replace("|", " ").split()))
                                                                 for d in docs])
        self.vocabulary_ = np.array(sorted(w for w in self.word_vectorizer_.vocabulary_
                                           if " " not in w and w not in _MULTIWORD), dtype=str)
        self.vocab_matrix_ = self.vocab_vectorizer_.fit_transform(self.vocabulary_)
        return self

    def corrections(self, norm_query: str) -> dict[str, list[str]]:
        """Query words of at least MIN_CHAR_TOKEN letters that are not in the vocabulary -> the vocabulary
        words they are probably a typo of: the nearest by character n-grams, kept when their spelling is at
        least ``typo_similarity`` alike (difflib's ratio), best first, at most two."""
        known = self.word_vectorizer_.vocabulary_
        unknown = [w for w in dict.fromkeys(norm_query.split())
                   if len(w) >= MIN_CHAR_TOKEN and w not in known and w not in STOP_WORDS]
        if not unknown or not len(self.vocabulary_):
            return {}
        # the big matrix on the left: (vocab x grams) @ (grams x queries) converts only the queries' small matrix
        sims = (self.vocab_matrix_ @ self.vocab_vectorizer_.transform(unknown).T).toarray().T
        out = {}
        for word, row in zip(unknown, sims):
            near = [str(self.vocabulary_[i]) for i in np.argsort(-row, kind="stable")[:TYPO_CANDIDATES] if row[i] > 0]
            alike = sorted(((SequenceMatcher(None, word, c).ratio(), c) for c in near), reverse=True)
            if kept := [c for ratio, c in alike[:2] if ratio >= self.typo_similarity]:
                out[word] = kept
        return out

    def scores(self, query: str) -> np.ndarray:
        """The relevance of every fitted result to ``query``, from 0 (unrelated) to 1."""
        norm = normalise(str(query)[:MAX_QUERY_CHARS])
        if not norm or not len(self.ids_):
            return np.zeros(len(self.ids_))
        fixes = self.corrections(norm)
        parts, text = parse_query(" ".join(fixes[w][0] if w in fixes else w for w in norm.split()))
        alternatives = {near[0]: tuple(near) for near in fixes.values()}
        coverage = self._coverage([alternatives.get(p[0], p) if len(p) == 1 else p for p in parts])
        if not coverage.any():
            return coverage
        word = (self.word_matrix_ @ self.word_vectorizer_.transform([text]).T).toarray().ravel()
        long_words = " ".join(w for w in norm.split() if len(w) >= MIN_CHAR_TOKEN and w not in STOP_WORDS)
        w_word, w_char = self.rank_weights
        if not long_words:  # only short words: nothing to compare letter by letter
            return coverage * (1 - w_word - w_char + (w_word + w_char) * _relative(word))
        char = (self.char_matrix_ @ self.char_vectorizer_.transform([long_words]).T).toarray().ravel()
        return coverage * (1 - w_word - w_char + w_word * _relative(word) + w_char * _relative(char))

    def _coverage(self, parts: list[tuple[str, ...]]) -> np.ndarray:
        """IDF-weighted share of the query's parts each result contains (any alternative of a part counts)."""
        vocab, idf = self.word_vectorizer_.vocabulary_, self.word_vectorizer_.idf_
        total, got = 0.0, np.zeros(len(self.ids_))
        for part in parts:
            cols = [vocab[t] for t in part if t in vocab]
            weight = float(idf[cols].max()) if cols else float(idf.max())  # an unknown word counts as rare
            total += weight
            if cols:
                got += weight * (self.presence_[:, cols].sum(axis=1).A1 > 0)
        return got / total if total else got

    def search(self, query: str, top: int | None = None) -> pd.DataFrame:
        """Results relevant to ``query``, best first: a frame with columns ``id`` and ``score`` (0..1)."""
        score = self.scores(query)
        best = float(score.max()) if len(score) else 0.0
        keep = np.flatnonzero((score >= self.min_score) & (score >= self.relative * best))
        order = keep[np.argsort(-score[keep], kind="stable")][:top]
        return pd.DataFrame({"id": self.ids_[order].astype(object), "score": np.round(score[order], 4)})


def _relative(values: np.ndarray) -> np.ndarray:
    top = float(values.max()) if len(values) else 0.0
    return values / top if top > 0 else values


def rank_results(results: pd.DataFrame, query: str, index: SearchIndex | None = None) -> pd.DataFrame:
    """The results that match ``query``, best first, with a ``score`` column (a new frame).

    ``index`` is a SearchIndex fitted on a catalogue holding these results (fitted here when not given).
    """
    index = index if index is not None else SearchIndex().fit(results)
    hits = index.search(query)
    hits = hits[hits["id"].isin(set(results["id"]))]
    pos = pd.Series(np.arange(len(results)), index=results["id"].to_numpy())
    out = results.iloc[pos[hits["id"]].to_numpy()].copy()
    out["score"] = hits["score"].to_numpy()
    return out


def search_hits(ranked: pd.DataFrame, opened: str | None = None, top: int = SEARCH_HIGHLIGHT) -> list[str]:
    """Ids the map rings and zooms to: the ``top`` best of ``ranked`` (best first), and the opened result
    when it is among them further down (so opening the 8th hit from the catalogue does not zoom past it)."""
    hits = [str(i) for i in ranked["id"].iloc[:top]]
    if opened and opened not in hits and opened in set(ranked["id"]):
        hits.append(opened)
    return hits
