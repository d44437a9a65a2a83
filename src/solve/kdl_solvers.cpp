#include "deepik/solve/kdl_solvers.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <kdl/chain.hpp>
#include <kdl/chainfksolverpos_recursive.hpp>
#include <kdl/chainiksolverpos_lma.hpp>
#include <kdl/chainiksolverpos_nr_jl.hpp>
#include <kdl/chainiksolvervel_wdls.hpp>
#include <kdl/frames.hpp>
#include <kdl/jntarray.hpp>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>

#include "deepik/kinematics/fk.hpp"
#include "deepik/kinematics/joint_configuration.hpp"

namespace deepik {
namespace internal {

// Not public API (the public header stays free of KDL types). KdlTipPose is a test hook, also
// declared in tests/kdl_solvers_test.cpp.
KDL::Chain ToKdlChain(const Chain& chain);
Eigen::Isometry3d KdlTipPose(const Chain& chain, const Eigen::Ref<const Eigen::VectorXd>& q);

}  // namespace internal

namespace {

KDL::Frame ToKdlFrame(const Eigen::Isometry3d& X) {
  const Eigen::Matrix3d& R = X.linear();
  const Eigen::Vector3d& p = X.translation();
  // KDL::Rotation takes its nine entries row by row.
  return KDL::Frame(
      KDL::Rotation(R(0, 0), R(0, 1), R(0, 2), R(1, 0), R(1, 1), R(1, 2), R(2, 0), R(2, 1), R(2, 2)),
      KDL::Vector(p.x(), p.y(), p.z()));
}

// wdls's damping of (near-)zero singular values; see SolveNrJl.
constexpr double kWdlsLambda = 1e-3;
// KDL's default orientation weight of ChainIkSolverPos_LMA (L = 1, 1, 1, 0.1, 0.1, 0.1).
constexpr double kLmaRotationWeight = 0.1;

KDL::JntArray ToJntArray(const Eigen::VectorXd& v) {
  KDL::JntArray a(static_cast<unsigned int>(v.size()));
  a.data = v;
  return a;
}

void ThrowUnlessValid(const KdlOptions& options) {
  if (options.max_iterations < 1) {
    throw std::invalid_argument("KdlOptions::max_iterations: expected >= 1, got " +
                                std::to_string(options.max_iterations));
  }
  if (!std::isfinite(options.eps) || options.eps <= 0.0) {
    std::ostringstream message;
    message << "KdlOptions::eps: expected a finite value > 0, got " << options.eps;
    throw std::invalid_argument(message.str());
  }
  if (!std::isfinite(options.timeout_seconds) || options.timeout_seconds < 0.0) {
    std::ostringstream message;
    message << "KdlOptions::timeout_seconds: expected a finite value >= 0, got " << options.timeout_seconds;
    throw std::invalid_argument(message.str());
  }
  if (options.max_attempts < 0) {
    throw std::invalid_argument("KdlOptions::max_attempts: expected >= 0, got " +
                                std::to_string(options.max_attempts));
  }
}

class KdlSolver final : public Solver {
 public:
  KdlSolver(const Chain& chain, KdlMethod method, const KdlOptions& options)
      : chain_(chain),
        method_(method),
        options_(options),
        kdl_chain_(internal::ToKdlChain(chain)),
        kdl_chain_nr_(kdl_chain_) {
    // See SolveNrJl: wdls needs at least 6 joints; the extra ones are locked at 0.
    const int padding = std::max(0, 6 - chain.num_joints());
    const KDL::Vector axes[3] = {KDL::Vector(1, 0, 0), KDL::Vector(0, 1, 0), KDL::Vector(0, 0, 1)};
    for (int k = 0; k < padding; ++k) {
      const std::string name = "deepik_locked_" + std::to_string(k);
      kdl_chain_nr_.addSegment(
          KDL::Segment(name, KDL::Joint(name, KDL::Vector::Zero(), axes[k % 3], KDL::Joint::RotAxis)));
    }
    q_min_nr_ = KDL::JntArray(kdl_chain_nr_.getNrOfJoints());
    q_max_nr_ = KDL::JntArray(kdl_chain_nr_.getNrOfJoints());
    q_min_nr_.data.setZero();
    q_max_nr_.data.setZero();
    q_min_nr_.data.head(chain.num_joints()) = chain.lower_limits();
    q_max_nr_.data.head(chain.num_joints()) = chain.upper_limits();
  }

