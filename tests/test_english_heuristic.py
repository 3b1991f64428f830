"""The crawl's notion of "an English sentence in a Chinese page" catches what it should and only that."""
from tests.browser.english import english_phrases


def test_it_finds_english_ui_sentences_among_chinese():
    text = "收件箱\nStagnant in Solution demo: 影像设备采购\n2 天没有更新\nNo update for 566 h"
    assert english_phrases(text) == ["Stagnant in Solution demo", "No update for"]


def test_it_finds_a_routing_reason_left_in_english():
    assert english_phrases("轮询 · round robin in “区域”: next in turn → 李东") == ["round robin in", "next in turn"]


def test_brands_formats_names_and_machine_tokens_are_not_sentences():
    text = ("通过 DingTalk 和 WeCom 推送 · 导出 CSV / PDF · SalesFlow API\n"
            "rep001 · admin@demo.example.com · http://demo.localhost:8000/leads/ · 时间均为 Asia/Shanghai\n"
            "tertiary_hospital · Diana Stewart")
    assert english_phrases(text, data=["Diana Stewart"]) == []


def test_a_single_english_word_is_not_a_sentence_but_two_common_words_are():
    assert english_phrases("状态：Open") == []
    assert english_phrases("状态：Not chosen") == ["Not chosen"]
