// Text forms shared by the sub-commands (compiled into the command and into the learning plugin).
#include <algorithm>
#include <cstdio>

#include "commands.hpp"

namespace deepik::cli {

std::string FormatDuration(double seconds) {
  char text[32];
  const int s = static_cast<int>(std::max(0.0, seconds) + 0.5);
  if (s >= 3600) {
    std::snprintf(text, sizeof(text), "%dh%02dm", s / 3600, (s / 60) % 60);
  } else {
    std::snprintf(text, sizeof(text), "%dm%02ds", s / 60, s % 60);
  }
  return text;
}

}  // namespace deepik::cli
