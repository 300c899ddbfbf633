// Chat formats: detection from real chat templates (or excerpts holding their markers) and the exact prompt
// of one user turn. The expected strings are what llama.cpp's llama_chat_apply_template writes for the same
// messages (checked against commit 0c1e570 when written).
#include <gtest/gtest.h>

#include <string>

#include "adamas/chat_template.h"
#include "adamas/gguf.h"
#include "adamas/tokenizer.h"

namespace adamas {
namespace {

// Templates as models ship them (from llama.cpp's tests/test-chat-template.cpp); the long Mistral v3 ones
// are cut to the lines that carry their markers.
const char* const kOpenHermes =
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
    "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% "
    "endif %}";
const char* const kLlama3 =
    "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = "
    "'<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + "
    "'<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}"
    "{% endfor %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}";
const char* const kMistralV02 =
    "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) "
    "%}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif "
    "%}"
    "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif "
    "message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only "
    "user and assistant roles are supported!') }}{% endif %}{% endfor %}";
const char* const kLlama2Chat =  // Meta's Llama 2 chat template
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = "
    "messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}"
    "{% endif %}{% for message in loop_messages %}{% if loop.index0 == 0 and system_message != false %}{% "
    "set "
    "content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set "
    "content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + "
    "content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' "
    "+ "
    "eos_token }}{% endif %}{% endfor %}";
const char* const kFusionNet =
    "{%- for idx in range(0, messages|length) -%}\n{%- if messages[idx]['role'] == 'user' -%}\n{%- if idx > "
    "1 "
    "-%}\n{{- bos_token + '[INST] ' + messages[idx]['content'] + ' [/INST]' -}}\n{%- else -%}\n{{- "
    "messages[idx]['content'] + ' [/INST]' -}}\n{%- endif -%}\n{% elif messages[idx]['role'] == 'system' %}\n"
    "{{- '[INST] <<SYS>>\\n' + messages[idx]['content'] + '\\n<</SYS>>\\n\\n' -}}\n{%- elif "
    "messages[idx]['role'] == 'assistant' -%}\n{{- ' '  + messages[idx]['content'] + ' ' + eos_token -}}\n"
    "{% endif %}\n{% endfor %}";
const char* const kSysNoBos =  // <<SYS>> without stripping or BOS inside the history
    "{% for m in messages %}{% if m['role'] == 'system' %}{{ '[INST] <<SYS>>\\n' + m['content'] + "
    "'\\n<</SYS>>\\n\\n' }}{% elif m['role'] == 'user' %}{{ m['content'] + ' [/INST]' }}{% endif %}{% endfor "
    "%}";
const char* const kMistralV1 =
    "{{- bos_token }}\n{%- for message in loop_messages %}\n    {%- if message['role'] == 'user' %}\n        "
    "{%- if loop.first and system_message is defined %}\n            {{- ' [INST] ' + system_message + "
    "'\\n\\n' + message['content'] + ' [/INST]' }}\n        {%- else %}\n            {{- ' [INST] ' + "
    "message['content'] + ' [/INST]' }}\n";
const char* const kMistralV3 =
    "{{- \"[AVAILABLE_TOOLS] [\" }}\n{%- if loop.last and system_message is defined %}\n            {{- "
    "\"[INST] \" + system_message + \"\\n\\n\" + message[\"content\"] + \"[/INST]\" }}\n        {%- else %}\n"
    "            {{- \"[INST] \" + message[\"content\"] + \"[/INST]\" }}\n";
const char* const kMistralV3Tekken =
    "{{- \"[AVAILABLE_TOOLS][\" }}\n{%- if loop.last and system_message is defined %}\n            {{- "
    "\"[INST]\" + system_message + \"\\n\\n\" + message[\"content\"] + \"[/INST]\" }}\n        {%- else %}\n"
    "            {{- \"[INST]\" + message[\"content\"] + \"[/INST]\" }}\n";
const char* const kMistralV7 =
    "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}{{ '[INST] ' + "
    "message['content'] + '[/INST]' }}{% elif message['role'] == 'system' %}{{ '[SYSTEM_PROMPT] ' + "
    "message['content'] + '[/SYSTEM_PROMPT]' }}{% elif message['role'] == 'assistant' %}{{ ' ' + "
    "message['content'] + eos_token }}{% else %}{{ raise_exception('Only user, system and assistant roles "
    "are supported!') }}{% endif %}{% endfor %}";
const char* const kPhi4 =
    "{% for message in messages %}{% if (message['role'] == 'system') %}{{'<|im_start|>system<|im_sep|>' + "
    "message['content'] + '<|im_end|>'}}{% endif %}{% endfor %}";
const char* const kGemma =
    "{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}";

TEST(ChatTemplate, DetectsFormatsByTheirMarkers) {
    const std::pair<const char*, ChatFormat> cases[] = {
        {kOpenHermes, ChatFormat::chatml},
        {kLlama3, ChatFormat::llama3},
        {kMistralV02, ChatFormat::llama2},
        {kLlama2Chat, ChatFormat::llama2_sys_strip},
        {kFusionNet, ChatFormat::llama2_sys_bos},
        {kSysNoBos, ChatFormat::llama2_sys},
        {kMistralV1, ChatFormat::mistral_v1},
        {kMistralV3, ChatFormat::mistral_v3},
        {kMistralV3Tekken, ChatFormat::mistral_v3_tekken},
        {kMistralV7, ChatFormat::mistral_v7},
        {"mistral-v7-tekken", ChatFormat::mistral_v7_tekken},  // a name, as llama.cpp also accepts
        {"llama2-sys", ChatFormat::llama2_sys},
    };
    for (const auto& [text, want] : cases) {
        std::optional<ChatFormat> got = detect_chat_format(text);
        ASSERT_TRUE(got.has_value()) << text;
        EXPECT_EQ(chat_format_name(*got), chat_format_name(want)) << text;
    }
    for (const char* unknown : {"", kPhi4, kGemma, "{{ messages }}", "chatml2"})
        EXPECT_FALSE(detect_chat_format(unknown).has_value()) << unknown;
}

TEST(ChatTemplate, NamesRoundTrip) {
    for (ChatFormat f : {ChatFormat::chatml, ChatFormat::llama3, ChatFormat::llama2, ChatFormat::llama2_sys,
                         ChatFormat::llama2_sys_bos, ChatFormat::llama2_sys_strip, ChatFormat::mistral_v1,
                         ChatFormat::mistral_v3, ChatFormat::mistral_v3_tekken, ChatFormat::mistral_v7,
                         ChatFormat::mistral_v7_tekken})
        EXPECT_EQ(detect_chat_format(chat_format_name(f)), f) << chat_format_name(f);
}

struct Expected {
    ChatFormat format;
    const char* user_only;    // user " What is 2+2?\n " (spaces kept unless the format trims)
    const char* with_system;  // plus system "  Be brief. \n"
    const char* end_of_turn;
};

TEST(ChatTemplate, FormatsOneUserTurnExactly) {
    const Expected cases[] = {
        {ChatFormat::chatml, "<|im_start|>user\n What is 2+2?\n <|im_end|>\n<|im_start|>assistant\n",
         "<|im_start|>system\n  Be brief. \n<|im_end|>\n<|im_start|>user\n What is 2+2?\n "
         "<|im_end|>\n<|im_start|>assistant\n",
         "<|im_end|>"},
        {ChatFormat::llama3,
         "<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|><|start_header_id|>assistant"
         "<|end_header_id|>\n\n",
         "<|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user"
         "<|end_header_id|>\n\nWhat is 2+2?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
         "<|eot_id|>"},
        {ChatFormat::llama2, "[INST]  What is 2+2?\n  [/INST]",
         "[INST]   Be brief. \n\n What is 2+2?\n  [/INST]", "</s>"},
        {ChatFormat::llama2_sys, "[INST]  What is 2+2?\n  [/INST]",
         "[INST] <<SYS>>\n  Be brief. \n\n<</SYS>>\n\n What is 2+2?\n  [/INST]", "</s>"},
        {ChatFormat::llama2_sys_bos, "[INST]  What is 2+2?\n  [/INST]",
         "[INST] <<SYS>>\n  Be brief. \n\n<</SYS>>\n\n What is 2+2?\n  [/INST]", "</s>"},
        {ChatFormat::llama2_sys_strip, "[INST] What is 2+2? [/INST]",
         "[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nWhat is 2+2? [/INST]", "</s>"},
        {ChatFormat::mistral_v1, " [INST]  What is 2+2?\n  [/INST]",
         " [INST]   Be brief. \n\n\n What is 2+2?\n  [/INST]", "</s>"},
        {ChatFormat::mistral_v3, "[INST]  What is 2+2?\n [/INST]",
         "[INST]   Be brief. \n\n\n What is 2+2?\n [/INST]", "</s>"},
        {ChatFormat::mistral_v3_tekken, "[INST] What is 2+2?\n [/INST]",
         "[INST]  Be brief. \n\n\n What is 2+2?\n [/INST]", "</s>"},
        {ChatFormat::mistral_v7, "[INST]  What is 2+2?\n [/INST]",
         "[SYSTEM_PROMPT]   Be brief. \n[/SYSTEM_PROMPT][INST]  What is 2+2?\n [/INST]", "</s>"},
        {ChatFormat::mistral_v7_tekken, "[INST] What is 2+2?\n [/INST]",
         "[SYSTEM_PROMPT]  Be brief. \n[/SYSTEM_PROMPT][INST] What is 2+2?\n [/INST]", "</s>"},
    };
    const std::string user = " What is 2+2?\n ", system = "  Be brief. \n";
    for (const Expected& e : cases) {
        EXPECT_EQ(format_chat_prompt(e.format, user), e.user_only) << chat_format_name(e.format);
        EXPECT_EQ(format_chat_prompt(e.format, user, system), e.with_system) << chat_format_name(e.format);
        EXPECT_EQ(chat_end_of_turn(e.format), e.end_of_turn) << chat_format_name(e.format);
    }
}

// The end-of-turn token is found in vocabularies that have it as a special token, and only there.
TEST(ChatTemplate, EndOfTurnIdInTheVocabulary) {
    const std::string dir = std::string(ADAMAS_SOURCE_DIR) + "/tests/fixtures/tokenizer/";
    const Tokenizer llama2 =
        Tokenizer::from_vocab(vocab_from_gguf(GgufFile::open(dir + "ggml-vocab-llama-spm.gguf")));
    EXPECT_EQ(chat_end_of_turn_id(llama2, ChatFormat::llama2_sys_strip), 2);
    EXPECT_EQ(chat_end_of_turn_id(llama2, ChatFormat::mistral_v7), 2);
    EXPECT_EQ(chat_end_of_turn_id(llama2, ChatFormat::chatml), -1);
    EXPECT_EQ(chat_end_of_turn_id(llama2, ChatFormat::llama3), -1);
    TokenizerVocab v;  // "</s>" ends a turn as a user-defined token, not as a normal one
    v.model = "llama";
    v.scores = {0, 0, 0};
    v.tokens = {"<unk>", "</s>", "<0x00>"};
    v.token_types = {int32_t(TokenType::unknown), int32_t(TokenType::user_defined),
                     int32_t(TokenType::normal)};
    v.unk = 0;
    EXPECT_EQ(chat_end_of_turn_id(Tokenizer::from_vocab(v), ChatFormat::llama2), 1);
    v.token_types[1] = int32_t(TokenType::normal);
    EXPECT_EQ(chat_end_of_turn_id(Tokenizer::from_vocab(v), ChatFormat::llama2), -1);
}

}  // namespace
}  // namespace adamas