  KdlSolver(const KdlSolver&) = delete;
  KdlSolver& operator=(const KdlSolver&) = delete;

  std::string name() const override { return ToString(method_); }
  const Chain& chain() const override { return chain_; }

  SolveResult Solve(const IkTarget& target, const Eigen::VectorXd* q_start) const override {
    if (!target.p_BT.allFinite()) {
      throw std::invalid_argument("KdlSolver::Solve: expected a finite target position");
    }
    ThrowUnlessValidTarget(target);
    const int n = chain_.num_joints();
    Eigen::VectorXd q0 = chain_.mid_configuration();
    if (q_start != nullptr) {
      if (q_start->size() != n || !q_start->allFinite()) {
        throw std::invalid_argument("KdlSolver::Solve: expected a finite q_start of size " +
                                    std::to_string(n) + ", got size " + std::to_string(q_start->size()));
      }
      q0 = q_start->cwiseMax(chain_.lower_limits()).cwiseMin(chain_.upper_limits());
    }

    // KDL::Joint caches its last pose in mutable members, so even a const KDL::Chain cannot be
    // evaluated by two threads at once: every call works on its own copy of the chain, and builds
    // its KDL solvers (which hold a reference to that copy plus mutable scratch) on the stack.
    switch (method_) {
      case KdlMethod::kNewtonRaphsonJl:
        return Finish(target, q0, SolveNrJl(target, q0));
      case KdlMethod::kLma:
        return Finish(target, q0, SolveLma(target, q0));
      case KdlMethod::kNewtonRaphsonJlRestarts:
        return SolveWithRestarts(target, q0, /*lma=*/false);
      case KdlMethod::kLmaRestarts:
        return SolveWithRestarts(target, q0, /*lma=*/true);
    }
    return Finish(target, q0, SolveNrJl(target, q0));
  }

 private:
  // Whatever KDL did, hand back finite joint values within the limits, the point they reach, the
  // error and the status.
  SolveResult Finish(const IkTarget& target, const Eigen::VectorXd& q0, SolveResult result) const {
    if (!result.q.allFinite()) result.q = q0;
    result.q = result.q.cwiseMax(chain_.lower_limits()).cwiseMin(chain_.upper_limits());
    MeasureResult(chain_, target, &result);
    const bool reached = IsPlainPosition(target)
                             ? result.error < options_.eps
                             : WithinTolerance(target, result.Q_reached.toRotationMatrix(), result.p_reached,
                                               options_.eps, options_.eps);
    result.status = reached ? SolveStatus::kConverged : SolveStatus::kFailed;
    return result;
  }

  static bool IsPlainPosition(const IkTarget& target) {
    return !target.has_orientation() && !target.has_bounds();
  }

  // The stopping test of the iterations: the position error, and for a pose the angle too, below
  // eps (the bounds only widen Finish's test: KDL iterates toward the exact pose).
  bool Reached(const IkTarget& target, const Eigen::VectorXd& q) const {
    const Eigen::Isometry3d X_BT = TipPose(chain_, q);
    if ((X_BT.translation() - target.p_BT).norm() >= options_.eps) return false;
    return !target.Q_BT ||
           RotationAngleBetween(target.Q_BT->normalized().toRotationMatrix(), X_BT.linear()) < options_.eps;
  }

  static KDL::Frame GoalFrame(const IkTarget& target) {
    Eigen::Isometry3d X = Eigen::Isometry3d::Identity();
    X.translation() = target.p_BT;
    if (target.Q_BT) X.linear() = target.Q_BT->normalized().toRotationMatrix();
    return ToKdlFrame(X);
  }

  // MoveIt's KDL plugin loop (searchPositionIK), around NR_JL or LMA: attempt after attempt, each from joint
  // values uniform within the limits, while time is left; the first attempt always runs.
  SolveResult SolveWithRestarts(const IkTarget& target, const Eigen::VectorXd& q0, bool lma) const {
    using Clock = std::chrono::steady_clock;
    const Clock::time_point start = Clock::now();
    std::mt19937_64 rng(options_.seed);
    Eigen::VectorXd q_start = q0;
    SolveResult best;
    int iterations = 0;
    for (int attempt = 0;; ++attempt) {
      if (attempt > 0) {
        if (options_.max_attempts > 0 && attempt >= options_.max_attempts) break;
        if (std::chrono::duration<double>(Clock::now() - start).count() >= options_.timeout_seconds) break;
        UniformConfiguration(chain_, &rng, q_start);
      }
      const SolveResult result =
          Finish(target, q_start, lma ? SolveLma(target, q_start) : SolveNrJl(target, q_start));
      iterations += result.iterations;
      if (attempt == 0 || result.error < best.error) best = result;
      if (best.status == SolveStatus::kConverged) break;
    }
    best.iterations = iterations;
    return best;
  }

