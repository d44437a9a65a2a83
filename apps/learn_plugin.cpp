#include "learn_plugin.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

namespace deepik::cli {
namespace {

constexpr const char* kPluginName = "deepik_learn_commands.so";

std::string ExecutableDir() {
  std::vector<char> path(4096);
  const ssize_t n = ::readlink("/proc/self/exe", path.data(), path.size() - 1);
  if (n <= 0) return ".";
  const std::string exe(path.data(), static_cast<size_t>(n));
  const size_t slash = exe.rfind('/');
  return slash == std::string::npos ? "." : exe.substr(0, slash);
}

}  // namespace

void* LoadPluginEntry(const char* file_name, const char* env_override, const char* symbol, const char* what) {
  std::vector<std::string> candidates;
  if (const char* override_path = std::getenv(env_override); override_path && *override_path) {
    candidates = {override_path};
  } else {
    const std::string dir = ExecutableDir();
    candidates = {dir + "/" + file_name,
                  dir + "/../" DEEPIK_INSTALL_LIBDIR "/deepik/" + std::string(file_name)};
  }
  std::string tried;
  for (const std::string& path : candidates) {
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* why = ::dlerror();
      tried += "\n  " + path + ": " + (why ? why : "not loadable");
      continue;
    }
    void* entry = ::dlsym(handle, symbol);
    if (entry == nullptr)
      throw std::runtime_error(path + " is not deepik's " + std::string(what) + " plugin");
    return entry;
  }
  throw std::runtime_error("cannot load the " + std::string(what) + " commands (" + std::string(file_name) +
                           "); tried:" + tried);
}

const LearnCommands& LoadLearnCommands() {
  using Entry = const LearnCommands* (*)();
  static const LearnCommands* commands = reinterpret_cast<Entry>(
      LoadPluginEntry(kPluginName, "DEEPIK_LEARN_PLUGIN", "deepik_learn_commands", "learning (libtorch)"))();
  return *commands;
}

}  // namespace deepik::cli
