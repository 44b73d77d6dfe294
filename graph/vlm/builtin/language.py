"""Which language an instruction is in — enough for the builtin brain to know it is not English.

The builtin parser reads English only. Read as English, "mach den Himmel blauer" found
"blauer" ≈ "bluer" and cooled the whole photo; "rends le ciel plus bleu" found nothing.
It must say it does not understand instead of guessing (a model given with ``--vlm``
reads any language). :func:`foreign_language` is a light heuristic, no model:

* a script other than Latin (Han, kana, Hangul, Cyrillic, Greek, Arabic, Hebrew,
  Devanagari, Thai) for at least a third of the letters names the language at once;
* Latin text is foreign when at least two of its words are common words of one other
  language (articles, prepositions, photo words such as "Himmel", "ciel", "cielo")
  that are not English, and they outnumber the English function words in it.
  Style names in other languages ("la dolce vita look") stay English: one such word
  is not enough.

>>> foreign_language("mach den Himmel blauer"), foreign_language("make the sky bluer")
('German', None)
>>> foreign_language("让天空更蓝"), foreign_language("rends le ciel plus bleu")
('Chinese', 'French')
"""

from __future__ import annotations

import re
import unicodedata

#: Unicode script (first word of the character's name) → language, for non-Latin text.
SCRIPTS = {"CJK": "Chinese", "HIRAGANA": "Japanese", "KATAKANA": "Japanese", "HANGUL": "Korean",
           "CYRILLIC": "Russian", "GREEK": "Greek", "ARABIC": "Arabic", "HEBREW": "Hebrew",
           "DEVANAGARI": "Hindi", "THAI": "Thai"}

#: Common words of each language that are not English words (so "die", "son", "also",
#: "come" are left out); articles, pronouns, prepositions and retouching words.
WORDS = {
    "German": set("""der dem des das ein eine einen einem einer und oder nicht mach mache machen bitte etwas
        mehr weniger viel sehr zu zum zur mit auf bei aus von ist sind bild himmel bäume baum haut gesicht
        farbe farben heller dunkler wärmer kälter blauer grüner kontrast helligkeit sättigung lasse lassen
        ändere ändern ganz bisschen kräftiger weicher schärfer hintergrund wasser wolken""".split()),
    "French": set("""le la les de des du un une et est moins très peu rends rendre fais faire mets ciel arbres
        arbre peau couleur couleurs clair claire chaud chaude froid froide bleu lumineux lumineuse contraste
        luminosité avec sur dans laisse laisser garde eau nuages herbe""".split()),
    "Spanish": set("""el los las de del una unos unas es más menos muy poco haz hacer pon cielo árboles árbol
        piel cara colores imagen claro clara oscuro oscura cálido cálida frío fría azul verde brillante
        contraste brillo saturación sobre para deja dejar fondo agua nubes hierba""".split()),
    "Italian": set("""il gli di della delle dei una è più meno molto rendi rendere fai fare metti cielo alberi
        albero pelle viso colore colori immagine chiaro chiara scuro scura caldo calda freddo fredda azzurro
        blu verde luminoso contrasto luminosità saturazione sulla nel lascia sfondo acqua nuvole erba""".split()),
    "Portuguese": set("""os um uma de é mais menos muito pouco deixe deixa faça fazer céu árvores árvore pele rosto
        cor cores imagem claro clara escuro escura quente frio fria azul verde brilho contraste saturação com
        sobre para na fundo água nuvens""".split()),
    "Dutch": set("""de het een niet maak maken meer minder wat lucht bomen huid gezicht kleur kleuren lichter
        donkerder kouder blauwer groener helderheid verzadiging voor laat achtergrond wolken""".split()),
}
#: English function words; a text with more of these than foreign words is read as English.
ENGLISH = set("""the a an and or of to in on at by for with it its this that is are be make more less bit
    little very some too much please sky trees skin face color colors colour colours photo image brighter
    darker warmer cooler look like contrast saturation water""".split())

_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*", re.UNICODE)


def _script(ch: str) -> str | None:
    try:
        first = unicodedata.name(ch).split()[0]
    except ValueError:
        return None
    return SCRIPTS.get(first)


def foreign_language(text: str) -> str | None:
    """The language ``text`` is in when it is clearly not English, else None (see above)."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return None
    scripts: dict[str, int] = {}
    for c in letters:
        lang = _script(c)
        if lang:
            scripts[lang] = scripts.get(lang, 0) + 1
    if scripts:
        lang, n = max(scripts.items(), key=lambda kv: kv[1])
        if n * 3 >= len(letters):
            return "Japanese" if "Japanese" in scripts and lang == "Chinese" else lang
    words = [w.lower() for w in _WORD.findall(text)]
    english = sum(w in ENGLISH for w in words)
    best, hits = None, 0
    for lang, vocab in WORDS.items():
        n = sum(w in vocab and w not in ENGLISH for w in words)
        if n > hits:
            best, hits = lang, n
    return best if hits >= 2 and hits > english else None
