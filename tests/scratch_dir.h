// A test fixture with a fresh directory per test, removed afterwards, for tests that write files.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include <fmt/format.h>

namespace adamas::test {

class ScratchDirTest : public ::testing::Test {
  protected:
    // Named after the process and the test, so parallel ctest runs never share one.
    void SetUp() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        dir_ = std::filesystem::temp_directory_path() /
               fmt::format("adamas-{}-{}-{}", ::getpid(), info->test_suite_name(), info->name());
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::string path(const std::string& name) const { return (dir_ / name).string(); }

    std::filesystem::path dir_;
};

}  // namespace adamas::test
