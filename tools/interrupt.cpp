// The handler only sets a flag and writes one line (both async-signal-safe), then restores the default
// action, so a second signal ends the process even when the current step is long (a prefill).
#include "interrupt.h"

#include <unistd.h>

#include <csignal>

namespace adamas::tools {

namespace {

volatile std::sig_atomic_t requested = 0;

extern "C" void on_interrupt(int signal) {
    requested = 1;
    static const char kMessage[] =
        "\nadamas: stopping after the current step (interrupt again to stop at once)\n";
    [[maybe_unused]] const ssize_t written = ::write(STDERR_FILENO, kMessage, sizeof(kMessage) - 1);
    std::signal(signal, SIG_DFL);
}

}  // namespace

void install_interrupt_handler() {
    struct sigaction action {};
    action.sa_handler = on_interrupt;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
}

bool interrupt_requested() {
    return requested != 0;
}

void stop_if_interrupted() {
    if (requested) throw Interrupted();
}

}  // namespace adamas::tools
