#include "deepik/solve/analytic_seed.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "deepik/kinematics/fk.hpp"

namespace deepik {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kTwoPi = 2.0 * kPi;

// Points of the meridian plane are (s, z): s the signed distance from the z axis along the
// target's azimuth. Angles in that plane are measured from +z toward +s, as the pitch joints turn.
Eigen::Vector2d Direction(double angle) { return Eigen::Vector2d(std::sin(angle), std::cos(angle)); }

// The angle in [lo, hi] (hi - lo <= 2 pi) of the point of the circle arc closest to t.
double ClosestArcAngle(const Eigen::Vector2d& t, const Eigen::Vector2d& center, double radius, double lo,
                       double hi) {
  const Eigen::Vector2d v = t - center;
  if (radius == 0.0 || (v.x() == 0.0 && v.y() == 0.0)) return 0.5 * (lo + hi);  // all points tie
  double offset = std::atan2(v.x(), v.y()) - lo;
  offset -= kTwoPi * std::floor(offset / kTwoPi);
  if (offset <= hi - lo) return lo + offset;
  // Outside the arc: the nearer end along the circle is the nearer end in space.
  return (kTwoPi - offset) <= (offset - (hi - lo)) ? lo : hi;
}

// Gradient of f(q) = |FK(q) - p|^2 / 2: J^T (FK(q) - p), J the position rows of the Jacobian.
Eigen::Vector4d Gradient(const Chain& chain, const Eigen::Vector3d& p, const Eigen::Vector4d& q,
                         Eigen::Vector3d* e) {
  Matrix6Xd J(6, 4);
  TipJacobian(chain, q, J);
  *e = TipPosition(chain, q) - p;
  return J.topRows<3>().transpose() * *e;
}

// Box-constrained damped Newton on f(q) = |FK(q) - p|^2 / 2 from q (in limits), with the Hessian
// from central differences of the exact gradient: out of reach the residual is large and
// Gauss-Newton, which drops the second-order term, converges only linearly. Joints at a limit
// that the gradient pushes outward stay there (active set). Returns the iterations taken.
int RefineWithinLimits(const Chain& chain, const Eigen::Vector3d& p, int max_iterations, Eigen::Vector4d* q) {
  const Eigen::Vector4d lo = chain.lower_limits(), hi = chain.upper_limits();
  constexpr double kStep = 1e-6;
  Eigen::Vector3d e;
  double lambda = 1e-6;
  int it = 0;
  for (; it < max_iterations; ++it) {
    Eigen::Vector4d g = Gradient(chain, p, *q, &e);
    const double f = 0.5 * e.squaredNorm();
    if (f == 0.0) break;
    Eigen::Matrix4d H;
    for (int i = 0; i < 4; ++i) {
      Eigen::Vector4d dq = Eigen::Vector4d::Zero();
      dq[i] = kStep;
      Eigen::Vector3d unused;
      H.col(i) = (Gradient(chain, p, *q + dq, &unused) - Gradient(chain, p, *q - dq, &unused)) / (2 * kStep);
    }
    H = (0.5 * (H + H.transpose())).eval();
    for (int i = 0; i < 4; ++i) {
      if (((*q)[i] <= lo[i] && g[i] > 0.0) || ((*q)[i] >= hi[i] && g[i] < 0.0)) {
        H.row(i).setZero();
        H.col(i).setZero();
        H(i, i) = 1.0;
        g[i] = 0.0;
      }
    }
    if (g.squaredNorm() == 0.0) break;
    bool improved = false;
    for (; lambda < 1e12; lambda *= 4.0) {
      const Eigen::LLT<Eigen::Matrix4d> llt(H + lambda * Eigen::Matrix4d::Identity());
      if (llt.info() != Eigen::Success) continue;
      const Eigen::Vector4d q_new = (*q - llt.solve(g)).cwiseMax(lo).cwiseMin(hi);
      const double f_new = 0.5 * (TipPosition(chain, q_new) - p).squaredNorm();
      if (f_new < f) {
        improved = (q_new - *q).norm() > 1e-15;
        *q = q_new;
        lambda = std::max(lambda / 4.0, 1e-12);
        break;
      }
    }
    if (!improved) break;
  }
  return it;
}

}  // namespace

const char* ToString(SeedReachability reachability) {
  switch (reachability) {
    case SeedReachability::kReachable:
      return "reachable";
    case SeedReachability::kBeyondReach:
      return "beyond reach";
    case SeedReachability::kInnerHollow:
      return "inner hollow";
    case SeedReachability::kBelowAllowed:
      return "below allowed";
  }
  return "unknown";
}

