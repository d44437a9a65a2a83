// The residual of pose refinement: the weighted excess of the error twist over the target's
// bounds, and its Jacobian; shared by RefinePose and the collision-aware refinement. Internal.
#pragma once

#include <Eigen/Core>
#include <Eigen/Geometry>
#include <algorithm>
#include <cmath>

#include "deepik/kinematics/chain.hpp"
#include "deepik/kinematics/fk.hpp"
#include "deepik/solve/pose_refine.hpp"
#include "deepik/solve/solver.hpp"
#include "solve/joint_storage.hpp"

namespace deepik::internal {

template <int Capacity>
using Jacobian6 = RowsByJoints<6, Capacity>;

// The target as the iterations use it.
struct Problem {
  Eigen::Matrix3d R_target_T = Eigen::Matrix3d::Identity();  // R*^T
  Eigen::Vector3d p_target = Eigen::Vector3d::Zero();
  Vector6d bounds = Vector6d::Zero();
  Vector6d weights = Vector6d::Ones();
  bool orientation = false;
};

inline Problem MakeProblem(const IkTarget& target, double angle_weight) {
  Problem problem;
  problem.p_target = target.p_BT;
  problem.bounds = target.bounds;
  problem.orientation = target.has_orientation();
  if (problem.orientation) problem.R_target_T = target.Q_BT->normalized().toRotationMatrix().transpose();
  problem.weights.tail<3>().setConstant(angle_weight);
  return problem;
}

template <int Capacity>
struct State {
  Vector6d e;             // error twist, target frame, before bounds
  Vector6d r;             // weighted excess: the residual
  double cost;            // 0.5 |r|^2
  Jacobian6<Capacity> J;  // d r / d q
};

// (d/dphi) log(exp(delta) exp(phi)) at delta = 0: the inverse left Jacobian of SO(3).
inline Eigen::Matrix3d InverseLeftJacobian(const Eigen::Vector3d& phi) {
  const double theta = phi.norm();
  Eigen::Matrix3d K;
  K << 0, -phi.z(), phi.y(), phi.z(), 0, -phi.x(), -phi.y(), phi.x(), 0;
  double c;
  if (theta < 1e-4) {
    c = 1.0 / 12.0 + theta * theta / 720.0;
  } else if (std::sin(theta) < 1e-6) {
    c = 0.0;  // at a half turn the logarithm jumps; the plain step does
  } else {
    c = 1.0 / (theta * theta) - (1.0 + std::cos(theta)) / (2.0 * theta * std::sin(theta));
  }
  return Eigen::Matrix3d::Identity() - 0.5 * K + c * K * K;
}

template <int Capacity>
inline void Evaluate(const Chain& chain, const Problem& problem, const VectorQ<Capacity>& q,
                     State<Capacity>* s) {
  const int n = chain.num_joints();
  s->J.resize(6, n);
  Jacobian6<Capacity>& J = s->J;
  Eigen::Isometry3d X_BT;
  TipPoseAndJacobian(chain, q, &X_BT, J);
  const Eigen::Vector3d p_BT = X_BT.translation();
  const Eigen::Matrix3d R_BT = X_BT.linear();
  // The geometric Jacobian (base frame) becomes d e / d q in the target frame.
  s->e.template head<3>().noalias() = problem.R_target_T * (p_BT - problem.p_target);
  for (int j = 0; j < n; ++j)
    J.col(j).template head<3>() = problem.R_target_T * J.col(j).template head<3>().eval();
  if (problem.orientation) {
    Eigen::Quaterniond Q_err(problem.R_target_T * R_BT);
    if (Q_err.w() < 0) Q_err.coeffs() = -Q_err.coeffs();
    const double norm = Q_err.vec().norm();
    const double angle = 2.0 * std::atan2(norm, Q_err.w());
    s->e.template tail<3>() = Q_err.vec() * (norm > 0 ? angle / norm : 2.0);
    const Eigen::Matrix3d M = InverseLeftJacobian(s->e.template tail<3>()) * problem.R_target_T;
    for (int j = 0; j < n; ++j) J.col(j).template tail<3>() = M * J.col(j).template tail<3>().eval();
  } else {
    s->e.template tail<3>().setZero();
  }
  for (int i = 0; i < 6; ++i) {
    const double b = problem.bounds[i], e = s->e[i];
    const double excess = e > b ? e - b : (e < -b ? e + b : 0.0);
    s->r[i] = problem.weights[i] * excess;
    if (excess == 0.0) {
      J.row(i).setZero();
    } else {
      J.row(i) *= problem.weights[i];
    }
  }
  s->cost = 0.5 * s->r.squaredNorm();
}

template <int Capacity>
inline bool Converged(const Problem& problem, const State<Capacity>& s, const PoseRefineOptions& options) {
  // The unweighted excess, recovered from the residual.
  if (!(s.r.template head<3>().norm() <= options.position_tolerance)) return false;
  return !problem.orientation ||
         s.r.template tail<3>().norm() <= options.angle_tolerance * problem.weights[3];
}

/// After an accepted Levenberg-Marquardt step from `cost` to `trial_cost`: Nielsen's update of the
/// damping `mu` by the ratio of the actual to the predicted decrease, and `nu` reset.
template <class Step, class Gradient>
inline void DampingAfterAcceptedStep(double cost, double trial_cost, const Step& step, const Gradient& g,
                                     double* mu, double* nu) {
  const double predicted = 0.5 * (*mu * step.squaredNorm() - g.dot(step));
  const double rho = predicted > 0 ? (cost - trial_cost) / predicted : 1.0;
  const double t = 2.0 * rho - 1.0;
  *mu *= std::max(1.0 / 3.0, 1.0 - t * t * t);
  *nu = 2.0;
}

}  // namespace deepik::internal
