// The convex hull of a point set as an FCL convex shape, grown just enough to contain every point
// (internal to deepik::geometry): the exact checker's first test of two links' meshes.
#pragma once

#include <fcl/geometry/shape/convex.h>

#include <Eigen/Core>
#include <memory>
#include <vector>

#include "deepik/geometry/mesh.hpp"

namespace deepik::internal {

/// The convex hull of `points` (qhull), scaled about an interior point just enough that every
/// point lies inside it despite qhull's rounding (a conservative bound: a shape disjoint from it
/// is disjoint from every point's convex combination, i.e. from any mesh on these vertices).
/// nullptr when the points span no volume (fewer than 4, or all on a plane or a line).
std::shared_ptr<const fcl::Convexd> ConvexHull(const std::vector<Eigen::Vector3d>& points);

/// A node of a tree of convex hulls over a surface's triangles: its hull contains every triangle
/// of its subtree, and a sphere contains its hull.
struct ConvexNode {
  std::shared_ptr<const fcl::Convexd> hull;
  Eigen::Vector3d centre;
  double radius = 0;
  int child[2] = {-1, -1};  ///< indices into the tree; -1 for a leaf
};

/// A tree of hulls over `surface`'s triangles (node 0 the root, the hull of everything). The
/// triangles are first bisected until no edge exceeds a tenth of the root's bounding radius (the
/// same surface: a long fan triangle would otherwise stretch every hull it falls in); each node's
/// triangles are then split in two by 2-means on their centroids (deterministic: farthest-point
/// start) down to `depth` levels below the root, or until a group is small or spans no volume.
/// Non-convex links (an L-shaped arm link) are bounded much more tightly by the deeper nodes than by
/// one hull. Empty when the surface spans no volume.
std::vector<ConvexNode> ConvexTree(const TriangleMesh& surface, int depth);

}  // namespace deepik::internal
