"""The Qt-free message table: translation, fallbacks, and text kept in English."""

from __future__ import annotations

import threading

from resources.messages import load_strings, message_language, tr, untranslated, use_language


def test_messages_follow_the_language_and_fall_back_to_the_source():
    assert tr("is required") == "is required"
    use_language("zh_CN")
    assert message_language() == "zh_CN"
    assert tr("is required") == load_strings("zh_CN")["is required"] != "is required"
    assert tr("a sentence nobody translated") == "a sentence nobody translated"
    use_language("en")
    assert tr("is required") == "is required"


def test_a_disambiguated_word_uses_its_own_entry():
    use_language("zh_CN", {"Created": "已创建", "Created|history action": "创建"})
    assert tr("Created") == "已创建"
    assert tr("Created", "history action") == "创建"
    assert tr("Created", "unknown meaning") == "已创建"


def test_untranslated_keeps_english_in_its_own_thread_only():
    use_language("zh_CN")
    seen_elsewhere = []
    with untranslated():
        assert tr("is required") == "is required"
        other = threading.Thread(target=lambda: seen_elsewhere.append(tr("is required")))
        other.start()
        other.join()
        with untranslated():
            pass
        assert tr("is required") == "is required"  # nested exit keeps the outer choice
    assert seen_elsewhere == [load_strings("zh_CN")["is required"]]
    assert tr("is required") != "is required"
