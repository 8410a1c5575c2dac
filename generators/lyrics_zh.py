"""Mandarin lyric lines to syllables: one per Chinese character, pinyin with tone numbers.

Readings come from ``pypinyin`` on whole runs of characters, so phrase context picks the
reading of characters with several (还有 hái / 还书 huán, 长大 zhǎng / 长江 cháng, 音乐 yuè /
快乐 lè, 重要 zhòng / 重新 chóng); ``CONTEXT_READINGS`` fixes the readings its phrase table
misses in lyrics (还钱 / 还了 huán, 你得走 děi, 猜中了 zhòng, 一曲 qǔ, 重重的 zhòng, 落下 luò,
一行泪 háng, 睡不着觉 zháo jiào, 很长 cháng, 弹琴 tán, 重来 chóng) and 地 after an adverb or a
doubled character is the particle de (慢慢地). Tones are kept for the speech engine; the melody
decides the sung pitch. Phonemes are ``(initial, final+tone)`` with the tone as a digit 1-5
(5 = neutral), e.g. ``("zh", "ong1")``; a syllable without initial has just the final
(``("ai4",)``). Initial and final concatenate to the pinyin syllable (``"zhong1"``).
"""

from __future__ import annotations

import re

from representations.leadsheet import Syllable

from .lyrics import SPOKEN_SYMBOLS_ZH, normalize_text
from .lyrics_numbers import number_zh

# 儿 after these characters is read as erhua (a final -r on the previous syllable)
ERHUA_WORDS = frozenset("这儿 那儿 哪儿 点儿 会儿 玩儿 事儿 花儿 味儿 劲儿 空儿 样儿 边儿 词儿 歌儿 门儿 伴儿 "
                        "块儿 个儿 头儿 片儿 圈儿 眼儿 面儿 曲儿 调儿 馅儿 盖儿 趣儿 角儿 天儿".split())
# readings pypinyin's phrase table gets wrong in lyrics: (pattern, {offset in the match: (initial, final)})
CONTEXT_READINGS = [(re.compile(p), r) for p, r in (
    ("还(?=[钱债书给清款])|(?<=[我来要想])还(?=你)|还(?=了(?![得解]))", {0: ("h", "uan2")}),
    # 得 "must" before a verb, after its subject or an adverb (你得走, 还得努力; not 得到)
    ("(?<=[我你他她它们就还都也总])得(?=[走去做说要回离赶跟学先再努面承放等])", {0: ("d", "ei3")}),
    ("(?<=[猜射选看打击])中|(?<![心空家梦手眼水雨风雾怀之其途])中(?=[了奖毒])", {0: ("zh", "ong4")}),
    ("(?<=[一首奏唱支])曲(?![折线径])|曲(?=终)", {0: ("q", "u3")}),
    ("重重(?=[的地])", {0: ("zh", "ong4"), 1: ("zh", "ong4")}),  # heavily (困难重重 stays chóng)
    ("落(?=下)", {0: ("l", "uo4")}),  # 泪落下 luò, not là (left behind)
    ("(?<=[一二两三几千万数])行(?=[泪诗字])", {0: ("h", "ang2")}),  # 一行泪 háng (一行人 stays xíng)
    ("露(?=[出面脸馅])", {0: ("l", "ou4")}),  # 露出 lòu (露水 stays lù)
    ("睡不着|找不着", {2: ("zh", "ao2")}),
    ("(?<=[睡着好午])觉", {0: ("j", "iao4")}),
    ("(?<=[很太多好最更真么])长(?![大辈官])", {0: ("ch", "ang2")}),
    ("数(?=[一着不星过])", {0: ("sh", "u3")}),
    ("弹(?=[琴吉奏唱起着首一])", {0: ("t", "an2")}),
    ("重(?=[来逢温回生返演叠播])", {0: ("ch", "ong2")}),
)]
# adverbs that take 地 (de, "-ly") before a verb; a doubled character before 地 does too (慢慢地)
ADVERBS_DE = frozenset("安静 温柔 默默 努力 不停 拼命 认真 勇敢 疯狂 自由 大声 用力 小心 轻声 "
                       "静静 悄悄 轻轻 深深 紧紧 渐渐 远远 偷偷 狠狠 傻傻 缓缓 淡淡 久久 慢慢 好好 一步步 一次次".split())
# measure words before which 2 is read 两 (两个人, 两点), not 二
MEASURE_WORDS = "个只次天年位把张条件首本支岁点双对种场颗句步片朵"
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\u3007\uf900-\ufaff"
# a Latin word ends where Chinese characters begin ("OK包好", "you你爱me"): letters other than Han
_RUN = re.compile(rf"(?P<han>[{_HAN}]+)|(?P<latin>[^\W\d_{_HAN}]+(?:'[^\W\d_{_HAN}]+)*)")


