"""Reading style tags — free text or a list, English or Chinese — into a :class:`Style`.

The prompt structure of this field (style + emotion + instruments + rhythm + vocals, e.g.
"warm acoustic pop, female vocals, 92 BPM" or "流行, 钢琴, 女声") is read word by word: every
known word sets one attribute, and the words that meant nothing are kept in ``unknown`` so the
user can be told.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

GENRES = ("pop", "rock", "ballad", "folk", "jazz", "electronic", "dance", "hiphop", "lofi", "classical",
          "country", "blues", "latin", "rnb", "waltz", "cinematic")

# keyword -> (attribute, value). Longest keywords are tried first, so "electric guitar" wins
# over "guitar". Chinese words follow the seeds' prompt tables.
_WORDS: dict[str, tuple[str, str]] = {}


def _add(attr: str, value: str, *words: str) -> None:
    for w in words:
        _WORDS[w.lower()] = (attr, value)


for g in GENRES:
    _add("genre", g, g)
_add("genre", "pop", "流行", "synthpop", "synth-pop", "k-pop", "kpop", "j-pop", "c-pop", "mandopop", "indie pop")
_add("genre", "rock", "摇滚", "punk", "grunge", "indie rock", "alternative", "metal")
_add("genre", "ballad", "抒情", "情歌", "power ballad", "慢歌")
_add("genre", "folk", "民谣", "acoustic folk", "singer-songwriter", "indie folk")
_add("genre", "jazz", "爵士", "swing", "bossa nova", "bossa", "smooth jazz")
_add("genre", "electronic", "电子", "edm", "synthwave", "electro", "techno", "trance", "ambient")
_add("genre", "dance", "舞曲", "disco", "house", "club")
_add("genre", "hiphop", "hip-hop", "hip hop", "rap", "trap", "嘻哈", "说唱")
_add("genre", "lofi", "lo-fi", "lo fi", "chillhop", "低保真")
_add("genre", "classical", "古典", "orchestral", "baroque")
_add("genre", "cinematic", "epic", "soundtrack", "film score", "史诗", "电影")
_add("genre", "country", "乡村", "bluegrass", "americana")
_add("genre", "blues", "布鲁斯", "蓝调")
_add("genre", "latin", "拉丁", "reggaeton", "salsa")
_add("genre", "rnb", "r&b", "soul", "neo-soul", "节奏布鲁斯")
_add("genre", "waltz", "华尔兹", "圆舞曲")
_add("genre", "chinese", "中国风", "古风", "chinese traditional")

_add("mood", "happy", "happy", "upbeat", "cheerful", "joyful", "bright", "uplifting", "fun", "playful",
     "欢快", "快乐", "开心", "阳光", "轻快")
_add("mood", "sad", "sad", "melancholic", "melancholy", "sorrowful", "heartbroken", "lonely", "bittersweet",
     "悲伤", "忧郁", "伤感", "难过", "孤独")
_add("mood", "romantic", "romantic", "love", "tender", "sweet", "浪漫", "甜蜜")
_add("mood", "energetic", "energetic", "passionate", "powerful", "driving", "anthemic", "intense", "激昂", "热血", "激情")
_add("mood", "gentle", "gentle", "warm", "soft", "calm", "chill", "relaxed", "dreamy", "mellow", "温柔", "温暖", "轻柔", "放松")
_add("mood", "dark", "dark", "horror", "horrifying", "ominous", "恐怖", "黑暗")
_add("mood", "mysterious", "mysterious", "mystical", "神秘")
_add("mood", "tense", "tense", "suspense", "紧张")
_add("mood", "peaceful", "peaceful", "serene", "tranquil", "nostalgic", "宁静", "平静", "怀旧")

_add("tempo", "fast", "fast", "quick", "uptempo", "up-tempo", "快速", "快节奏", "accelerating", "渐快")
_add("tempo", "slow", "slow", "downtempo", "slow tempo", "慢速", "慢节奏", "decelerating", "渐慢", "dragging", "拖延")
_add("tempo", "medium", "medium", "mid-tempo", "midtempo", "moderate", "中等", "中速", "steady", "稳定",
     "free", "自由", "jumpy", "跳跃", "hesitant", "犹豫", "groovy", "bouncy")

_add("vocal", "female", "female vocals", "female vocal", "female voice", "female", "woman", "女声", "女")
_add("vocal", "male", "male vocals", "male vocal", "male voice", "male", "man", "男声", "男")
_add("vocal", "child", "children's vocals", "child vocals", "child", "kids", "童声")
_add("vocal", "choir", "choir", "合唱")
# voice types name a preset (voice.presets): "soprano vocals" is sung by the soprano, 男高音 by the tenor
VOICE_TYPES = ("soprano", "alto", "tenor", "joe")
_add("vocal", "soprano", "soprano", "soprano vocals", "soprano voice", "女高音")
_add("vocal", "alto", "alto", "alto vocals", "alto voice", "mezzo", "mezzo-soprano", "contralto", "女中音", "女低音")
_add("vocal", "tenor", "tenor", "tenor vocals", "tenor voice", "男高音")
_add("vocal", "joe", "baritone", "baritone vocals", "baritone voice", "bass vocals", "bass voice", "男中音", "男低音")
_add("vocal", "child", "little girl", "little boy", "小女孩", "小男孩", "儿童")
_add("vocal", "soprano", "girl", "girl vocals", "girl voice", "女孩", "少女")  # young: light and high
_add("vocal", "tenor", "boy", "boy vocals", "boy voice", "男孩", "少年")
_add("instrument", "saxophone", "soprano sax", "alto sax", "tenor sax", "baritone sax", "soprano saxophone",
     "alto saxophone", "tenor saxophone", "baritone saxophone")
_add("harmony", "yes", "harmonies", "harmony", "backing vocals", "和声")
_add("instrumental", "yes", "instrumental", "no vocals", "纯音乐", "器乐")

INSTRUMENTS = ("piano", "electric piano", "acoustic guitar", "electric guitar", "nylon guitar", "bass",
               "upright bass", "synth bass", "drums", "brushes", "strings", "violin", "cello", "flute",
               "saxophone", "trumpet", "harmonica", "synth", "pad", "organ", "guzheng", "erhu", "dizi",
               "pipa", "harp", "choir pad", "bells", "ukulele", "banjo", "accordion", "clarinet", "oboe",
               "marimba", "vibraphone", "808")
for i in INSTRUMENTS:
    _add("instrument", i, i)
_add("instrument", "piano", "钢琴", "grand piano", "keys")
_add("instrument", "electric piano", "rhodes", "wurlitzer", "电钢琴")
_add("instrument", "acoustic guitar", "guitar", "acoustic", "吉他", "木吉他", "fingerstyle", "folk guitar", "strummed guitar")
_add("instrument", "electric guitar", "电吉他", "distorted guitar", "guitar riff", "guitar solo")
_add("instrument", "nylon guitar", "classical guitar", "spanish guitar", "古典吉他")
_add("instrument", "bass", "贝斯", "bass guitar", "electric bass")
_add("instrument", "upright bass", "double bass", "contrabass", "低音提琴")
_add("instrument", "synth bass", "808 bass", "sub bass")
_add("instrument", "drums", "鼓", "架子鼓", "drum", "percussion", "打击乐", "beat", "beats", "drum machine")
_add("instrument", "brushes", "brush drums", "brushed drums")
_add("instrument", "strings", "弦乐", "string section", "orchestra", "管弦乐")
_add("instrument", "violin", "小提琴", "fiddle")
_add("instrument", "cello", "大提琴")
_add("instrument", "flute", "长笛")
_add("instrument", "saxophone", "sax", "萨克斯", "萨克斯风")
_add("instrument", "trumpet", "小号", "brass", "铜管")
_add("instrument", "harmonica", "口琴")
_add("instrument", "synth", "synthesizer", "synths", "合成器", "lead synth", "arpeggiator")
_add("instrument", "pad", "pads", "synth pad", "atmospheric", "pad synth", "铺底")
_add("instrument", "organ", "风琴", "管风琴", "hammond")
_add("instrument", "guzheng", "古筝", "zither", "koto")
_add("instrument", "erhu", "二胡")
_add("instrument", "dizi", "笛子", "竹笛")
_add("instrument", "pipa", "琵琶")
_add("instrument", "harp", "竖琴")
_add("instrument", "bells", "glockenspiel", "music box", "八音盒", "铃")
_add("instrument", "ukulele", "尤克里里")
_add("instrument", "accordion", "手风琴")
_add("instrument", "clarinet", "单簧管")
_add("instrument", "marimba", "马林巴")
_add("instrument", "vibraphone", "vibes", "颤音琴")

# genre -> default tempo in quarter-note BPM
GENRE_TEMPO = {"pop": 100, "rock": 120, "ballad": 70, "folk": 96, "jazz": 112, "electronic": 122, "dance": 124,
               "hiphop": 90, "lofi": 80, "classical": 84, "country": 104, "blues": 84, "latin": 100, "rnb": 88,
               "waltz": 144, "cinematic": 80, "chinese": 76}
TEMPO_WORD = {"fast": 1.25, "slow": 0.75, "medium": 1.0}
MINOR_MOODS = {"sad", "dark", "mysterious", "tense"}
_BPM = re.compile(r"(\d{2,3}(?:\.\d+)?)\s*(?:bpm|拍|拍每分钟)", re.I)
_SPLIT = re.compile(r"[,，、;；/|\n]+")


@dataclass
class Style:
    """What the tags asked for. ``None`` means "not said": the planner chooses."""

    genre: str = "pop"
    mood: str | None = None
    tempo_word: str | None = None
    tempo_bpm: float | None = None
    vocal: str | None = None  # female, male, child, choir, or a voice preset a voice type names (soprano, ...)
    instruments: list[str] = field(default_factory=list)
    harmonies: bool = False
    choir: bool = False  # backing voices sing every line, not the choruses only
    instrumental: bool = False
    genre_said: bool = False
    unknown: list[str] = field(default_factory=list)

    @property
    def minor(self) -> bool | None:
        """True for moods that want a minor key, False for bright ones, None when silent."""
        if self.mood in MINOR_MOODS:
            return True
        if self.mood in ("happy", "energetic"):
            return False
        return None

    def default_tempo(self) -> float:
        """Tempo in BPM: the explicit figure, else the genre's tempo scaled by tempo words and mood."""
        if self.tempo_bpm is not None:
            return self.tempo_bpm
        bpm = GENRE_TEMPO.get(self.genre, 100) * TEMPO_WORD.get(self.tempo_word or "medium", 1.0)
        if self.tempo_word is None and self.mood in ("sad", "gentle", "peaceful", "romantic") and self.genre not in ("dance", "waltz"):
            bpm *= 0.9
        if self.tempo_word is None and self.mood in ("energetic", "happy") and self.genre not in ("ballad", "waltz"):
            bpm *= 1.08
        return float(round(bpm))

    @property
    def energy(self) -> float:
        """0 (sparse, soft) .. 1 (dense, loud), from genre, mood and tempo."""
        e = {"rock": 0.8, "dance": 0.85, "electronic": 0.75, "hiphop": 0.6, "ballad": 0.3, "lofi": 0.35,
             "folk": 0.4, "classical": 0.3, "jazz": 0.5, "waltz": 0.4, "cinematic": 0.5, "chinese": 0.35}.get(self.genre, 0.55)
        e += {"energetic": 0.2, "happy": 0.1, "sad": -0.15, "gentle": -0.15, "peaceful": -0.2}.get(self.mood or "", 0)
        e += {"fast": 0.1, "slow": -0.1}.get(self.tempo_word or "", 0)
        return min(1.0, max(0.0, e))


