// Chat prompt formats of instruction-tuned models (ChatML, Llama 3, Llama 2 and Mistral [INST] variants),
// chosen from the Jinja chat template a GGUF carries (tokenizer.chat_template) by its markers, as
// llama.cpp's llm_chat_detect_template does: no template engine, a few known formats written out.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace adamas {

class Tokenizer;

enum class ChatFormat {
    chatml,             // <|im_start|>role\n...<|im_end|>\n (SmolLM2, Qwen 2, OpenHermes)
    llama3,             // <|start_header_id|>role<|end_header_id|>\n\n...<|eot_id|>
    llama2,             // [INST] user [/INST]; a system message is a plain first line
    llama2_sys,         // [INST] <<SYS>>\nsystem\n<</SYS>>\n\nuser [/INST]
    llama2_sys_bos,     // as llama2_sys; later turns start with <s> (same for one turn)
    llama2_sys_strip,   // as llama2_sys, messages stripped of surrounding whitespace (Llama 2 chat)
    mistral_v1,         // " [INST] system\n\nuser [/INST]"
    mistral_v3,         // "[INST] system\n\nuser[/INST]"
    mistral_v3_tekken,  // "[INST]system\n\nuser[/INST]"
    mistral_v7,         // "[SYSTEM_PROMPT] system[/SYSTEM_PROMPT][INST] user[/INST]"
    mistral_v7_tekken,  // as mistral_v7 without the spaces after the opening tags
};

// The format a chat template's markers point to, or the format named exactly ("chatml", "llama3",
// "llama2-sys", ... as chat_format_name spells them); nullopt when neither (a format we do not know, or
// an empty template).
std::optional<ChatFormat> detect_chat_format(std::string_view chat_template);

// llama.cpp's name of the format: "chatml", "llama3", "llama2", "llama2-sys", "mistral-v7", ...
std::string_view chat_format_name(ChatFormat format);

// One user turn, after the system message when `system` is not empty, up to where the assistant's reply
// begins — what llama.cpp's llm_chat_apply_template writes for that conversation. Without BOS: the
// tokenizer adds it when the model asks for it. Special tokens in the result are meant to be parsed.
std::string format_chat_prompt(ChatFormat format, std::string_view user, std::string_view system = {});

// The text of the token that ends the assistant's turn: "<|im_end|>", "<|eot_id|>" or "</s>".
std::string_view chat_end_of_turn(ChatFormat format);

// The id of chat_end_of_turn(format) in the tokenizer's vocabulary, or -1 when it is not one special token
// there (a model whose vocabulary does not match the format).
int32_t chat_end_of_turn_id(const Tokenizer& tokenizer, ChatFormat format);

}  // namespace adamas
