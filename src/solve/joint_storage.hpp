// Joint-space storage of the refinements: fixed capacity (no heap) up to kFixedJoints joints, the
// fast path every common arm takes, and heap storage beyond, up to the chain's limit
// (kMaxJoints). The capacity is a template parameter, kFixedJoints or Eigen::Dynamic, so both
// paths run the same code. Internal to the library.
#pragma once

#include <Eigen/Core>

namespace deepik::internal {

constexpr int kFixedJoints = 16;

template <int Capacity>
using VectorQ = Eigen::Matrix<double, Eigen::Dynamic, 1, 0, Capacity, 1>;
template <int Capacity>
using MatrixQ = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, 0, Capacity, Capacity>;
/// Rows x n, e.g. a Jacobian (3 or 6 rows) or one vector per joint.
template <int Rows, int Capacity>
using RowsByJoints = Eigen::Matrix<double, Rows, Eigen::Dynamic, 0, Rows, Capacity>;

}  // namespace deepik::internal