  // ChainIkSolverPos_NR_JL with a position-only stopping test. NR_JL's own test compares the full
  // 6-D twist with eps, which never vanishes for a position-only target. So the velocity solver is
  // ChainIkSolverVel_wdls with task-space weights diag(1, 1, 1, 0, 0, 0) (orientation rows weighted
  // out; the target frame's rotation is then irrelevant, identity here), and NR_JL runs one
  // iteration per call (maxiter = 1: FK, one weighted least-squares step, clamp into the limits)
  // inside our loop of at most max_iterations, which checks the position error |p - target| < eps
  // before each step. That is NR_JL's algorithm with a position-only stopping test.
  //
  // Two KDL 1.5 defects of wdls need working around:
  // - With the orientation rows weighted out, the weighted Jacobian has rank <= 3, so at least
  //   three of its six leading singular values are (exactly) 0, and wdls's default lambda = 0
  //   turns them into 0/0 = NaN steps. kWdlsLambda makes
  //   those directions contribute 0; it only damps singular values below wdls's eps (1e-5).
  // - wdls reads U.topLeftCorner(6, 6) of the 6 x n SVD factor, which aborts (Eigen assertion;
  //   orocos_kinematics_dynamics issue #77) for chains of fewer than 6 joints. Such chains get
  //   dummy revolute joints at the tip, locked at 0 by limits [0, 0]: they cannot move the tip's
  //   position and their weighted Jacobian columns are exactly zero, so the steps are unchanged.
  SolveResult SolveNrJl(const IkTarget& target, const Eigen::VectorXd& q0) const {
    const KDL::Chain kdl_chain = kdl_chain_nr_;  // per-call copy, see Solve
    const unsigned int n_kdl = kdl_chain.getNrOfJoints();
    KDL::ChainFkSolverPos_recursive fk(kdl_chain);
    KDL::ChainIkSolverVel_wdls vel(kdl_chain);  // KDL defaults: eps 1e-5, maxiter 150
    if (!target.has_orientation()) {            // a pose target keeps wdls's default weights (identity)
      Eigen::MatrixXd weight_ts = Eigen::MatrixXd::Zero(6, 6);
      weight_ts.diagonal().head<3>().setOnes();
      vel.setWeightTS(weight_ts);
    }
    vel.setLambda(kWdlsLambda);
    KDL::ChainIkSolverPos_NR_JL nr(kdl_chain, q_min_nr_, q_max_nr_, fk, vel, /*maxiter=*/1, options_.eps);
    const KDL::Frame goal = GoalFrame(target);

    const int n = chain_.num_joints();
    KDL::JntArray q(n_kdl);
    q.data.setZero();  // the padding joints stay at 0
    q.data.head(n) = q0;
    KDL::JntArray q_next(n_kdl);
    int iterations = 0;
    while (iterations < options_.max_iterations) {
      if (Reached(target, q.data.head(n))) break;
      const int code = nr.CartToJnt(q, goal, q_next);
      if (code < KDL::SolverI::E_NOERROR && code != KDL::ChainIkSolverPos_NR_JL::E_MAX_ITERATIONS_EXCEEDED) {
        break;  // the velocity or FK solver failed: keep the last good q
      }
      ++iterations;
      if (!q_next.data.allFinite()) break;
      q = q_next;
    }
    SolveResult result;
    result.q = q.data.head(n);
    result.iterations = iterations;
    return result;
  }

