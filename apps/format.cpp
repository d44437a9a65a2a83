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

std::string FormatFixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  std::string printed = text;
  // "-0.00" for a value that rounds to zero: print it without the sign.
  if (printed[0] == '-' && printed.find_first_not_of("-0.") == std::string::npos) printed.erase(0, 1);
  return printed;
}

std::string Plural(int64_t count, const std::string& noun) {
  return std::to_string(count) + " " + noun + (count == 1 ? "" : "s");
}

std::string PrintableText(const std::string& text, bool keep_newlines) {
  std::string printable;
  printable.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    // C0 controls and DEL, and C1 controls (U+0080..U+009F, 0xC2 0x80..0x9F in UTF-8), which
    // terminals also obey.
    const bool c1 = byte == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
                    static_cast<unsigned char>(text[i + 1]) <= 0x9F;
    if ((byte == '\n' && keep_newlines) || (byte >= 0x20 && byte != 0x7F && !c1)) {
      printable += text[i];
      continue;
    }
    const unsigned code = c1 ? static_cast<unsigned char>(text[++i]) : byte;
    char escaped[8];
    std::snprintf(escaped, sizeof escaped, c1 ? "\\u%04x" : "\\x%02x", code);
    printable += escaped;
  }
  return printable;
}

std::string PrintableName(const std::string& name) { return PrintableText(name, false); }

}  // namespace deepik::cli
