// Small rotation helpers shared by the FK loops. Internal to the library.
#pragma once

#include <Eigen/Core>

namespace deepik::internal {

// R <- R * Rot(axis, angle) for a unit axis in R's frame; the coordinate axes (the common case)
// touch only two columns.
inline void RotateLocal(Eigen::Matrix3d* R, const Eigen::Vector3d& axis, double s, double c) {
  Eigen::Matrix3d& M = *R;
  auto turn = [&M, s, c](int i, int k) {  // columns i, k: a rotation about the third axis
    const Eigen::Vector3d ci = M.col(i), ck = M.col(k);
    M.col(i) = c * ci + s * ck;
    M.col(k) = c * ck - s * ci;
  };
  if (axis.x() == 0 && axis.y() == 0) {
    axis.z() > 0 ? turn(0, 1) : turn(1, 0);
  } else if (axis.x() == 0 && axis.z() == 0) {
    axis.y() > 0 ? turn(2, 0) : turn(0, 2);
  } else if (axis.y() == 0 && axis.z() == 0) {
    axis.x() > 0 ? turn(1, 2) : turn(2, 1);
  } else {
    const double t = 1.0 - c;
    const Eigen::Vector3d& a = axis;
    Eigen::Matrix3d rotation;
    rotation << t * a.x() * a.x() + c, t * a.x() * a.y() - s * a.z(), t * a.x() * a.z() + s * a.y(),
        t * a.x() * a.y() + s * a.z(), t * a.y() * a.y() + c, t * a.y() * a.z() - s * a.x(),
        t * a.x() * a.z() - s * a.y(), t * a.y() * a.z() + s * a.x(), t * a.z() * a.z() + c;
    M = M * rotation;
  }
}

}  // namespace deepik::internal
