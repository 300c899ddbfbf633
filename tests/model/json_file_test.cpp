// read_json_object: every way a small JSON file can be wrong is an Error naming the file, the problem and
// what was expected; a good object reads back whole.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "adamas/error.h"
#include "model/json_file.h"
#include "scratch_dir.h"

namespace adamas {
namespace {

class JsonFileTest : public test::ScratchDirTest {
  protected:
    std::string write(const std::string& text) const {
        const std::string file = path("file.json");
        std::ofstream(file, std::ios::binary) << text;
        return file;
    }

    // read_json_object must fail with a message that starts with the file's path and holds `needle`.
    static void expect_error(const std::string& file, uint64_t max_bytes, const std::string& needle) {
        try {
            read_json_object(file, max_bytes, "a test file");
            ADD_FAILURE() << file << ": no error; expected one containing '" << needle << "'";
        } catch (const Error& e) {
            const std::string message = e.what();
            EXPECT_EQ(message.rfind(file + ": ", 0), 0u) << message;
            EXPECT_NE(message.find(needle), std::string::npos)
                << "expected '" << needle << "' in: " << message;
        }
    }
};

TEST_F(JsonFileTest, ReadsAnObject) {
    const std::string text = R"({"a": [1, 2], "b": {"c": null}})";
    EXPECT_EQ(read_json_object(write(text), text.size(), "a test file"), nlohmann::json::parse(text));
}

TEST_F(JsonFileTest, ProblemsNameTheFileAndWhatWasExpected) {
    expect_error(path("absent.json"), 100, "cannot read (expected a test file)");
    expect_error(dir_.string(), 100, "cannot read (expected a test file)");  // a directory
    const std::string text = R"({"a": 1})";
    expect_error(write(text), text.size() - 1, "larger than 7 bytes (expected a test file)");
    expect_error(write(""), 100, "not valid JSON (");
    expect_error(write(R"({"a": )"), 100, "not valid JSON (");
    expect_error(write("[1, 2]"), 100, "is a JSON array (expected an object)");
    expect_error(write("null"), 100, "is a JSON null (expected an object)");
}

// Deep nesting is refused while parsing (nothing we read needs it, and walking it recursively would
// overflow the stack); values in messages are excerpts, never whole dumps.
TEST_F(JsonFileTest, DeepNestingIsAnErrorAndExcerptsStayShort) {
    const std::string deep = "{\"a\": " + std::string(100, '[') + std::string(100, ']') + "}";
    expect_error(write(deep), 1000, "JSON nested deeper than 64 levels");
    const std::string ok = "{\"a\": " + std::string(60, '[') + std::string(60, ']') + "}";
    EXPECT_NO_THROW(read_json_object(write(ok), 1000, "a test file"));

    EXPECT_EQ(json_excerpt(nlohmann::json::parse("[1, 2, 3]")), "[1,2,3]");
    EXPECT_EQ(json_excerpt(nlohmann::json::parse(R"({"k": "v"})")), R"({"k":"v"})");
    EXPECT_EQ(json_excerpt(nlohmann::json::parse("[[1], 2]")), "an array of 2 items");
    EXPECT_EQ(json_excerpt(nlohmann::json::parse(R"({"a": {"b": 1}})")), "an object of 1 keys");
    EXPECT_EQ(json_excerpt(nlohmann::json(std::vector<int>(20, 7))), "an array of 20 items");
    const std::string excerpt = json_excerpt(nlohmann::json(std::string(500, 'x')));
    EXPECT_EQ(excerpt.size(), 103u);
    EXPECT_TRUE(excerpt.ends_with("..."));
}

}  // namespace
}  // namespace adamas
