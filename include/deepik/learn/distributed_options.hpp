// Where one rank of a data-parallel training job stands: its rank, the world size and the master
// (torchrun's RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT). Plain data without libtorch,
// so that the command line can fill and check it before the learning plugin loads.
#pragma once

#include <string>

namespace deepik {

/// One rank's view of a data-parallel job. A world of size 1 is ordinary one-process training.
struct DistributedOptions {
  int rank = 0;        ///< 0..world_size-1; rank 0 hosts the job's store and alone writes files
  int world_size = 1;  ///< the number of ranks (processes) in the job
  int local_rank = 0;  ///< the rank among those on this machine (messages only)
  std::string master_addr = "127.0.0.1";  ///< the machine of rank 0 (host name or address)
  int master_port = 29500;                ///< where rank 0's store listens (TCP)
  /// Bound on every wait for another rank (joining, each all-reduce, broadcast): a rank lost or
  /// hung for longer ends the others with an error naming it.
  double timeout_seconds = 180;

  /// True when valid; otherwise false with `error` saying what is wrong.
  bool IsValid(std::string* error) const {
    auto fail = [error](const std::string& message) {
      if (error) *error = message;
      return false;
    };
    if (world_size < 1) return fail("world size: expected >= 1, got " + std::to_string(world_size));
    if (rank < 0 || rank >= world_size) {
      return fail("rank " + std::to_string(rank) + " is outside 0.." + std::to_string(world_size - 1) +
                  " for a world of size " + std::to_string(world_size));
    }
    if (local_rank < 0) return fail("local rank: expected >= 0, got " + std::to_string(local_rank));
    if (world_size > 1 && master_addr.empty()) return fail("master address: expected a host name or address");
    if (master_port < 1 || master_port > 65535) {
      return fail("master port: expected 1..65535, got " + std::to_string(master_port));
    }
    if (!(timeout_seconds >= 1 && timeout_seconds <= 86400)) {
      return fail("timeout: expected 1..86400 s, got " + std::to_string(timeout_seconds));
    }
    return true;
  }
};

}  // namespace deepik
