// An advisory lock that keeps two deepik processes from writing the same files at once.
#pragma once

#include <string>

namespace deepik {

/// An exclusive lock on `path` for the lifetime of the object, held as flock(2) on the file
/// `path` + ".lock" (created if needed and removed on release; a crashed holder leaves the file
/// but not the lock, so the next run takes it). Not copyable.
class FileLock {
 public:
  /// @throws InputError when another process holds the lock (naming `path` and that process's
  ///         pid), or when the lock file cannot be created.
  explicit FileLock(const std::string& path);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  std::string lock_path_;
  int fd_ = -1;
};

}  // namespace deepik
