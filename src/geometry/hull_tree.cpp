#include <fcl/geometry/shape/box.h>
#include <fcl/geometry/shape/capsule.h>
#include <fcl/geometry/shape/cylinder.h>
#include <fcl/geometry/shape/sphere.h>
#include <fcl/narrowphase/collision.h>
#include <fcl/narrowphase/detail/gjk_solver_indep.h>
#include <fcl/narrowphase/detail/gjk_solver_libccd.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "geometry/convex_hull.hpp"

namespace deepik::internal {
namespace {

using Tree = std::vector<ConvexNode>;
constexpr double kNone = -std::numeric_limits<double>::infinity();

// Whether two placed hulls intersect, by GJK straight from FCL's solver (without fcl::collide's
// dispatch and allocations).
bool HullsIntersect(const fcl::Convexd& a, const Eigen::Isometry3d& X_Ba, const fcl::Convexd& b,
                    const Eigen::Isometry3d& X_Bb) {
  static const fcl::detail::GJKSolver_libccd<double> solver;
  return solver.shapeIntersect(a, X_Ba, b, X_Bb, nullptr);
}

// The largest of d . v over the hull's vertices v placed by X_B (d in B).
double Extent(const fcl::Convexd& hull, const Eigen::Isometry3d& X_B, const Eigen::Vector3d& d) {
  const Eigen::Vector3d local = X_B.linear().transpose() * d;
  double most = -std::numeric_limits<double>::infinity();
  for (const Eigen::Vector3d& v : hull.getVertices()) most = std::max(most, local.dot(v));
  return most + d.dot(X_B.translation());
}

// The largest of d . x over the obstacle's points x (d in B).
double ObstacleExtent(const Obstacle& obstacle, const Eigen::Vector3d& d) {
  const Eigen::Vector3d local = obstacle.X_BO.linear().transpose() * d;  // in O
  const double centre = d.dot(obstacle.X_BO.translation());
  const Eigen::Vector3d& size = obstacle.size;
  switch (obstacle.shape) {
    case Obstacle::Shape::kBox:
      return centre + 0.5 * local.cwiseAbs().dot(size);
    case Obstacle::Shape::kSphere:
      return centre + size[0];
    case Obstacle::Shape::kCylinder:
      return centre + 0.5 * size[1] * std::abs(local.z()) + size[0] * local.head<2>().norm();
    case Obstacle::Shape::kCapsule:
      return centre + 0.5 * size[1] * std::abs(local.z()) + size[0];
  }
  return std::numeric_limits<double>::infinity();
}

// The unit axis from p to q in *d; false when they coincide or are not finite.
bool Axis(const Eigen::Vector3d& p, const Eigen::Vector3d& q, Eigen::Vector3d* d) {
  const Eigen::Vector3d between = q - p;
  const double length = between.norm();
  if (!(length > 0) || !std::isfinite(length)) return false;
  *d = between / length;
  return true;
}

// The gap between two hulls along the axis between GJK's closest points (kNone when GJK fails).
double GjkGap(const fcl::Convexd& a, const Eigen::Isometry3d& X_Ba, const fcl::Convexd& b,
              const Eigen::Isometry3d& X_Bb) {
  static const fcl::detail::GJKSolver_indep<double> solver;
  double distance = 0;
  Eigen::Vector3d pa, pb, d;
  if (!solver.shapeDistance(a, X_Ba, b, X_Bb, &distance, &pa, &pb) || !Axis(pa, pb, &d)) return kNone;
  return -Extent(b, X_Bb, -d) - Extent(a, X_Ba, d);
}

// As GjkGap, between a hull and an obstacle.
double GjkGapToObstacle(const fcl::Convexd& hull, const Eigen::Isometry3d& X_B, const Obstacle& obstacle,
                        const fcl::CollisionGeometryd& shape) {
  static const fcl::detail::GJKSolver_indep<double> solver;
  double distance = 0;
  Eigen::Vector3d pa, pb, d;
  const auto measure = [&](const auto& primitive) {
    return solver.shapeDistance(hull, X_B, primitive, obstacle.X_BO, &distance, &pa, &pb);
  };
  bool found = false;
  switch (obstacle.shape) {
    case Obstacle::Shape::kBox:
      found = measure(static_cast<const fcl::Boxd&>(shape));
      break;
    case Obstacle::Shape::kSphere:
      found = measure(static_cast<const fcl::Sphered&>(shape));
      break;
    case Obstacle::Shape::kCylinder:
      found = measure(static_cast<const fcl::Cylinderd&>(shape));
      break;
    case Obstacle::Shape::kCapsule:
      found = measure(static_cast<const fcl::Capsuled&>(shape));
      break;
  }
  if (!found || !Axis(pa, pb, &d)) return kNone;
  return -ObstacleExtent(obstacle, -d) - Extent(hull, X_B, d);
}

// Which node of a pair to open: the larger, unless it is a leaf.
bool OpenFirst(const ConvexNode& a, const ConvexNode& b) {
  const bool leaf_a = a.child[0] < 0, leaf_b = b.child[0] < 0;
  return leaf_b || (!leaf_a && a.radius >= b.radius);
}

bool NodesMeet(const Tree& ta, int i, const Eigen::Isometry3d& X_Ba, const Tree& tb, int j,
               const Eigen::Isometry3d& X_Bb) {
  const ConvexNode& na = ta[static_cast<size_t>(i)];
  const ConvexNode& nb = tb[static_cast<size_t>(j)];
  if ((X_Ba * na.centre - X_Bb * nb.centre).norm() > na.radius + nb.radius) return false;
  if (!HullsIntersect(*na.hull, X_Ba, *nb.hull, X_Bb)) return false;
  if (na.child[0] < 0 && nb.child[0] < 0) return true;
  if (OpenFirst(na, nb)) {
    return NodesMeet(ta, na.child[0], X_Ba, tb, j, X_Bb) || NodesMeet(ta, na.child[1], X_Ba, tb, j, X_Bb);
  }
  return NodesMeet(ta, i, X_Ba, tb, nb.child[0], X_Bb) || NodesMeet(ta, i, X_Ba, tb, nb.child[1], X_Bb);
}

bool NodeMeetsObstacle(const Tree& tree, int i, const Eigen::Isometry3d& X_B, const Obstacle& obstacle,
                       const fcl::CollisionGeometryd& shape) {
  const ConvexNode& node = tree[static_cast<size_t>(i)];
  if (SignedDistance(obstacle, X_B * node.centre, nullptr) > node.radius) return false;
  const fcl::CollisionRequestd request;
  fcl::CollisionResultd result;
  if (fcl::collide(node.hull.get(), X_B, &shape, obstacle.X_BO, request, result) == 0) return false;
  if (node.child[0] < 0) return true;
  return NodeMeetsObstacle(tree, node.child[0], X_B, obstacle, shape) ||
         NodeMeetsObstacle(tree, node.child[1], X_B, obstacle, shape);
}

// The least of two children's gaps, stopping below `above`.
template <typename First, typename Second>
double LeastOf(First&& first, Second&& second, double above) {
  const double gap = first();
  return gap < above ? gap : std::min(gap, second());
}

double NodesGap(const Tree& ta, int i, const Eigen::Isometry3d& X_Ba, const Tree& tb, int j,
                const Eigen::Isometry3d& X_Bb, double above) {
  const ConvexNode& na = ta[static_cast<size_t>(i)];
  const ConvexNode& nb = tb[static_cast<size_t>(j)];
  const Eigen::Vector3d ca = X_Ba * na.centre, cb = X_Bb * nb.centre;
  double gap = (cb - ca).norm() - na.radius - nb.radius;
  if (gap >= above) return gap;
  Eigen::Vector3d d;
  if (Axis(ca, cb, &d)) gap = std::max(gap, -Extent(*nb.hull, X_Bb, -d) - Extent(*na.hull, X_Ba, d));
  if (gap >= above) return gap;
  if (na.child[0] < 0 && nb.child[0] < 0) return std::max(gap, GjkGap(*na.hull, X_Ba, *nb.hull, X_Bb));
  if (OpenFirst(na, nb)) {
    return LeastOf([&] { return NodesGap(ta, na.child[0], X_Ba, tb, j, X_Bb, above); },
                   [&] { return NodesGap(ta, na.child[1], X_Ba, tb, j, X_Bb, above); }, above);
  }
  return LeastOf([&] { return NodesGap(ta, i, X_Ba, tb, nb.child[0], X_Bb, above); },
                 [&] { return NodesGap(ta, i, X_Ba, tb, nb.child[1], X_Bb, above); }, above);
}

double NodeGapToObstacle(const Tree& tree, int i, const Eigen::Isometry3d& X_B, const Obstacle& obstacle,
                         const fcl::CollisionGeometryd& shape, double above) {
  const ConvexNode& node = tree[static_cast<size_t>(i)];
  // The field of an obstacle is 1-Lipschitz: the sphere's points are no closer than this.
  const double gap = SignedDistance(obstacle, X_B * node.centre, nullptr) - node.radius;
  if (gap >= above) return gap;
  if (node.child[0] < 0) return std::max(gap, GjkGapToObstacle(*node.hull, X_B, obstacle, shape));
  return LeastOf([&] { return NodeGapToObstacle(tree, node.child[0], X_B, obstacle, shape, above); },
                 [&] { return NodeGapToObstacle(tree, node.child[1], X_B, obstacle, shape, above); }, above);
}

}  // namespace

bool TreesMeet(const Tree& a, const Eigen::Isometry3d& X_Ba, const Tree& b, const Eigen::Isometry3d& X_Bb) {
  return NodesMeet(a, 0, X_Ba, b, 0, X_Bb);
}

bool TreeMeetsObstacle(const Tree& tree, const Eigen::Isometry3d& X_B, const Obstacle& obstacle,
                       const fcl::CollisionGeometryd& shape) {
  return NodeMeetsObstacle(tree, 0, X_B, obstacle, shape);
}

double TreesGap(const Tree& a, const Eigen::Isometry3d& X_Ba, const Tree& b, const Eigen::Isometry3d& X_Bb,
                double above) {
  return NodesGap(a, 0, X_Ba, b, 0, X_Bb, above);
}

double TreeGapToObstacle(const Tree& tree, const Eigen::Isometry3d& X_B, const Obstacle& obstacle,
                         const fcl::CollisionGeometryd& shape, double above) {
  return NodeGapToObstacle(tree, 0, X_B, obstacle, shape, above);
}

}  // namespace deepik::internal
