// JSON results of the subcommands, written atomically.
#include "json_output.h"

#include "adamas/atomic_file.h"

namespace adamas::tools {

void write_json_file(const std::string& path, const nlohmann::ordered_json& json) {
    const std::string text =
        json.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
    write_file_atomically(path, {{text.data(), text.size()}});
}

}  // namespace adamas::tools
