// Chat formats: detection by the markers of the model's Jinja template and the prompt of one user turn,
// both following llama.cpp's llama-chat.cpp (llm_chat_detect_template, llm_chat_apply_template).
#include "adamas/chat_template.h"

#include <array>
#include <utility>

#include "adamas/tokenizer.h"

namespace adamas {

namespace {

constexpr std::array<std::pair<std::string_view, ChatFormat>, 11> kNames{{
    {"chatml", ChatFormat::chatml},
    {"llama3", ChatFormat::llama3},
    {"llama2", ChatFormat::llama2},
    {"llama2-sys", ChatFormat::llama2_sys},
    {"llama2-sys-bos", ChatFormat::llama2_sys_bos},
    {"llama2-sys-strip", ChatFormat::llama2_sys_strip},
    {"mistral-v1", ChatFormat::mistral_v1},
    {"mistral-v3", ChatFormat::mistral_v3},
    {"mistral-v3-tekken", ChatFormat::mistral_v3_tekken},
    {"mistral-v7", ChatFormat::mistral_v7},
    {"mistral-v7-tekken", ChatFormat::mistral_v7_tekken},
}};

// What Python's str.strip() and Jinja's trim remove (ASCII whitespace, as llama.cpp's trim).
std::string_view trim(std::string_view s) {
    constexpr std::string_view kWhitespace = " \t\n\v\f\r";
    size_t begin = s.find_first_not_of(kWhitespace);
    if (begin == std::string_view::npos) return {};
    return s.substr(begin, s.find_last_not_of(kWhitespace) + 1 - begin);
}

}  // namespace

std::optional<ChatFormat> detect_chat_format(std::string_view t) {
    for (const auto& [name, format] : kNames)
        if (t == name) return format;
    auto has = [&](std::string_view marker) { return t.find(marker) != std::string_view::npos; };
    if (has("<|im_start|>")) {
        // Phi-4 and SmolVLM use <|im_start|> but not ChatML's layout: formats we do not have.
        if (has("<|im_sep|>") || has("<end_of_utterance>")) return std::nullopt;
        return ChatFormat::chatml;
    }
    if (t.starts_with("mistral") || has("[INST]")) {
        if (has("[SYSTEM_PROMPT]")) return ChatFormat::mistral_v7;
        // Mistral's official v1, v3 and v3-tekken templates.
        if (has("' [INST] ' + system_message") || has("[AVAILABLE_TOOLS]")) {
            if (has(" [INST]")) return ChatFormat::mistral_v1;
            if (has("\"[INST]\"")) return ChatFormat::mistral_v3_tekken;
            return ChatFormat::mistral_v3;
        }
        if (has("content.strip()")) return ChatFormat::llama2_sys_strip;
        if (has("bos_token + '[INST]")) return ChatFormat::llama2_sys_bos;
        if (has("<<SYS>>")) return ChatFormat::llama2_sys;
        return ChatFormat::llama2;
    }
    if (has("<|start_header_id|>") && has("<|end_header_id|>")) return ChatFormat::llama3;
    return std::nullopt;
}

std::string_view chat_format_name(ChatFormat format) {
    for (const auto& [name, f] : kNames)
        if (f == format) return name;
    return "unknown";
}

std::string format_chat_prompt(ChatFormat format, std::string_view user, std::string_view system) {
    std::string out;
    auto add = [&](auto... parts) { (out.append(parts), ...); };
    switch (format) {
        case ChatFormat::chatml:
            if (!system.empty()) add("<|im_start|>system\n", system, "<|im_end|>\n");
            add("<|im_start|>user\n", user, "<|im_end|>\n<|im_start|>assistant\n");
            break;
        case ChatFormat::llama3:
            if (!system.empty())
                add("<|start_header_id|>system<|end_header_id|>\n\n", trim(system), "<|eot_id|>");
            add("<|start_header_id|>user<|end_header_id|>\n\n", trim(user),
                "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
            break;
        case ChatFormat::llama2:
        case ChatFormat::llama2_sys:
        case ChatFormat::llama2_sys_bos:
        case ChatFormat::llama2_sys_strip: {
            const bool strip = format == ChatFormat::llama2_sys_strip;
            add("[INST] ");
            if (!system.empty()) {
                std::string_view s = strip ? trim(system) : system;
                if (format == ChatFormat::llama2)  // no system role: its text opens the first message
                    add(s, "\n");
                else
                    add("<<SYS>>\n", s, "\n<</SYS>>\n\n");
            }
            add(strip ? trim(user) : user, " [/INST]");
            break;
        }
        case ChatFormat::mistral_v1:
        case ChatFormat::mistral_v3:
        case ChatFormat::mistral_v3_tekken: {
            const std::string_view lead = format == ChatFormat::mistral_v1 ? " " : "";
            const std::string_view after = format == ChatFormat::mistral_v3_tekken ? "" : " ";
            add(lead, "[INST]", after);
            if (!system.empty()) add(system, "\n\n");
            add(user, lead, "[/INST]");
            break;
        }
        case ChatFormat::mistral_v7:
        case ChatFormat::mistral_v7_tekken: {
            const std::string_view after = format == ChatFormat::mistral_v7 ? " " : "";
            if (!system.empty()) add("[SYSTEM_PROMPT]", after, system, "[/SYSTEM_PROMPT]");
            add("[INST]", after, user, "[/INST]");
            break;
        }
    }
    return out;
}

std::string_view chat_end_of_turn(ChatFormat format) {
    switch (format) {
        case ChatFormat::chatml:
            return "<|im_end|>";
        case ChatFormat::llama3:
            return "<|eot_id|>";
        default:
            return "</s>";  // the [INST] formats end a reply with the end-of-sequence token
    }
}

int32_t chat_end_of_turn_id(const Tokenizer& tokenizer, ChatFormat format) {
    const std::vector<int32_t> ids =
        tokenizer.encode(chat_end_of_turn(format), false, /*parse_special=*/true);
    if (ids.size() != 1 || tokenizer.token_text(ids[0]) != chat_end_of_turn(format)) return -1;
    const TokenType type = tokenizer.token_type(ids[0]);
    return type == TokenType::control || type == TokenType::user_defined ? ids[0] : -1;
}

}  // namespace adamas