def tag_list(tags: str | list[str] | None) -> list[str]:
    """Split tags given as free text or as a list into single trimmed tags."""
    if tags is None:
        return []
    items = [tags] if isinstance(tags, str) else list(tags)
    out: list[str] = []
    for item in items:
        out += [t.strip() for t in _SPLIT.split(str(item)) if t.strip()]
    return out


_KEYWORDS = sorted(_WORDS, key=len, reverse=True)
_KEY_RE = re.compile("|".join(
    (re.escape(k) if re.search(r"[\u4e00-\u9fff]", k) else r"(?<![\w&-])" + re.escape(k) + r"(?![\w&-])")
    for k in _KEYWORDS))


def parse_style(tags: str | list[str] | None) -> Style:
    """Read tags into a :class:`Style`; the first genre named wins, instruments accumulate."""
    style = Style()
    for tag in tag_list(tags):
        low = tag.lower()
        m = _BPM.search(low)
        if m:
            style.tempo_bpm = float(m.group(1))
            low = _BPM.sub(" ", low)
        matched = False
        for km in _KEY_RE.finditer(low):
            attr, value = _WORDS[km.group(0)]
            matched = True
            if attr == "genre":
                if not style.genre_said:
                    style.genre, style.genre_said = value, True
            elif attr == "instrument":
                if value not in style.instruments:
                    style.instruments.append(value)
            elif attr == "harmony":
                style.harmonies = True
            elif attr == "instrumental":
                style.instrumental = True
            elif attr == "vocal":
                if value == "choir":
                    style.harmonies = style.choir = True
                if style.vocal is None or (value != "choir" and style.vocal not in VOICE_TYPES):
                    style.vocal = value  # a voice type (soprano) is not undone by a gender (female vocals)
            elif getattr(style, attr if attr != "tempo" else "tempo_word") is None:
                setattr(style, attr if attr != "tempo" else "tempo_word", value)
        if not matched and not m:
            style.unknown.append(tag)
    return style