AnalyticSeedSolver::AnalyticSeedSolver(const SeedArmOptions& options)
    : options_(options), chain_(MakeSeedArm(options)) {
  l1_ = options.link1_length;
  l2_ = options.link2_length;
  yaw_limit_ = chain_.joint(0).upper;
  pitch_limit_ = chain_.joint(1).upper;
  elbow_pitch_limit_ = chain_.joint(3).upper;
  exact_ = options.shoulder_yaw_limit_deg >= 90.0 &&
           (options.elbow_yaw_limit_deg >= 90.0 || options.elbow_pitch_limit_deg == 0.0);
  rho_max_ = l1_ + l2_;
  // |L1 e + L2 R(D) e|^2 = (L1 - L2)^2 + 4 L1 L2 cos^2(D / 2): no cancellation near D = pi.
  const double c = std::cos(0.5 * elbow_pitch_limit_);
  rho_min_ = std::sqrt((l1_ - l2_) * (l1_ - l2_) + 4.0 * l1_ * l2_ * c * c);
  gamma_limit_ = std::atan2(l2_ * std::sin(elbow_pitch_limit_), l1_ + l2_ * std::cos(elbow_pitch_limit_));
  tolerance_ = 1e-13 * rho_max_;
  if (!exact_) {
    const std::array<int, 4> counts = {13, 9, 13, 11};
    Eigen::Vector4d q;
    auto value = [&](int joint, int k) {
      const Joint& j = chain_.joint(joint);
      return j.lower + (j.upper - j.lower) * (k + 0.5) / counts[static_cast<size_t>(joint)];
    };
    for (int i0 = 0; i0 < counts[0]; ++i0) {
      for (int i1 = 0; i1 < counts[1]; ++i1) {
        for (int i2 = 0; i2 < counts[2]; ++i2) {
          for (int i3 = 0; i3 < counts[3]; ++i3) {
            q << value(0, i0), value(1, i1), value(2, i2), value(3, i3);
            grid_q_.push_back(q);
            grid_p_.push_back(Fk(q));
          }
        }
      }
    }
  }
}

Eigen::Vector3d AnalyticSeedSolver::Fk(const Eigen::Vector4d& q) const { return TipPosition(chain_, q); }

Eigen::Vector4d AnalyticSeedSolver::ExactClosestConfiguration(const Eigen::Vector3d& p_BT,
                                                              bool* reachable) const {
  const double B = pitch_limit_, D = elbow_pitch_limit_;
  const double r = std::hypot(p_BT.x(), p_BT.y());
  const double rho = p_BT.norm();
  const double phi = r > 0.0 ? std::atan2(p_BT.y(), p_BT.x()) : 0.0;  // on the z axis: yaw 0
  // The solution lies in the meridian plane at azimuth phi as a planar arm: shoulder pitch alpha
  // in [-B, B], elbow pitch delta in [-D, D], elbow yaw 0.
  double alpha = 0.0, delta = 0.0;
  *reachable = false;
  if (rho >= rho_min_ - tolerance_ && rho <= rho_max_ + tolerance_) {
    // Elbow angle from the distance, in half angles: sin^2(delta/2) = ((L1+L2)^2 - rho^2) / (4 L1 L2).
    const double dl = std::abs(l1_ - l2_);
    const double half = std::atan2(std::sqrt(std::max(0.0, (rho_max_ - rho) * (rho_max_ + rho))),
                                   std::sqrt(std::max(0.0, (rho - dl) * (rho + dl))));
    delta = std::min(2.0 * half, D);
    // The tip direction turns gamma past link 1; the target's polar angle is theta.
    const double gamma = rho > 0.0 ? std::atan2(l2_ * std::sin(delta), l1_ + l2_ * std::cos(delta)) : 0.0;
    const double theta = std::atan2(r, p_BT.z());
    const double angle_tolerance = rho > 0.0 ? tolerance_ / rho : kPi;
    if (std::abs(theta - gamma) <= B + angle_tolerance) {
      alpha = std::clamp(theta - gamma, -B, B);
      *reachable = true;
    }
  }
  if (!*reachable) {
    // The boundary of the planar workspace lies on five arcs; the closest point is on one of them.
    const Eigen::Vector2d t(r, p_BT.z());
    const Eigen::Vector2d origin = Eigen::Vector2d::Zero();
    const Eigen::Vector2d elbow_plus = l1_ * Direction(B), elbow_minus = l1_ * Direction(-B);
    double best = std::numeric_limits<double>::infinity();
    auto consider = [&](double a, double d) {
      a = std::clamp(a, -B, B);
      d = std::clamp(d, -D, D);
      const Eigen::Vector2d tip = l1_ * Direction(a) + l2_ * Direction(a + d);
      const double distance = (tip - t).norm();
      if (distance < best) {
        best = distance;
        alpha = a;
        delta = d;
      }
    };
    // Outer sphere: elbow straight.
    consider(ClosestArcAngle(t, origin, rho_max_, -B, B), 0.0);
    // Inner hollow sphere: elbow pitch at +D or -D.
    const double gl = gamma_limit_;
    consider(ClosestArcAngle(t, origin, rho_min_, -B + gl, B + gl) - gl, D);
    consider(ClosestArcAngle(t, origin, rho_min_, -B - gl, B - gl) + gl, -D);
    // Shoulder pitch at +B or -B, link 2 sweeping around the elbow.
    consider(B, ClosestArcAngle(t, elbow_plus, l2_, B - D, B + D) - B);
    consider(-B, ClosestArcAngle(t, elbow_minus, l2_, -B - D, -B + D) + B);
  }
  // Yaw to the target's azimuth; when the limit excludes it, the opposite azimuth with both
  // pitches negated reaches the same point (|phi -+ pi| <= pi - yaw limit <= yaw limit).
  double yaw = phi;
  if (std::abs(phi) > yaw_limit_) {
    yaw = phi > 0.0 ? phi - kPi : phi + kPi;
    alpha = -alpha;
    delta = -delta;
  }
  Eigen::Vector4d q(std::clamp(yaw, -yaw_limit_, yaw_limit_), alpha, 0.0, delta);
  return q;
}