def _readings(run: str) -> list[tuple[str, str]]:
    """(initial, final+tone) for each character of a run of Chinese characters."""
    from pypinyin import Style, pinyin

    initials = pinyin(run, style=Style.INITIALS, strict=False, errors=lambda x: [""] * len(x))
    finals = pinyin(run, style=Style.FINALS_TONE3, strict=False, neutral_tone_with_five=True,
                    errors=lambda x: ["a5"] * len(x))
    out = []
    for ini, fin in zip(initials, finals):
        i, f = ini[0], fin[0]
        if not re.fullmatch(r"[a-zü]+[1-5]", f):
            f = "a5"
        out.append((i, f))
    for pattern, readings in CONTEXT_READINGS:
        for m in pattern.finditer(run):
            for offset, reading in readings.items():
                out[m.start() + offset] = reading
    for k, ch in enumerate(run):
        before = run[max(0, k - 3):k]
        if ch == "地" and 0 < k < len(run) - 1 and (
                (k >= 2 and run[k - 1] == run[k - 2]) or any(before.endswith(a) for a in ADVERBS_DE)):
            out[k] = ("d", "e5")
    return out


def _words(run: str) -> list[str]:
    from pypinyin.seg.mmseg import seg

    return list(seg.cut(run))


def _stress(final: str, pos: int) -> int:
    """Neutral tone 0; a word's first syllable 1 (it takes the beat when sung); others 2."""
    if final.endswith("5"):
        return 0
    return 1 if pos == 0 else 2


def _han_syllables(run: str, first_word: int) -> tuple[list[Syllable], int]:
    readings = _readings(run)
    sylls: list[Syllable] = []
    word_index = first_word
    k = 0
    for word in _words(run):
        added = False
        for pos, ch in enumerate(word):
            ini, fin = readings[k]
            k += 1
            prev_char = run[k - 2] if k >= 2 else ""
            if ch == "儿" and sylls and prev_char and (fin == "er5" or prev_char + ch in ERHUA_WORDS):
                last = sylls[-1]
                phon = list(last.phonemes)
                phon[-1] = phon[-1][:-1] + "r" + phon[-1][-1]
                sylls[-1] = Syllable(last.text + ch, tuple(phon), last.stress, last.word, last.word_start)
                continue
            phon = (ini, fin) if ini else (fin,)
            sylls.append(Syllable(ch, phon, _stress(fin, pos), word_index, not added))
            added = True
        word_index += added
    return sylls, word_index


def _numbers_zh(text: str) -> str:
    """Digits read as Chinese numerals the way they are said: 100% → 百分之一百, a year digit by
    digit (2024年 → 二零二四年), 2 before a measure word → 两 (两个), others by
    :func:`~generators.lyrics_numbers.number_zh`."""
    text = re.sub(r"(\d+)\s*[%％]", lambda m: "百分之" + number_zh(m.group(1)), text)
    text = re.sub(r"(?<!\d)(\d{4})(?=\s*年)", lambda m: "".join(number_zh(d) for d in m.group(1)), text)
    text = re.sub(rf"(?<![\d第])2(?=\s*[{MEASURE_WORDS}])", "两", text)  # 第2次 stays 第二次
    return re.sub(r"\d+", lambda m: number_zh(m.group(0)), text)


def syllabify_line_zh(text: str) -> list[Syllable]:
    """Split a Mandarin lyric line into sung syllables, one per Chinese character.

    Latin words are read by the English syllabifier, digits as Chinese numerals, erhua
    (花儿, 一会儿) merges 儿 into the previous syllable, punctuation is dropped.

    Returns
    -------
    list of Syllable
        ``phonemes`` = (initial, final with tone digit), initial left out when empty.
    """
    from .lyrics_en import syllabify_line_en

    text = normalize_text(text)
    text = _numbers_zh(text)
    for sym, spoken in SPOKEN_SYMBOLS_ZH.items():
        text = text.replace(sym, spoken)
    out: list[Syllable] = []
    word_index = 0
    for m in _RUN.finditer(text):
        if m.group("han"):
            sylls, word_index = _han_syllables(m.group("han"), word_index)
            out += sylls
        else:
            english = syllabify_line_en(m.group("latin"))
            for s in english:
                out.append(Syllable(s.text, s.phonemes, s.stress, word_index + s.word, s.word_start))
            if english:
                word_index += english[-1].word + 1
    return out
