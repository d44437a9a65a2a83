#include "deepik/solve/self_motion.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>
#include <string>

#include "deepik/kinematics/builtin_arms.hpp"
#include "deepik/kinematics/joint_configuration.hpp"
#include "deepik/solve/pose_refine.hpp"

namespace deepik {
namespace {

void ThrowUnlessPositive(int value, const char* name) {
  if (value < 1)
    throw std::invalid_argument(std::string(name) + ": expected >= 1, got " + std::to_string(value));
}

SeedArmOptions SeedArmWithFullTurnYaws(const Chain& chain) {
  const std::optional<SeedArmOptions> seed = SeedArmOptionsOf(chain);
  if (!seed || seed->shoulder_yaw_limit_deg < 180.0 || seed->elbow_yaw_limit_deg < 180.0) {
    throw std::invalid_argument("self-motion cells: expected a seed arm with full-turn yaw joints, got '" +
                                chain.name() + "'");
  }
  return *seed;
}

// The frame phi is measured in: the base-target axis, "up" and "side" = axis x up.
struct ElbowCircleFrame {
  Eigen::Vector3d axis, up, side;
};

ElbowCircleFrame FrameOf(const Eigen::Vector3d& p_BT) {
  ElbowCircleFrame f;
  f.axis = p_BT.norm() > 0 ? p_BT.normalized() : Eigen::Vector3d::UnitZ();
  Eigen::Vector3d up = Eigen::Vector3d::UnitZ() - f.axis.z() * f.axis;
  if (up.norm() < 1e-9) up = Eigen::Vector3d::UnitX() - f.axis.x() * f.axis;  // a vertical axis
  f.up = up.normalized();
  f.side = f.axis.cross(f.up);
  return f;
}

int BinOf(double value, double lower, double upper, int bins) {
  const double t = (value - lower) / (upper - lower);
  return std::clamp(static_cast<int>(std::floor(t * bins)), 0, bins - 1);
}

}  // namespace

int SelfMotionCells::FeasibleCount() const {
  return static_cast<int>(std::count(feasible.begin(), feasible.end(), true));
}

double SelfMotionCells::Coverage(const std::vector<int>& cells) const {
  std::vector<bool> hit(feasible.size(), false);
  int count = 0;
  for (const int c : cells) {
    if (c < 0 || c >= static_cast<int>(feasible.size()) || !feasible[static_cast<size_t>(c)] ||
        hit[static_cast<size_t>(c)])
      continue;
    hit[static_cast<size_t>(c)] = true;
    ++count;
  }
  const int total = FeasibleCount();
  return total == 0 ? 0.0 : static_cast<double>(count) / total;
}

int SeedArmSelfMotionCell(const Chain& chain, const Eigen::Vector3d& p_BT, const Eigen::VectorXd& q,
                          int bins) {
  const SeedArmOptions seed = SeedArmWithFullTurnYaws(chain);
  ThrowUnlessPositive(bins, "bins");
  if (q.size() != 4) throw std::invalid_argument("expected 4 joint values, got " + std::to_string(q.size()));
  // Rz(q0) Ry(q1) (0, 0, L1).
  const Eigen::Vector3d elbow =
      seed.link1_length *
      Eigen::Vector3d(std::cos(q[0]) * std::sin(q[1]), std::sin(q[0]) * std::sin(q[1]), std::cos(q[1]));
  const ElbowCircleFrame f = FrameOf(p_BT);
  const double phi = std::atan2(elbow.dot(f.side), elbow.dot(f.up));
  const int branch = (q[1] < 0 ? 1 : 0) + (q[3] < 0 ? 2 : 0);
  return branch * bins + BinOf(phi, -M_PI, M_PI, bins);
}

SelfMotionCells SeedArmSelfMotionCells(const Chain& chain, const Eigen::Vector3d& p_BT, int bins,
                                       int samples_per_bin) {
  const SeedArmOptions seed = SeedArmWithFullTurnYaws(chain);
  ThrowUnlessPositive(bins, "bins");
  ThrowUnlessPositive(samples_per_bin, "samples_per_bin");
  SelfMotionCells cells;
  cells.bins = bins;
  cells.branches = 4;
  cells.feasible.assign(static_cast<size_t>(4 * bins), false);
  const double L1 = seed.link1_length, L2 = seed.link2_length, d = p_BT.norm();
  if (d > L1 + L2 || d < std::abs(L1 - L2) || d == 0) return cells;
  // The elbow circle: centre c along the axis, radius r.
  const double c = (L1 * L1 - L2 * L2 + d * d) / (2 * d);
  const double r = std::sqrt(std::max(0.0, L1 * L1 - c * c));
  // The bend between the links (|q3|) is the same all around the circle.
  const double bend = std::acos(std::clamp((d * d - L1 * L1 - L2 * L2) / (2 * L1 * L2), -1.0, 1.0));
  constexpr double kDegToRad = M_PI / 180.0, kSlack = 1e-12;
  if (bend > seed.elbow_pitch_limit_deg * kDegToRad + kSlack) return cells;
  const ElbowCircleFrame f = FrameOf(p_BT);
  for (int bin = 0; bin < bins; ++bin) {
    for (int s = 0; s < samples_per_bin; ++s) {
      const double phi = -M_PI + 2 * M_PI * (bin + (s + 0.5) / samples_per_bin) / bins;
      const Eigen::Vector3d elbow = c * f.axis + r * (std::cos(phi) * f.up + std::sin(phi) * f.side);
      const double pitch = std::acos(std::clamp(elbow.z() / L1, -1.0, 1.0));  // |q1|
      if (pitch <= seed.shoulder_pitch_limit_deg * kDegToRad + kSlack) {
        for (int branch = 0; branch < 4; ++branch)
          cells.feasible[static_cast<size_t>(branch * bins + bin)] = true;
        break;
      }
    }
  }
  return cells;
}

int JointBinCell(const Chain& chain, int joint, int bins, const Eigen::VectorXd& q) {
  if (joint < 0 || joint >= chain.num_joints())
    throw std::invalid_argument("joint: expected 0.." + std::to_string(chain.num_joints() - 1) + ", got " +
                                std::to_string(joint));
  ThrowUnlessPositive(bins, "bins");
  const Joint& j = chain.joint(joint);
  return BinOf(q[joint], j.lower, j.upper, bins);
}

SelfMotionCells JointBinCells(const Chain& chain, const IkTarget& target, int joint, int bins, int starts,
                              uint64_t seed, const SolverSettings& settings) {
  (void)JointBinCell(chain, joint, bins, chain.mid_configuration());  // validates joint and bins
  ThrowUnlessPositive(starts, "starts");
  ThrowUnlessValidTarget(target);
  SelfMotionCells cells;
  cells.bins = bins;
  cells.feasible.assign(static_cast<size_t>(bins), false);
  SolverSettings single = settings;
  single.refine.restarts = 0;
  single.pose.max_starts = 1;
  const Joint& swept = chain.joint(joint);
  std::mt19937_64 rng(seed);
  for (int bin = 0; bin < bins; ++bin) {
    std::vector<Joint> joints = chain.joints();
    joints[static_cast<size_t>(joint)].lower = swept.lower + (swept.upper - swept.lower) * bin / bins;
    joints[static_cast<size_t>(joint)].upper = swept.lower + (swept.upper - swept.lower) * (bin + 1) / bins;
    const LmSolver lm(Chain(chain.name(), std::move(joints), chain.X_LT()), single.pose, single.refine);
    Eigen::VectorXd q(chain.num_joints());
    for (int s = 0; s < starts; ++s) {
      UniformConfiguration(lm.chain(), &rng, q);
      if (lm.Solve(target, &q).status == SolveStatus::kConverged) {
        cells.feasible[static_cast<size_t>(bin)] = true;
        break;
      }
    }
  }
  return cells;
}

}  // namespace deepik
