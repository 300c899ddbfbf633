// A Hugging Face checkpoint directory as one set of tensors: model.safetensors, or the shards of
// model.safetensors.index.json. The index is untrusted like the shards: its shard names must stay inside
// the directory, and every tensor it places must really be in that shard.
#include <filesystem>
#include <optional>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "adamas/error.h"
#include "adamas/safetensors.h"
#include "model/gguf_internal.h"
#include "model/json_file.h"

namespace adamas {

using gguf_detail::printable;

namespace {

namespace fs = std::filesystem;

constexpr uint64_t kMaxIndexBytes = 100'000'000;

// A shard name must be a plain file name: "../x" or "/etc/x" would read outside the model directory.
bool plain_file_name(const std::string& name) {
    return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
           name.find('\0') == std::string::npos;
}

// The shard file names of an index, in order of first appearance, and where it places each tensor.
struct Index {
    std::vector<std::string> shards;
    std::vector<std::pair<std::string, size_t>> placement;  // tensor name, shard number
};

Index read_index(const std::string& path) {
    nlohmann::json json = read_json_object(path, kMaxIndexBytes, "a small JSON index");
    if (!json.contains("weight_map") || !json["weight_map"].is_object())
        fail("{}: has no 'weight_map' object (expected {{\"weight_map\": {{tensor name: shard file}}}})",
             path);
    Index index;
    std::unordered_map<std::string, size_t> shard_number;
    for (const auto& [name, shard] : json["weight_map"].items()) {
        if (!shard.is_string())
            fail("{}: weight_map['{}'] is a JSON {} (expected a shard file name)", path, printable(name),
                 shard.type_name());
        const std::string& file = shard.get_ref<const std::string&>();
        if (!plain_file_name(file))
            fail("{}: weight_map['{}'] names shard '{}' (expected a file name inside the model directory)",
                 path, printable(name), printable(file));
        auto [it, added] = shard_number.emplace(file, index.shards.size());
        if (added) index.shards.push_back(file);
        index.placement.emplace_back(name, it->second);
    }
    if (index.shards.empty()) fail("{}: weight_map is empty (expected the model's tensors)", path);
    return index;
}

}  // namespace

struct SafetensorsCheckpoint::Impl {
    std::string directory;
    std::vector<SafetensorsFile> files;
    struct Entry {
        size_t file;
        const SafetensorsTensor* tensor;
    };
    std::unordered_map<std::string_view, Entry> tensors;  // views of the files' tensor names
};

SafetensorsCheckpoint SafetensorsCheckpoint::open(const std::string& directory) {
    auto impl = std::make_unique<Impl>();
    impl->directory = directory;
    const fs::path dir(directory);
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        fail("{}: is not a directory (expected a Hugging Face model directory)", directory);
    const fs::path single = dir / "model.safetensors", index_path = dir / "model.safetensors.index.json";
    std::optional<Index> index;
    if (fs::exists(single, ec)) {
        impl->files.push_back(SafetensorsFile::open(single.string()));
    } else if (fs::exists(index_path, ec)) {
        index = read_index(index_path.string());
        for (const std::string& shard : index->shards)
            impl->files.push_back(SafetensorsFile::open((dir / shard).string()));
    } else {
        const bool torch =
            fs::exists(dir / "pytorch_model.bin", ec) || fs::exists(dir / "pytorch_model.bin.index.json", ec);
        fail(
            "{}: has neither model.safetensors nor model.safetensors.index.json (expected safetensors "
            "weights{})",
            directory,
            torch ? "; PyTorch .bin checkpoints are not supported, convert them to safetensors" : "");
    }
    for (size_t f = 0; f < impl->files.size(); ++f)
        for (const SafetensorsTensor& t : impl->files[f].tensors()) {
            auto [it, added] = impl->tensors.emplace(t.name, Impl::Entry{f, &t});
            if (!added)
                fail("{}: tensor '{}' appears in both {} and {}", directory, printable(t.name),
                     impl->files[it->second.file].path(), impl->files[f].path());
        }
    if (index)
        for (const auto& [name, shard] : index->placement) {
            auto it = impl->tensors.find(name);
            if (it == impl->tensors.end() || it->second.file != shard)
                fail("{}: weight_map places tensor '{}' in {}, which does not hold it", index_path.string(),
                     printable(name), impl->files[shard].path());
        }
    return SafetensorsCheckpoint(std::move(impl));
}

SafetensorsCheckpoint::SafetensorsCheckpoint(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SafetensorsCheckpoint::SafetensorsCheckpoint(SafetensorsCheckpoint&&) noexcept = default;
SafetensorsCheckpoint& SafetensorsCheckpoint::operator=(SafetensorsCheckpoint&&) noexcept = default;
SafetensorsCheckpoint::~SafetensorsCheckpoint() = default;

const std::string& SafetensorsCheckpoint::directory() const {
    return impl_->directory;
}
std::span<const SafetensorsFile> SafetensorsCheckpoint::files() const {
    return impl_->files;
}

const SafetensorsTensor* SafetensorsCheckpoint::find(std::string_view name) const {
    auto it = impl_->tensors.find(name);
    return it == impl_->tensors.end() ? nullptr : it->second.tensor;
}

const std::string& SafetensorsCheckpoint::file_of(std::string_view name) const {
    auto it = impl_->tensors.find(name);
    ADAMAS_ASSERT(it != impl_->tensors.end());
    return impl_->files[it->second.file].path();
}

}  // namespace adamas
