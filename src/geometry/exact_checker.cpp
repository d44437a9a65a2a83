#include "deepik/geometry/exact_checker.hpp"

#include <fcl/geometry/bvh/BVH_model.h>
#include <fcl/geometry/shape/box.h>
#include <fcl/geometry/shape/capsule.h>
#include <fcl/geometry/shape/cylinder.h>
#include <fcl/geometry/shape/sphere.h>
#include <fcl/narrowphase/collision.h>
#include <fcl/narrowphase/distance.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>

#include "deepik/data/random.hpp"
#include "deepik/errors.hpp"
#include "deepik/kinematics/fk.hpp"
#include "geometry/convex_hull.hpp"
#include "geometry/fcl_bvh.hpp"

namespace deepik {
namespace {
// Levels of each link's hull tree below its root hull (up to 8 leaves; measured on ur5 and panda,
// deeper trees cost more hull tests than they save).
constexpr int kHullTreeDepth = 3;

using Geometry = std::shared_ptr<fcl::CollisionGeometryd>;

struct PlacedShape {
  Geometry geometry;
  Eigen::Isometry3d X_FS;  // in the link's chain frame
};

// FCL's own primitive, or a bounding-volume tree of `mesh` (the shape's surface in its frame).
Geometry MakeGeometry(const LinkShape& shape, const TriangleMesh& mesh) {
  switch (shape.kind) {
    case LinkShape::Kind::kBox:
      return std::make_shared<fcl::Boxd>(shape.size);
    case LinkShape::Kind::kCylinder:
      return std::make_shared<fcl::Cylinderd>(shape.size[0], shape.size[1]);
    case LinkShape::Kind::kSphere:
      return std::make_shared<fcl::Sphered>(shape.size[0]);
    case LinkShape::Kind::kMesh:
      break;
  }
  return internal::MeshBvh(mesh);
}

// An obstacle as FCL's own primitive (a box, sphere, cylinder or capsule about its z axis).
Geometry MakeObstacleGeometry(const Obstacle& obstacle) {
  const Eigen::Vector3d& size = obstacle.size;
  switch (obstacle.shape) {
    case Obstacle::Shape::kBox:
      return std::make_shared<fcl::Boxd>(size);
    case Obstacle::Shape::kSphere:
      return std::make_shared<fcl::Sphered>(size[0]);
    case Obstacle::Shape::kCylinder:
      return std::make_shared<fcl::Cylinderd>(size[0], size[1]);
    case Obstacle::Shape::kCapsule:
      return std::make_shared<fcl::Capsuled>(size[0], size[1]);
  }
  return nullptr;
}

// A sphere around every vertex of `surface` (in L), centred on the middle of their bounding box,
// in frame F (X_FL); radius -1 for an empty surface. Grown by 1 % (a URDF cylinder or sphere is a
// true one in FCL, its surface here a polygon with vertices on it) and 1 um against rounding.
Eigen::Vector4d BoundingSphere(const TriangleMesh& surface, const Eigen::Isometry3d& X_FL) {
  const Eigen::Vector4d ball = internal::BoundingBall(surface.vertices);
  if (ball[3] < 0) return ball;
  const Eigen::Vector3d centre_F = X_FL * Eigen::Vector3d(ball.head<3>());
  return Eigen::Vector4d(centre_F.x(), centre_F.y(), centre_F.z(), 1.01 * ball[3] + 1e-6);
}

}  // namespace

struct ExactChecker::Impl {
  explicit Impl(const RobotGeometry& geometry) : chain(geometry.chain) {}
  Chain chain;
  std::vector<std::string> names;
  std::vector<int> frame;                        // per link
  std::vector<std::vector<PlacedShape>> shapes;  // per link, then per obstacle
  // Per link (not per obstacle); shared by the checkers WithScene derives.
  std::shared_ptr<const std::vector<TriangleMesh>> surfaces;
  std::vector<std::pair<int, int>> pairs;
  int links = 0;          // the arm's links (names, frame and shapes continue with the obstacles)
  size_t self_pairs = 0;  // pairs[0, self_pairs) are link pairs, the rest link-obstacle pairs
  // A cheap first test before FCL: per link a sphere around all its shapes' vertices (centre in
  // its chain frame F, radius; radius < 0: no shapes); per obstacle (after the links) the obstacle
  // itself, whose exact signed distance to a link's bounding sphere bounds theirs.
  std::vector<Eigen::Vector4d> bound;
  // The second test: per link a tree of convex hulls over its surface (in its chain frame F;
  // ConvexTree), empty when it has none or a shape FCL holds as a true cylinder or sphere
  // (whose polygonal surface lies inside it); obstacles have none (their primitive is tested).
  std::vector<std::vector<internal::ConvexNode>> trees;
  std::vector<Obstacle> obstacles;

