// Ctrl-C for long runs: the first SIGINT or SIGTERM asks the running command to stop after its current
// step (a token, a window, a prompt), print what it has and exit with kExitInterrupted; a second one
// kills the process at once, as usual.
#pragma once
#include <stdexcept>

namespace adamas::tools {

// Thrown by a command that stopped because it was asked to; main maps it to kExitInterrupted.
class Interrupted : public std::runtime_error {
  public:
    Interrupted() : std::runtime_error("interrupted") {}
};

void install_interrupt_handler();
bool interrupt_requested();
// Throws Interrupted when a stop was asked for.
void stop_if_interrupted();

}  // namespace adamas::tools