Eigen::Vector4d AnalyticSeedSolver::NumericClosestConfiguration(const Eigen::Vector3d& p_BT,
                                                                int* iterations) const {
  // The best grid points with distinct positions start the descent.
  constexpr size_t kCandidates = 200, kStarts = 12;
  std::vector<std::pair<double, size_t>> order(grid_p_.size());
  for (size_t i = 0; i < grid_p_.size(); ++i) order[i] = {(grid_p_[i] - p_BT).squaredNorm(), i};
  const size_t candidates = std::min(kCandidates, order.size());
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(candidates), order.end());
  std::vector<size_t> starts;
  for (size_t k = 0; k < candidates && starts.size() < kStarts; ++k) {
    bool distinct = true;
    for (size_t s : starts) distinct = distinct && (grid_p_[s] - grid_p_[order[k].second]).norm() > 1e-9;
    if (distinct) starts.push_back(order[k].second);
  }
  Eigen::Vector4d best_q = grid_q_[starts[0]];
  double best = std::numeric_limits<double>::infinity();
  *iterations = 0;
  for (size_t start : starts) {
    Eigen::Vector4d q = grid_q_[start];
    *iterations += RefineWithinLimits(chain_, p_BT, 200, &q);
    const double d = (Fk(q) - p_BT).norm();
    if (d < best) {
      best = d;
      best_q = q;
    }
    if (best <= 1e-15 * rho_max_) break;
  }
  return best_q;
}

Eigen::Vector4d AnalyticSeedSolver::ClosestConfiguration(const Eigen::Vector3d& p_BT, bool* reachable,
                                                         int* iterations) const {
  *iterations = 0;
  if (exact_) return ExactClosestConfiguration(p_BT, reachable);
  const Eigen::Vector4d q = NumericClosestConfiguration(p_BT, iterations);
  *reachable = (Fk(q) - p_BT).norm() <= 1e-10;
  return q;
}

namespace {
void RequireFinite(const Eigen::Vector3d& p_BT, const char* function) {
  if (!p_BT.allFinite()) {
    throw std::invalid_argument(std::string("AnalyticSeedSolver::") + function +
                                ": expected a finite target, got (" + std::to_string(p_BT.x()) + ", " +
                                std::to_string(p_BT.y()) + ", " + std::to_string(p_BT.z()) + ")");
  }
}
}  // namespace

SeedReachability AnalyticSeedSolver::Classify(const Eigen::Vector3d& p_BT) const {
  RequireFinite(p_BT, "Classify");
  const double rho = p_BT.norm();
  if (rho > rho_max_ + tolerance_) return SeedReachability::kBeyondReach;
  if (rho < rho_min_ - tolerance_) return SeedReachability::kInnerHollow;
  bool reachable = false;
  int iterations = 0;
  (void)ClosestConfiguration(p_BT, &reachable, &iterations);
  return reachable ? SeedReachability::kReachable : SeedReachability::kBelowAllowed;
}

Eigen::Vector3d AnalyticSeedSolver::ClosestReachablePoint(const Eigen::Vector3d& p_BT,
                                                          double* distance) const {
  RequireFinite(p_BT, "ClosestReachablePoint");
  bool reachable = false;
  int iterations = 0;
  const Eigen::Vector4d q = ClosestConfiguration(p_BT, &reachable, &iterations);
  const Eigen::Vector3d p = reachable ? p_BT : Fk(q);
  if (distance != nullptr) *distance = (p - p_BT).norm();
  return p;
}

SolveResult AnalyticSeedSolver::Solve(const IkTarget& target, const Eigen::VectorXd* /*q_start*/) const {
  if (target.has_orientation() || target.has_bounds()) {
    throw std::invalid_argument(
        "analytic: the seed arm's closed form solves position-only targets, got a target with an orientation "
        "or "
        "bounds");
  }
  SolveResult result;
  if (!target.p_BT.allFinite()) {
    result.q = Eigen::VectorXd::Zero(4);
    result.p_reached = Fk(Eigen::Vector4d::Zero());
    result.error = std::numeric_limits<double>::infinity();
    result.status = SolveStatus::kFailed;
    return result;
  }
  bool reachable = false;
  const Eigen::Vector4d q = ClosestConfiguration(target.p_BT, &reachable, &result.iterations);
  result.q = q;
  result.p_reached = Fk(q);
  result.error = (result.p_reached - target.p_BT).norm();
  result.status = reachable ? SolveStatus::kConverged : SolveStatus::kOutOfReach;
  MeasureOrientation(chain(), target, &result);
  return result;
}

}  // namespace deepik
