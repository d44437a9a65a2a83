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

std::vector<std::string> Candidates() {
  if (const char* override_path = std::getenv("DEEPIK_LEARN_PLUGIN"); override_path && *override_path) {
    return {override_path};
  }
  const std::string dir = ExecutableDir();
  return {dir + "/" + kPluginName, dir + "/../" DEEPIK_INSTALL_LIBDIR "/deepik/" + std::string(kPluginName)};
}

const LearnCommands* Load() {
  std::string tried;
  for (const std::string& path : Candidates()) {
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* why = ::dlerror();
      tried += "\n  " + path + ": " + (why ? why : "not loadable");
      continue;
    }
    using Entry = const LearnCommands* (*)();
    auto entry = reinterpret_cast<Entry>(::dlsym(handle, "deepik_learn_commands"));
    if (entry == nullptr) throw std::runtime_error(path + " is not deepik's learning plugin");
    return entry();
  }
  throw std::runtime_error("cannot load the learning commands (" + std::string(kPluginName) +
                           ", which needs libtorch); tried:" + tried);
}

}  // namespace

const LearnCommands& LoadLearnCommands() {
  static const LearnCommands* commands = Load();
  return *commands;
}

}  // namespace deepik::cli
