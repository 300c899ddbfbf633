// The `adamas` binary: parses the subcommand and maps errors to the documented exit codes.
#include <cstdio>
#include <exception>
#include <new>

#include <fmt/format.h>

#include "adamas/error.h"
#include "commands.h"
#include "interrupt.h"

int main(int argc, char** argv) {
    using namespace adamas::tools;
    CLI::App app{
        "adamas — Hadamard sparse attention for long-context decode.\n"
        "Exit codes: 0 ok, 1 usage error, 2 bad input file, 3 runtime failure, 130 interrupted (SIGINT or "
        "SIGTERM: the command stops after its current step and prints what it has)."};
    app.require_subcommand(1);
    app.set_help_all_flag("--help-all", "Print help for every subcommand");
    add_attend_command(app);
    add_bench_command(app);
    add_generate_command(app);
    add_perplexity_command(app);
    add_passkey_command(app);
    add_selection_command(app);
    install_interrupt_handler();
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return kExitUsage;
    } catch (const Interrupted&) {
        fmt::print(stderr, "adamas: interrupted\n");
        return kExitInterrupted;
    } catch (const adamas::UsageError& e) {
        fmt::print(stderr, "adamas: {}\n", e.what());
        return kExitUsage;
    } catch (const adamas::Error& e) {
        fmt::print(stderr, "adamas: {}\n", e.what());
        return kExitBadInput;
    } catch (const std::bad_alloc&) {
        fmt::print(stderr, "adamas: out of memory (a smaller --ctx, budget or batch needs less)\n");
        return kExitRuntime;
    } catch (const std::exception& e) {
        fmt::print(stderr, "adamas: {}\n", e.what());
        return kExitRuntime;
    }
    return kExitOk;
}
