"""Reference replies for IFEval-style prompts: a reply built to follow every instruction.

``build_reference(instructions, prompt, check)`` assembles a reply from plain filler sentences
(in the asked language) and the structure each instruction asks for (paragraphs, sections,
bullets, highlights, placeholders, title, postscript, keywords, letter counts, case, JSON,
quotation, two responses, repeated prompt, end phrase), then asks ``check`` (the official
checkers) whether all instructions are followed, trying longer and shorter bodies until one is.
It is the env's ``reference`` (what ``envs check`` and the contract tests score), not a model.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

Instruction = tuple[str, Mapping[str, Any]]

#: Plain English sentences without commas, all-capital words or the word "I".
ENGLISH = (
    "The morning light came over the quiet hills.",
    "Many people enjoy a long walk by the river.",
    "Good planning makes every trip more pleasant.",
    "The small team worked hard on the new garden.",
    "Fresh bread from the local bakery smells wonderful.",
    "Children learn quickly when they are curious.",
    "The old bridge still carries traffic every day.",
    "Reading a good book can change how you think.",
    "Our neighbors grow tomatoes and beans in summer.",
    "The museum opens its doors early on weekends.",
    "Clear goals help people stay focused on their work.",
    "The city park has a pond full of ducks.",
    "Simple meals are often the most satisfying.",
    "Music brings friends together after a busy week.",
    "The library offers free classes for adults.",
    "Rain on the roof makes a calm steady sound.",
)
#: Sentences that avoid one letter each (for "use the letter X less than N times").
LIPOGRAMS = (
    "Big dogs run to a warm spot by a fir.",
    "Cubs hug mom in a dry burrow.",
    "My pals grab lunch at two.",
    "Four kids swam at dusk.",
    "Dry sand drifts past tall palms.",
    "Bold birds hop by my door.",
)
#: Short texts per language code that langdetect tells apart (checked in the tests).
LANGUAGE_TEXT = {
    "hi": "यह एक बहुत अच्छा दिन है। हम सब बाजार जा रहे हैं और वहाँ से फल खरीदेंगे।",
    "mr": "आज हवामान खूप छान आहे. आम्ही सगळे बाजारात जात आहोत आणि तिथून फळे घेणार आहोत.",
    "ne": "आज मौसम धेरै राम्रो छ। हामी सबै बजार जाँदैछौं र त्यहाँबाट फलफूल किन्नेछौं।",
    "kn": "ಇಂದು ಹವಾಮಾನ ತುಂಬಾ ಚೆನ್ನಾಗಿದೆ. ನಾವು ಎಲ್ಲರೂ ಮಾರುಕಟ್ಟೆಗೆ ಹೋಗುತ್ತಿದ್ದೇವೆ.",
    "vi": "Hôm nay thời tiết rất đẹp. Chúng tôi đi chợ và mua nhiều trái cây tươi.",
    "ko": "오늘은 날씨가 정말 좋습니다. 우리는 시장에 가서 신선한 과일을 삽니다.",
    "sw": "Leo hali ya hewa ni nzuri sana. Sisi sote tunakwenda sokoni kununua matunda.",
    "de": "Heute ist das Wetter sehr schön. Wir gehen alle auf den Markt und kaufen frisches Obst.",
    "pa": "ਅੱਜ ਮੌਸਮ ਬਹੁਤ ਵਧੀਆ ਹੈ। ਅਸੀਂ ਸਾਰੇ ਬਾਜ਼ਾਰ ਜਾ ਰਹੇ ਹਾਂ ਅਤੇ ਫਲ ਖਰੀਦਾਂਗੇ।",
    "fa": "امروز هوا بسیار خوب است. ما همه به بازار می‌رویم و میوه تازه می‌خریم.",
    "ru": "Сегодня очень хорошая погода. Мы все идём на рынок и покупаем свежие фрукты.",
    "bg": "Това е много хубав ден. Ние сме щастливи защото времето е топло и слънчево.",
    "pt": "Hoje o tempo está muito bonito. Nós vamos todos ao mercado e compramos frutas frescas.",
    "gu": "આજે હવામાન ખૂબ સરસ છે. અમે બધા બજારમાં જઈએ છીએ અને તાજા ફળો ખરીદીએ છીએ.",
    "te": "ఈ రోజు వాతావరణం చాలా బాగుంది. మేము అందరం మార్కెట్‌కు వెళ్తున్నాము.",
    "it": "Oggi il tempo è molto bello. Andiamo tutti al mercato e compriamo frutta fresca.",
    "ar": "الطقس اليوم جميل جدا. نحن جميعا نذهب إلى السوق ونشتري الفاكهة الطازجة.",
    "ta": "இன்று வானிலை மிகவும் நன்றாக உள்ளது. நாங்கள் அனைவரும் சந்தைக்கு செல்கிறோம்.",
    "fi": "Tänään sää on todella kaunis. Menemme kaikki torille ja ostamme tuoreita hedelmiä.",
    "ur": "آج موسم بہت اچھا ہے۔ ہم سب بازار جا رہے ہیں اور وہاں سے پھل خریدیں گے۔",
    "th": "วันนี้อากาศดีมาก พวกเราทุกคนไปตลาดและซื้อผลไม้สด",
    "bn": "আজ আবহাওয়া খুব সুন্দর। আমরা সবাই বাজারে যাচ্ছি এবং তাজা ফল কিনব।",
    "es": "Hoy el tiempo es muy bonito. Todos vamos al mercado y compramos fruta fresca.",
    "fr": "Aujourd'hui le temps est très beau. Nous allons tous au marché acheter des fruits frais.",
    "ja": "今日はとても良い天気です。私たちはみんなで市場に行って新鮮な果物を買います。",
    "zh-cn": "今天天气非常好。我们一起去市场买新鲜的水果。",
    "tr": "Bugün hava çok güzel. Hepimiz pazara gidiyoruz ve taze meyve alıyoruz.",
    "nl": "Vandaag is het weer erg mooi. We gaan allemaal naar de markt en kopen vers fruit.",
    "pl": "Dzisiaj pogoda jest bardzo ładna. Wszyscy idziemy na targ i kupujemy świeże owoce.",
    "sv": "Idag är vädret mycket fint. Vi går alla till marknaden och köper färsk frukt.",
    "id": "Hari ini cuacanya sangat bagus. Kami semua pergi ke pasar dan membeli buah segar.",
    "he": "היום מזג האוויר יפה מאוד. כולנו הולכים לשוק וקונים פירות טריים.",
    "el": "Σήμερα ο καιρός είναι πολύ όμορφος. Πηγαίνουμε όλοι στην αγορά και αγοράζουμε φρούτα.",
    "uk": "Сьогодні дуже гарна погода. Ми всі йдемо на ринок і купуємо свіжі фрукти.",
    "ro": "Astăzi vremea este foarte frumoasă. Mergem cu toții la piață și cumpărăm fructe proaspete.",
    "cs": "Dnes je velmi pěkné počasí. Všichni jdeme na trh a kupujeme čerstvé ovoce.",
    "da": "I dag er vejret meget smukt. Vi går alle sammen på markedet og køber frisk frugt.",
    "no": "I dag er været veldig fint. Vi går alle på markedet og kjøper fersk frukt.",
    "hu": "Ma nagyon szép az idő. Mindannyian a piacra megyünk és friss gyümölcsöt veszünk.",
}


def _letters_to_avoid(instructions: Sequence[Instruction]) -> set[str]:
    return {
        str(kw["letter"]).lower()
        for iid, kw in instructions
        if iid == "keywords:letter_frequency" and kw.get("let_relation") == "less than"
    }


def _words_to_avoid(instructions: Sequence[Instruction]) -> set[str]:
    avoid: set[str] = set()
    for iid, kw in instructions:
        if iid == "keywords:forbidden_words":
            avoid |= {str(w).lower() for w in kw.get("forbidden_words") or ()}
        if iid == "keywords:frequency" and kw.get("relation") == "less than":
            avoid.add(str(kw["keyword"]).lower())
    return avoid


def _filler(instructions: Sequence[Instruction], language: str) -> list[str]:
    if language != "en":
        text = LANGUAGE_TEXT.get(language, LANGUAGE_TEXT["de"])
        return [text]
    letters, words = _letters_to_avoid(instructions), _words_to_avoid(instructions)

    def ok(sentence: str) -> bool:
        low = sentence.lower()
        tokens = {t.strip(".").lower() for t in sentence.split()}
        return not any(c in low for c in letters) and not any(
            w in low or w in tokens for w in words
        )

    pool = [s for s in (*ENGLISH, *LIPOGRAMS) if ok(s)]
    return pool or ["Go."]


def _kw(instructions: Sequence[Instruction], iid: str) -> Any:  # Mapping[str, Any] | None
    for i, kw in instructions:
        if i == iid:
            return kw
    return None


def _compose(instructions: Sequence[Instruction], prompt: str, n: int, variant: int) -> str:
    """One candidate reply with ``n`` filler sentences per block."""
    has = {iid for iid, _ in instructions}
    language = (_kw(instructions, "language:response_language") or {}).get("language", "en")
    pool = _filler(instructions, language)

    def sentences(k: int, offset: int = 0) -> str:
        picked = [pool[(offset + variant + j) % len(pool)] for j in range(max(k, 1))]
        if variant < 2 or language != "en":
            return " ".join(picked)
        # variant 2: one long sentence (many words, few sentences)
        parts = [p.rstrip(".") for p in picked]
        return " and ".join([parts[0], *(p[0].lower() + p[1:] for p in parts[1:])]) + "."

    extras: list[str] = []  # sentences that carry required words
    for iid, kw in instructions:
        if iid == "keywords:existence":
            extras.append(" ".join(f"We mention {k} here." for k in kw.get("keywords") or ()))
        elif iid == "keywords:frequency" and kw.get("relation") == "at least":
            extras.append(
                " ".join(f"{kw['keyword']} matters." for _ in range(int(kw["frequency"])))
            )
        elif iid == "keywords:letter_frequency" and kw.get("let_relation") == "at least":
            extras.append(" ".join([str(kw["letter"]) * 2] * (int(kw["let_frequency"]) // 2 + 1)))
        elif (
            iid == "change_case:capital_word_frequency" and kw.get("capital_relation") == "at least"
        ):
            extras.append(" ".join(["NOTE"] * int(kw["capital_frequency"])) + ".")
        elif iid == "detectable_content:number_placeholders":
            extras.append(
                " ".join(f"See [place {j + 1}]." for j in range(int(kw["num_placeholders"])))
            )
        elif iid == "detectable_format:number_highlighted_sections":
            extras.append(
                " ".join(f"*key point {j + 1}*" for j in range(int(kw["num_highlights"])))
            )
    extra = " ".join(extras)

    blocks: list[str]
    if "length_constraints:number_paragraphs" in has:
        k = int(_kw(instructions, "length_constraints:number_paragraphs")["num_paragraphs"])
        blocks = [sentences(n, j) for j in range(k)]
        blocks[0] = f"{blocks[0]} {extra}".strip()
        body = "\n\n***\n\n".join(blocks)
    elif "length_constraints:nth_paragraph_first_word" in has:
        kw = _kw(instructions, "length_constraints:nth_paragraph_first_word")
        k, nth, first = int(kw["num_paragraphs"]), int(kw["nth_paragraph"]), str(kw["first_word"])
        blocks = [sentences(n, j) for j in range(k)]
        blocks[0] = f"{blocks[0]} {extra}".strip()
        if 1 <= nth <= k:
            blocks[nth - 1] = f"{first} {blocks[nth - 1]}"
        body = "\n\n".join(blocks)
    elif "detectable_format:multiple_sections" in has:
        kw = _kw(instructions, "detectable_format:multiple_sections")
        k, splitter = int(kw["num_sections"]), str(kw["section_spliter"])
        blocks = [f"{splitter} {j + 1}\n{sentences(n, j)}" for j in range(k)]
        body = "\n\n".join(blocks) + (f"\n\n{extra}" if extra else "")
    else:
        body = f"{sentences(n)} {extra}".strip()

    if "detectable_format:number_bullet_lists" in has:
        k = int(_kw(instructions, "detectable_format:number_bullet_lists")["num_bullets"])
        body += "\n\n" + "\n".join(f"* {pool[(j + variant) % len(pool)]}" for j in range(k))
    if "detectable_format:title" in has:
        body = f"<<{'a short title' if variant % 2 else 'A Short Title'}>>\n\n{body}"
    if "detectable_format:constrained_response" in has:
        body = f"{body}\n\nMy answer is yes."
    kw = _kw(instructions, "detectable_content:postscript")
    if kw is not None:
        body = f"{body}\n{kw['postscript_marker']} {pool[variant % len(pool)]}"
    if "combination:two_responses" in has:
        body = f"{body}\n\n******\n\n{sentences(n + 1, 3)} {extra}".strip()
    kw = _kw(instructions, "combination:repeat_prompt")
    if kw is not None:
        body = f"{kw['prompt_to_repeat']}\n\n{body}"
    kw = _kw(instructions, "startend:end_checker")
    if kw is not None:
        body = f"{body}\n\n{kw['end_phrase']}"
    if "detectable_format:json_format" in has:
        body = json.dumps({"answer": body}, ensure_ascii=False)
    if "change_case:english_capital" in has:
        body = body.upper()
    if "change_case:english_lowercase" in has:
        body = body.lower()
    if "startend:quotation" in has:
        body = f'"{body}"'
    return body


def build_reference(
    instructions: Sequence[Instruction], prompt: str, check: Callable[[str], bool]
) -> str:
    """A reply that ``check`` accepts (every instruction followed), or the best try if none is.

    Tries bodies of 1 to 160 filler sentences per block (the word and sentence counts of the
    instructions decide which fit) in three wordings (the third joins a block into one long
    sentence); returns the first the checkers accept.
    """
    first = ""
    coarse = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 160)
    tries = [(v, n) for v in (0, 1, 2) for n in coarse]
    tries += [(0, n) for n in range(1, 161) if n not in coarse]
    for variant, n in tries:
        reply = _compose(instructions, prompt, n, variant)
        first = first or reply
        if check(reply):
            return reply
    return first
