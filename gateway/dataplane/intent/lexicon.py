"""Cue words: other languages' intent words glossed in English, and English terms expanded to the general words route descriptions use."""

from __future__ import annotations

# Each key is matched on accent-free lowercase word stems (Latin scripts) or as a substring (CJK);
# each value is English that a route description in an operator's own words is likely to contain.
# This is a thesaurus of everyday intent vocabulary, not a list of any route set's names.
GLOSSES: dict[str, str] = {
    # translation
    "tradu": "translate", "traduis": "translate", "traduction": "translation", "ubersetz": "translate",
    "翻译": "translate", "翻訳": "translate", "翻成": "translate", "译成": "translate",
    "英文": "translate english", "se dice": "translate say language",
    "dit-on": "translate say language", "sagt man": "translate say language",             # writing code
    "funcion": "function code", "fonction": "function code", "funktion": "function code",
    "函数": "function code", "関数": "function code", "代码": "code", "コード": "code", "código": "code",
    "codigo": "code", "programm": "program code", "script": "script code", "regex": "code",
    "implement": "code", "scaffold": "code", "component": "code", "endpoint": "code", "cli": "code",
    "class": "code", "python": "code", "javascript": "code", "typescript": "code", "java": "code",
    "kotlin": "code", "rust": "code", "golang": "code", "ruby": "code", "c++": "code", "sql": "code query",
    "bash": "code script", "powershell": "code script", "dockerfile": "code", "workflow": "code",
    "react": "code", "node": "code", "api": "code", "port": "convert", "escribe": "write",
    "ecris": "write", "schreib": "write", "写": "write", "書いて": "write", "書く": "write",
    # debugging and review
    "bug": "debug error", "バグ": "debug error", "报错": "error debug", "错误": "error",
    "問題": "problem", "问题": "problem", "fix": "fix error", "crash": "error", "fail": "error",
    "segfault": "error debug", "leak": "debug", "exception": "error", "undefined": "error",
    "overpruf": "review", "uberpruf": "review", "revis": "review",     "slow": "problem", "error": "error", "erreur": "error", "fehler": "error",     "pourquoi": "why", "por que": "why", "warum": "why", "为什么": "why", "なぜ": "why",
        # creative writing
    "poem": "poem poetry creative", "poema": "poem", "poeme": "poem", "gedicht": "poem", "诗": "poem",
    "詩": "poem", "haiku": "poem", "sonnet": "poem", "limerick": "poem",     "verse": "poem", "rap": "song lyrics", "lyric": "song lyrics", "cuento": "story", "histoire": "story",
    "geschichte": "story", "故事": "story", "物語": "story", "myth": "story", "fiction": "story",
    "novel": "story", "dialogue": "story",         # summarization
    "summar": "summary", "resum": "summary", "zusammenfass": "summary",
    "fass": "summary", "总结": "summary", "要点": "key points", "要約": "summary", "tl;dr": "summary",
    "tldr": "summary", "gist": "summary", "recap": "summary", "takeaway": "key points",
    "condense": "summary", "abstract": "summary", "main points": "summary",
    "key points": "summary", "議事録": "meeting minutes", "protokoll": "meeting minutes",
    # math and data
    "derivative": "math", "integral": "math", "integrale": "math", "equation": "math", "方程": "math",
    "solve": "math", "prove": "math", "probability": "math statistics", "wahrscheinlichkeit": "math",
    "probabilidad": "math", "average": "statistics", "mean": "statistics", "median": "statistics",
    "中央値": "statistics", "平均": "statistics", "media": "statistics", "deviation": "statistics",
    "regression": "statistics", "significant": "statistics",
    "correlation": "statistics data", "percent": "calculation", "%": "calculation",
    "compound": "calculation", "calcul": "calculation", "berechn": "calculation", "計算": "calculation",
    "计算": "calculation", "area": "math", "sum": "calculation",     "growth": "data analysis", "outlier": "data analysis", "chart": "data", "increase": "calculation",
    "csv": "data", "spreadsheet": "data",
    # customer support and accounts
    "refund": "refund", "reembolso": "refund", "devuelvan": "refund", "devolver": "refund",
    "charged": "billing", "charge": "billing", "invoice": "billing",     "rechnung": "billing invoice", "receipt": "billing", "subscription": "account billing",
    "suscripcion": "account billing", "plan": "account billing", "discount": "billing",
    "password": "account", "login": "account", "log in": "account",
    "connecter": "account", "compte": "account", "cuenta": "account", "konto": "account",
    "order": "order", "orden": "order", "pedido": "order", "bestellung": "order", "订单": "order",
    "package": "order", "shipped": "order", "delivery": "order", "paiement": "billing",
    "支払い": "billing payment", "付款": "billing", "cancel": "account",
}