  // The obstacles follow the links, as links fixed in B, each checked against every link with
  // shapes that moves (links fixed to the base cannot be moved clear: the scene's own business).
  void AddScene(const Scene& scene) {
    for (size_t o = 0; o < scene.obstacles.size(); ++o) {
      const Obstacle& obstacle = scene.obstacles[o];
      names.push_back(obstacle.name);
      frame.push_back(-1);
      obstacles.push_back(obstacle);
      bound.emplace_back(0, 0, 0, -1);  // unused: obstacles are bounded by their own shape
      trees.emplace_back();
      shapes.push_back({PlacedShape{MakeObstacleGeometry(obstacle), obstacle.X_BO}});
      for (int l = 0; l < links; ++l) {
        if (!shapes[static_cast<size_t>(l)].empty() && frame[static_cast<size_t>(l)] >= 0)
          pairs.emplace_back(l, links + static_cast<int>(o));
      }
    }
  }

  void Frames(const Eigen::Ref<const Eigen::VectorXd>& q, std::vector<Eigen::Isometry3d>* X_BF) const {
    if (q.size() != chain.num_joints()) {
      throw std::invalid_argument("collision check: expected " + std::to_string(chain.num_joints()) +
                                  " joint values, got " + std::to_string(q.size()));
    }
    JointFrames(chain, q, X_BF);
  }
  Eigen::Isometry3d Place(const std::vector<Eigen::Isometry3d>& X_BF, int link,
                          const PlacedShape& shape) const {
    const int f = frame[static_cast<size_t>(link)];
    return f < 0 ? shape.X_FS : X_BF[static_cast<size_t>(f)] * shape.X_FS;
  }
  // A lower bound of the distance between link a and link or obstacle b (m; may be negative).
  double BoundGap(const std::vector<Eigen::Isometry3d>& X_BF, int a, int b) const {
    const auto centre = [&](int link) {
      const int f = frame[static_cast<size_t>(link)];
      const Eigen::Vector3d c = bound[static_cast<size_t>(link)].head<3>();
      return f < 0 ? c : Eigen::Vector3d(X_BF[static_cast<size_t>(f)] * c);
    };
    const double ra = bound[static_cast<size_t>(a)][3];
    if (b >= links)  // the field of an obstacle is 1-Lipschitz: the sphere's points are no closer
      return SignedDistance(obstacles[static_cast<size_t>(b - links)], centre(a), nullptr) - ra;
    return (centre(a) - centre(b)).norm() - ra - bound[static_cast<size_t>(b)][3];
  }
  // Where a link's hull tree (built in its chain frame F) lies in B.
  Eigen::Isometry3d HullPlacement(const std::vector<Eigen::Isometry3d>& X_BF, int link) const {
    const int f = frame[static_cast<size_t>(link)];
    return f < 0 ? Eigen::Isometry3d::Identity() : X_BF[static_cast<size_t>(f)];
  }
  // Whether the hull trees of link a and of link or obstacle b meet down to their leaves (true
  // when either has none): when they do not, neither do the shapes inside them.
  bool HullsMeet(const std::vector<Eigen::Isometry3d>& X_BF, int a, int b) const {
    const std::vector<internal::ConvexNode>& tree_a = trees[static_cast<size_t>(a)];
    if (tree_a.empty()) return true;
    const Eigen::Isometry3d X_Ba = HullPlacement(X_BF, a);
    if (b >= links) {
      return internal::TreeMeetsObstacle(tree_a, X_Ba, obstacles[static_cast<size_t>(b - links)],
                                         *shapes[static_cast<size_t>(b)].front().geometry);
    }
    const std::vector<internal::ConvexNode>& tree_b = trees[static_cast<size_t>(b)];
    return tree_b.empty() || internal::TreesMeet(tree_a, X_Ba, tree_b, HullPlacement(X_BF, b));
  }
  // A lower bound of the distance between link a and link or obstacle b by their hull trees, when it
  // is at least `above`; else a value below `above` (-inf when either has no tree).
  double HullGap(const std::vector<Eigen::Isometry3d>& X_BF, int a, int b, double above) const {
    const std::vector<internal::ConvexNode>& tree_a = trees[static_cast<size_t>(a)];
    const double none = -std::numeric_limits<double>::infinity();
    if (tree_a.empty() || !std::isfinite(above)) return none;
    const Eigen::Isometry3d X_Ba = HullPlacement(X_BF, a);
    if (b >= links) {
      return internal::TreeGapToObstacle(tree_a, X_Ba, obstacles[static_cast<size_t>(b - links)],
                                         *shapes[static_cast<size_t>(b)].front().geometry, above);
    }
    const std::vector<internal::ConvexNode>& tree_b = trees[static_cast<size_t>(b)];
    return tree_b.empty() ? none : internal::TreesGap(tree_a, X_Ba, tree_b, HullPlacement(X_BF, b), above);
  }
  bool Collide(const std::vector<Eigen::Isometry3d>& X_BF, int a, int b) const {
    if (BoundGap(X_BF, a, b) > 0 || !HullsMeet(X_BF, a, b)) return false;
    const fcl::CollisionRequestd request;
    for (const PlacedShape& sa : shapes[static_cast<size_t>(a)]) {
      for (const PlacedShape& sb : shapes[static_cast<size_t>(b)]) {
        fcl::CollisionResultd result;
        if (fcl::collide(sa.geometry.get(), Place(X_BF, a, sa), sb.geometry.get(), Place(X_BF, b, sb),
                         request, result) > 0)
          return true;
      }
    }
    return false;
  }
  // The distance between a and b (m) when they do not collide; a pair whose bounds are at least
  // `above` apart answers that lower bound instead (a caller after a minimum below `above`).
  double ClearDistance(const std::vector<Eigen::Isometry3d>& X_BF, int a, int b,
                       double above = std::numeric_limits<double>::infinity()) const {
    const double gap = std::max(BoundGap(X_BF, a, b), HullGap(X_BF, a, b, above));
    if (gap >= above) return std::max(gap, 0.0);
    fcl::DistanceRequestd request;
    request.gjk_solver_type = fcl::GST_INDEP;
    double best = std::numeric_limits<double>::infinity();
    for (const PlacedShape& sa : shapes[static_cast<size_t>(a)]) {
      for (const PlacedShape& sb : shapes[static_cast<size_t>(b)]) {
        fcl::DistanceResultd result;
        best = std::min(best, fcl::distance(sa.geometry.get(), Place(X_BF, a, sa), sb.geometry.get(),
                                            Place(X_BF, b, sb), request, result));
      }
    }
    return std::max(best, 0.0);
  }
};

ExactChecker::ExactChecker(const RobotGeometry& geometry, std::vector<std::pair<int, int>> pairs,
                           const MeshLimits& limits, const Scene* scene)
    : impl_(std::make_unique<Impl>(geometry)) {
  impl_->pairs = std::move(pairs);
  auto surfaces = std::make_shared<std::vector<TriangleMesh>>();
  for (const LinkGeometry& link : geometry.links) {
    impl_->names.push_back(link.name);
    impl_->frame.push_back(link.frame);
    std::vector<PlacedShape> placed;
    TriangleMesh surface;
    bool polyhedral = true;  // every shape is its surface (meshes and boxes)
    for (const LinkShape& shape : link.shapes) {
      polyhedral &= shape.kind == LinkShape::Kind::kMesh || shape.kind == LinkShape::Kind::kBox;
      if (shape.kind == LinkShape::Kind::kMesh && shape.mesh_path.empty())
        throw InputError("link '" + link.name + "': " + shape.mesh_error);
      const TriangleMesh local = shape.kind == LinkShape::Kind::kMesh
                                     ? LoadMesh(shape.mesh_path, shape.size, limits)
                                     : PrimitiveSurface(shape);
      placed.push_back({MakeGeometry(shape, local), link.X_FL * shape.X_LS});
      surface.Append(local, shape.X_LS);
    }
    impl_->shapes.push_back(std::move(placed));
    impl_->bound.push_back(BoundingSphere(surface, link.X_FL));
    std::vector<internal::ConvexNode> tree;
    if (polyhedral) {
      TriangleMesh surface_F;
      surface_F.Append(surface, link.X_FL);
      tree = internal::ConvexTree(surface_F, kHullTreeDepth);
    }
    impl_->trees.push_back(std::move(tree));
    surfaces->push_back(std::move(surface));
  }
  impl_->surfaces = std::move(surfaces);
  impl_->links = static_cast<int>(geometry.links.size());
  impl_->self_pairs = impl_->pairs.size();
  if (scene != nullptr) impl_->AddScene(*scene);
}

ExactChecker::ExactChecker(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

std::unique_ptr<ExactChecker> ExactChecker::WithScene(const Scene& scene) const {
  auto impl = std::make_unique<Impl>(*impl_);  // the links' FCL geometry is shared, not copied
  const size_t links = static_cast<size_t>(impl->links);
  impl->names.resize(links);
  impl->frame.resize(links);
  impl->shapes.resize(links);
  impl->bound.resize(links);
  impl->trees.resize(links);
  impl->obstacles.clear();
  impl->pairs.resize(impl->self_pairs);
  impl->AddScene(scene);
  return std::unique_ptr<ExactChecker>(new ExactChecker(std::move(impl)));
}

ExactChecker::~ExactChecker() = default;

CollisionReport ExactChecker::Check(const Eigen::Ref<const Eigen::VectorXd>& q) const {
  std::vector<Eigen::Isometry3d> X_BF;
  impl_->Frames(q, &X_BF);
  CollisionReport report;
  for (const auto& [a, b] : impl_->pairs) {
    if (impl_->Collide(X_BF, a, b)) {
      report.in_collision = true;
      report.link_a = a;
      report.link_b = b;
      return report;
    }
  }
  report.min_distance = std::numeric_limits<double>::infinity();
  // No pair collides (above): FCL's distance alone, nearest bounds first, so that the best so far
  // lets the bounds of the others spare their measurement.
  std::vector<std::pair<double, size_t>> order;
  for (size_t p = 0; p < impl_->pairs.size(); ++p)
    order.emplace_back(impl_->BoundGap(X_BF, impl_->pairs[p].first, impl_->pairs[p].second), p);
  std::sort(order.begin(), order.end());
  for (const auto& [bound, p] : order) {
    const auto [a, b] = impl_->pairs[p];
    const double distance = impl_->ClearDistance(X_BF, a, b, report.min_distance);
    if (distance < report.min_distance) {
      report.min_distance = distance;
      report.link_a = a;
      report.link_b = b;
    }
  }
  return report;
}

bool ExactChecker::InCollision(const Eigen::Ref<const Eigen::VectorXd>& q) const {
  std::vector<Eigen::Isometry3d> X_BF;
  impl_->Frames(q, &X_BF);
  for (const auto& [a, b] : impl_->pairs)
    if (impl_->Collide(X_BF, a, b)) return true;
  return false;
}

bool ExactChecker::Clear(const Eigen::Ref<const Eigen::VectorXd>& q, double clearance) const {
  if (clearance <= 0) return !InCollision(q);
  std::vector<Eigen::Isometry3d> X_BF;
  impl_->Frames(q, &X_BF);
  for (const auto& [a, b] : impl_->pairs) {
    if (impl_->BoundGap(X_BF, a, b) >= clearance || impl_->HullGap(X_BF, a, b, clearance) >= clearance)
      continue;
    if (impl_->Collide(X_BF, a, b) || impl_->ClearDistance(X_BF, a, b) < clearance) return false;
  }
  return true;
}

const std::vector<std::string>& ExactChecker::link_names() const { return impl_->names; }
const std::vector<TriangleMesh>& ExactChecker::surfaces() const { return *impl_->surfaces; }
const std::vector<std::pair<int, int>>& ExactChecker::pairs() const { return impl_->pairs; }

std::vector<bool> ExactChecker::CollidingPairs(const Eigen::Ref<const Eigen::VectorXd>& q,
                                               const std::vector<std::pair<int, int>>& pairs) const {
  std::vector<Eigen::Isometry3d> X_BF;
  impl_->Frames(q, &X_BF);
  std::vector<bool> colliding;
  for (const auto& [a, b] : pairs) colliding.push_back(impl_->Collide(X_BF, a, b));
  return colliding;
}

double ExactChecker::LinkDistance(const Eigen::Ref<const Eigen::VectorXd>& q, int a, int b) const {
  std::vector<Eigen::Isometry3d> X_BF;
  impl_->Frames(q, &X_BF);
  return impl_->Collide(X_BF, a, b) ? 0.0 : impl_->ClearDistance(X_BF, a, b);
}

bool CollisionMatrixOptions::IsValid(std::string* error) const {
  if (samples < 1 || samples > 100000000) {
    *error = "samples: expected a whole number in [1, 1e8], got " + std::to_string(samples);
    return false;
  }
  return true;
}

CollisionMatrix ComputeCollisionMatrix(const RobotGeometry& geometry, const CollisionMatrixOptions& options,
                                       const MeshLimits& limits) {
  std::string error;
  if (!options.IsValid(&error)) throw std::invalid_argument(error);
  const std::vector<std::pair<int, int>> candidates = CheckedPairs(geometry, nullptr);
  const ExactChecker checker(geometry, candidates, limits);
  std::vector<int64_t> hits(candidates.size(), 0);
  std::mt19937_64 rng(options.seed);
  Eigen::VectorXd q(geometry.chain.num_joints());
  for (int64_t s = 0; s < options.samples; ++s) {
    UniformConfiguration(geometry.chain, &rng, q);
    const std::vector<bool> colliding = checker.CollidingPairs(q, candidates);
    for (size_t p = 0; p < candidates.size(); ++p) hits[p] += colliding[p];
  }
  CollisionMatrix matrix;
  matrix.arm = geometry.chain.name();
  matrix.samples = options.samples;
  matrix.seed = options.seed;
  const auto name = [&geometry](int i) { return geometry.links[static_cast<size_t>(i)].name; };
  for (const auto& [a, b] : geometry.AdjacentPairs())
    matrix.disabled.push_back({name(a), name(b), CollisionMatrix::Reason::kAdjacent});
  for (size_t p = 0; p < candidates.size(); ++p) {
    const auto [a, b] = candidates[p];
    if (hits[p] == 0 || hits[p] == options.samples) {
      matrix.disabled.push_back(
          {name(a), name(b),
           hits[p] == 0 ? CollisionMatrix::Reason::kNever : CollisionMatrix::Reason::kAlways});
    } else {
      matrix.enabled.push_back(
          {{name(a), name(b)}, static_cast<double>(hits[p]) / static_cast<double>(options.samples)});
    }
  }
  return matrix;
}

}  // namespace deepik
