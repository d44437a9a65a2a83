#include "deepik/solve/solver.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "deepik/errors.hpp"
#include "deepik/kinematics/fk.hpp"
#include "solve/parallel.hpp"

namespace deepik {

Vector6d PoseErrorTwist(const IkTarget& target, const Eigen::Matrix3d& R_BT, const Eigen::Vector3d& p_BT) {
  Vector6d e;
  if (!target.Q_BT) {
    e.head<3>() = p_BT - target.p_BT;
    e.tail<3>().setZero();
    return e;
  }
  const Eigen::Matrix3d R_target = target.Q_BT->normalized().toRotationMatrix();
  e.head<3>().noalias() = R_target.transpose() * (p_BT - target.p_BT);
  // The rotation vector through the quaternion (atan2 keeps full precision near 0).
  Eigen::Quaterniond Q_err(R_target.transpose() * R_BT);
  if (Q_err.w() < 0) Q_err.coeffs() = -Q_err.coeffs();
  const double n = Q_err.vec().norm();
  const double angle = 2.0 * std::atan2(n, Q_err.w());
  e.tail<3>() = Q_err.vec() * (n > 0 ? angle / n : 2.0);
  return e;
}

Vector6d ExcessOverBounds(const Vector6d& error, const Vector6d& bounds) {
  Vector6d excess;
  for (int i = 0; i < 6; ++i) {
    const double b = bounds[i];
    excess[i] = error[i] > b ? error[i] - b : (error[i] < -b ? error[i] + b : 0.0);
  }
  return excess;
}

Vector6d ParseAxisBounds(const std::string& text) {
  static const char* const kAxes[6] = {"x", "y", "z", "rx", "ry", "rz"};
  Vector6d bounds = Vector6d::Zero();
  bool seen[6] = {false, false, false, false, false, false};
  std::stringstream items(text);
  std::string item;
  while (std::getline(items, item, ',')) {
    const size_t eq = item.find('=');
    const std::string axis = item.substr(0, eq);
    int index = -1;
    for (int i = 0; i < 6; ++i) {
      if (axis == kAxes[i]) index = i;
    }
    if (index < 0) {
      throw InputError("axis bounds: expected AXIS=VALUE with AXIS one of x, y, z, rx, ry, rz, got '" + item +
                       "'");
    }
    if (seen[index]) throw InputError("axis bounds: axis '" + axis + "' given twice");
    seen[index] = true;
    const std::string value = eq == std::string::npos ? "" : item.substr(eq + 1);
    if (value == "free" || value == "inf") {
      bounds[index] = std::numeric_limits<double>::infinity();
      continue;
    }
    char* end = nullptr;
    const double v = value.empty() ? -1.0 : std::strtod(value.c_str(), &end);
    if (value.empty() || end == nullptr || *end != '\0' || !(v >= 0.0) || !std::isfinite(v)) {
      throw InputError("axis bounds: expected " + axis +
                       "=VALUE with a number >= 0 (m or rad) or 'free', got '" + item + "'");
    }
    bounds[index] = v;
  }
  return bounds;
}

void ThrowUnlessValidTarget(const IkTarget& target) {
  if (!target.p_BT.allFinite()) throw std::invalid_argument("IkTarget::p_BT: expected finite coordinates");
  if (target.Q_BT) {
    const double norm = target.Q_BT->coeffs().norm();
    if (!target.Q_BT->coeffs().allFinite() || std::abs(norm - 1.0) > 1e-6) {
      std::ostringstream message;
      message << "IkTarget::Q_BT: expected a unit quaternion (norm within 1e-6 of 1), got norm " << norm;
      throw std::invalid_argument(message.str());
    }
  }
  for (int i = 0; i < 6; ++i) {
    if (!(target.bounds[i] >= 0.0)) {
      std::ostringstream message;
      message << "IkTarget::bounds[" << i << "]: expected a value >= 0 (or +infinity), got "
              << target.bounds[i];
      throw std::invalid_argument(message.str());
    }
  }
}

void MeasureOrientation(const Chain& chain, const IkTarget& target, SolveResult* result) {
  const Eigen::Isometry3d X_BT = TipPose(chain, result->q);
  result->Q_reached = Eigen::Quaterniond(X_BT.linear());
  if (result->Q_reached.w() < 0) result->Q_reached.coeffs() = -result->Q_reached.coeffs();
  result->angle_error =
      target.Q_BT ? RotationAngleBetween(target.Q_BT->normalized().toRotationMatrix(), X_BT.linear())
                  : std::numeric_limits<double>::quiet_NaN();
}

void MeasureResult(const Chain& chain, const IkTarget& target, SolveResult* result) {
  MeasureOrientation(chain, target, result);
  result->p_reached = TipPosition(chain, result->q);
  result->error = (result->p_reached - target.p_BT).norm();
}

bool WithinTolerance(const IkTarget& target, const Eigen::Matrix3d& R_BT, const Eigen::Vector3d& p_BT,
                     double position_tolerance, double angle_tolerance) {
  const Vector6d excess = ExcessOverBounds(PoseErrorTwist(target, R_BT, p_BT), target.bounds);
  if (!(excess.head<3>().norm() <= position_tolerance)) return false;
  return !target.Q_BT || excess.tail<3>().norm() <= angle_tolerance;
}

const char* ToString(SolveStatus status) {
  switch (status) {
    case SolveStatus::kConverged:
      return "converged";
    case SolveStatus::kApproximate:
      return "approximate";
    case SolveStatus::kOutOfReach:
      return "out of reach";
    case SolveStatus::kFailed:
      return "failed";
    case SolveStatus::kInCollision:
      return "in collision";
  }
  return "unknown";
}

std::vector<Eigen::VectorXd> Solver::ProposeStarts(const IkTarget&) const { return {}; }

std::vector<SolveResult> Solver::SolveBatch(const std::vector<IkTarget>& targets, int threads) const {
  std::vector<SolveResult> results(targets.size());
  internal::ParallelFor(targets.size(), threads, [&](size_t i) { results[i] = Solve(targets[i]); });
  return results;
}

}  // namespace deepik