  // ChainIkSolverPos_LMA weighted to position only, L = (1, 1, 1, 0, 0, 0). LMA ignores joint
  // limits: its answer is clamped into them afterwards (in Solve) and the error recomputed there.
  SolveResult SolveLma(const IkTarget& target, const Eigen::VectorXd& q0) const {
    const KDL::Chain kdl_chain = kdl_chain_;  // per-call copy, see Solve
    Eigen::Matrix<double, 6, 1> weights;
    weights << 1.0, 1.0, 1.0, 0.0, 0.0, 0.0;
    double eps = options_.eps;
    if (target.has_orientation()) {
      // LMA's default weights; it stops when the weighted error's norm is below its eps, so the
      // rotation (weight 0.1) gets eps / 10 there to be within eps.
      weights.tail<3>().setConstant(kLmaRotationWeight);
      eps *= kLmaRotationWeight;
    }
    KDL::ChainIkSolverPos_LMA lma(kdl_chain, weights, eps, options_.max_iterations);
    const KDL::Frame goal = GoalFrame(target);
    const KDL::JntArray q_init = ToJntArray(q0);
    KDL::JntArray q_out(q_init.rows());
    // The return code says converged / gradient or increment too small / out of iterations; the
    // status is decided on the clamped answer instead.
    (void)lma.CartToJnt(q_init, goal, q_out);
    SolveResult result;
    result.q = q_out.data;
    result.iterations = std::max(0, lma.lastNrOfIter);
    return result;
  }

  Chain chain_;
  KdlMethod method_;
  KdlOptions options_;
  // The converted chains are never evaluated themselves (see Solve), only copied.
  KDL::Chain kdl_chain_;     // for LMA
  KDL::Chain kdl_chain_nr_;  // for NR_JL: padded to at least 6 joints (see SolveNrJl)
  KDL::JntArray q_min_nr_;   // limits of kdl_chain_nr_'s joints
  KDL::JntArray q_max_nr_;
};

}  // namespace

namespace internal {

// One fixed segment carries the first joint's origin X_PJ; segment i then moves about (or along)
// axis_J of joint i through the origin of its own root frame, and its tip frame is the next joint's
// origin X_PJ (or X_LT after the last joint). So the segment poses multiply out to deepik's
// X_BT = X_PJ0 * M0(q0) * X_PJ1 * M1(q1) * ... * X_LT term by term.
KDL::Chain ToKdlChain(const Chain& chain) {
  KDL::Chain kdl_chain;
  kdl_chain.addSegment(
      KDL::Segment("deepik_base", KDL::Joint(KDL::Joint::Fixed), ToKdlFrame(chain.joint(0).X_PJ)));
  for (int i = 0; i < chain.num_joints(); ++i) {
    const Joint& joint = chain.joint(i);
    const KDL::Vector axis(joint.axis_J.x(), joint.axis_J.y(), joint.axis_J.z());
    const KDL::Joint::JointType type =
        joint.type == JointType::kRevolute ? KDL::Joint::RotAxis : KDL::Joint::TransAxis;
    const Eigen::Isometry3d& X_tip = i + 1 < chain.num_joints() ? chain.joint(i + 1).X_PJ : chain.X_LT();
    kdl_chain.addSegment(
        KDL::Segment(joint.name, KDL::Joint(joint.name, KDL::Vector::Zero(), axis, type), ToKdlFrame(X_tip)));
  }
  return kdl_chain;
}

Eigen::Isometry3d KdlTipPose(const Chain& chain, const Eigen::Ref<const Eigen::VectorXd>& q) {
  const KDL::Chain kdl_chain = ToKdlChain(chain);
  KDL::ChainFkSolverPos_recursive fk(kdl_chain);
  KDL::JntArray q_kdl(static_cast<unsigned int>(q.size()));
  q_kdl.data = q;
  KDL::Frame X_BT;
  if (fk.JntToCart(q_kdl, X_BT) < 0) throw std::logic_error("KDL forward kinematics failed");
  Eigen::Isometry3d result = Eigen::Isometry3d::Identity();
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) result.linear()(r, c) = X_BT.M(r, c);
    result.translation()[r] = X_BT.p[r];
  }
  return result;
}

}  // namespace internal

const char* ToString(KdlMethod method) {
  switch (method) {
    case KdlMethod::kNewtonRaphsonJl:
      return "kdl-nr";
    case KdlMethod::kLma:
      return "kdl-lma";
    case KdlMethod::kNewtonRaphsonJlRestarts:
      return "kdl-nr-restarts";
    case KdlMethod::kLmaRestarts:
      return "kdl-lma-restarts";
  }
  return "kdl";
}

KdlOptions MoveItKdlOptions() {
  KdlOptions options;
  options.max_iterations = 500;
  options.eps = 1e-5;
  options.timeout_seconds = 0.005;
  return options;
}

std::unique_ptr<Solver> MakeKdlSolver(const Chain& chain, KdlMethod method, const KdlOptions& options) {
  ThrowUnlessValid(options);
  return std::make_unique<KdlSolver>(chain, method, options);
}

}  // namespace deepik
