// Convex hulls as FCL convex shapes, grown just enough to contain every point, and trees of them
// over a link's triangles with the queries the exact checker asks before FCL's mesh traversal:
// do two trees (or a tree and an obstacle) meet, and how far apart are they at least (internal
// to deepik::geometry).
#pragma once

#include <fcl/geometry/shape/convex.h>

#include <Eigen/Core>
#include <memory>
#include <vector>

#include "deepik/geometry/mesh.hpp"
#include "deepik/geometry/scene.hpp"

namespace deepik::internal {

/// The convex hull of `points` (qhull), scaled about an interior point just enough that every
/// point lies inside it despite qhull's rounding (a conservative bound: a shape disjoint from it
/// is disjoint from every point's convex combination, i.e. from any mesh on these vertices).
/// nullptr when the points span no volume (fewer than 4, or all on a plane or a line).
std::shared_ptr<const fcl::Convexd> ConvexHull(const std::vector<Eigen::Vector3d>& points);

/// A ball around `points`: centre (x, y, z) the middle of their bounding box, radius (w) the
/// farthest point from it; radius -1 for no points.
Eigen::Vector4d BoundingBall(const std::vector<Eigen::Vector3d>& points);

/// A node of a tree of convex hulls over a surface's triangles: its hull contains every triangle
/// of its subtree, and a sphere contains its hull.
struct ConvexNode {
  std::shared_ptr<const fcl::Convexd> hull;
  Eigen::Vector3d centre;
  double radius = 0;
  int child[2] = {-1, -1};  ///< indices into the tree; -1 for a leaf
};

/// A tree of hulls over `surface`'s triangles (node 0 the root, the hull of everything). The
/// triangles are first bisected until no edge exceeds a tenth of their BoundingBall's radius (the
/// same surface: a long fan triangle would otherwise stretch every hull it falls in); each node's
/// triangles are then split in two by 2-means on their centroids (deterministic: farthest-point
/// start) down to `depth` levels below the root, or until a group is small or spans no volume.
/// Non-convex links (an L-shaped arm link) are bounded much more tightly by the deeper nodes than by
/// one hull. Empty when the surface spans no volume.
std::vector<ConvexNode> ConvexTree(const TriangleMesh& surface, int depth);

// The queries (hull_tree.cpp), on trees placed in B by X_B (a tree's frame in B); `shape` is FCL's
// primitive of the obstacle. Non-empty trees only.

/// Whether the trees meet down to their leaves (GJK on the hulls): when they do not, neither do
/// the triangles inside them.
bool TreesMeet(const std::vector<ConvexNode>& a, const Eigen::Isometry3d& X_Ba,
               const std::vector<ConvexNode>& b, const Eigen::Isometry3d& X_Bb);
bool TreeMeetsObstacle(const std::vector<ConvexNode>& tree, const Eigen::Isometry3d& X_B,
                       const Obstacle& obstacle, const fcl::CollisionGeometryd& shape);

/// A lower bound of the distance between the trees' triangles when it is at least `above`; else
/// some value below `above` (the search stops there). Certified node pair by node pair: by the
/// spheres, or by the gap along an axis (between the two centres; for two leaves, between GJK's
/// closest points), which the hulls' extreme vertices along it decide: GJK only proposes the axis.
double TreesGap(const std::vector<ConvexNode>& a, const Eigen::Isometry3d& X_Ba,
                const std::vector<ConvexNode>& b, const Eigen::Isometry3d& X_Bb, double above);
/// As TreesGap, between a tree and an obstacle (its signed distance field for the spheres, its
/// extent in closed form along GJK's axis at the leaves).
double TreeGapToObstacle(const std::vector<ConvexNode>& tree, const Eigen::Isometry3d& X_B,
                         const Obstacle& obstacle, const fcl::CollisionGeometryd& shape, double above);

}  // namespace deepik::internal
