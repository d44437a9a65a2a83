// Self-collision checks of a chain: the common interface, the link-pair list (the self-collision
// matrix) and the fast sphere model. Pure Eigen, part of deepik::core; the exact check on meshes
// (FCL) is in deepik::geometry (deepik/geometry/exact_checker.hpp).
#pragma once

#include <Eigen/Core>
#include <Eigen/Geometry>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "deepik/geometry/robot_geometry.hpp"
#include "deepik/kinematics/chain.hpp"

namespace deepik {

/// The outcome of one self-collision check.
struct [[nodiscard]] CollisionReport {
  bool in_collision = false;
  /// The smallest distance between two checked links (m). Sphere model: signed (negative = the
  /// deepest sphere overlap). Exact check: 0 when in collision (penetration depth is not computed).
  double min_distance = 0.0;
  /// The colliding pair (the first found) or the closest one; indices into the checker's links;
  /// -1 when no pair is checked.
  int link_a = -1, link_b = -1;
};

/// A self-collision check of one chain at joint values q (chain order). Implementations are
/// immutable after construction and Check is safe to call from many threads.
class CollisionChecker {
 public:
  virtual ~CollisionChecker() = default;
  /// @throws std::invalid_argument when q.size() differs from the chain's joint count.
  virtual CollisionReport Check(const Eigen::Ref<const Eigen::VectorXd>& q) const = 0;
  /// Whether q is in self-collision; may stop at the first colliding pair (faster than Check).
  virtual bool InCollision(const Eigen::Ref<const Eigen::VectorXd>& q) const = 0;
  /// Whether q keeps at least `clearance` (m) between every checked pair: not InCollision for a
  /// clearance of 0 or less, else Check's min_distance >= clearance. A checker may answer faster by
  /// bounds, without measuring every distance (ExactChecker does).
  virtual bool Clear(const Eigen::Ref<const Eigen::VectorXd>& q, double clearance) const {
    if (clearance <= 0) return !InCollision(q);
    const CollisionReport report = Check(q);
    return !report.in_collision && report.min_distance >= clearance;
  }
  /// The link names that CollisionReport's indices refer to.
  virtual const std::vector<std::string>& link_names() const = 0;
};

/// The self-collision matrix: which link pairs are checked and why the others are not.
struct CollisionMatrix {
  enum class Reason { kAdjacent, kAlways, kNever, kUser };
  struct Pair {
    std::string a, b;
    Reason reason = Reason::kNever;
  };
  std::string arm;
  int64_t samples = 0;  ///< configurations sampled (the "N" of "never in N samples")
  uint64_t seed = 0;    ///< of the uniform configurations
  std::vector<Pair> disabled;
  /// The pairs that stay checked, with the share of samples in which they collided.
  std::vector<std::pair<std::pair<std::string, std::string>, double>> enabled;
};

/// "adjacent", "always", "never", "user".
const char* ToString(CollisionMatrix::Reason reason);

/// Reads a matrix file (JSON, see docs/ARCHITECTURE.md "Geometry").
/// @throws InputError for a missing or malformed file, an unknown reason, or a link not in `geometry`.
CollisionMatrix LoadCollisionMatrix(const std::string& path, const RobotGeometry& geometry);
/// Writes `matrix` as JSON (atomically).
/// @throws InputError when the file cannot be written.
void SaveCollisionMatrix(const CollisionMatrix& matrix, const std::string& path);

/// The link pairs (indices into geometry.links, a < b) to check: both links have shapes, they are
/// not adjacent, and `matrix` (when given) does not disable them.
std::vector<std::pair<int, int>> CheckedPairs(const RobotGeometry& geometry, const CollisionMatrix* matrix);

/// A link's spheres in its own frame L, as the spheres file stores them.
struct LinkSpheres {
  std::string link;
  std::vector<Eigen::Vector4d> spheres;  ///< x, y, z (m, in L), radius (m)
  int vertices = 0;                      ///< mesh vertices the spheres were fitted to (0: unknown)
  double overshoot_mm = -1.0;            ///< largest outward overshoot found by the fit; -1: unknown
  /// The same near the parts that come close to other links (a close fit, `spheres
  /// --close-overshoot`); -1: unknown or not a close fit.
  double close_overshoot_mm = -1.0;
};

/// A sphere model file: per link its spheres (JSON, see docs/ARCHITECTURE.md "Geometry").
struct SphereSet {
  std::string arm;
  std::string method;  ///< how the spheres were made (free text)
  std::vector<LinkSpheres> links;
};

/// The largest sphere file accepted: 1,000,000 spheres in all.
constexpr int64_t kMaxSpheres = 1000000;
/// The largest centre coordinate or radius accepted in a spheres file (m).
constexpr double kMaxSphereValue = 1000.0;

/// Reads a spheres file.
/// @throws InputError for a missing or malformed file, a negative, zero or non-finite radius, a
///         non-finite centre, a value beyond kMaxSphereValue, a link not in `geometry`, a link listed twice,
///         or more than kMaxSpheres.
SphereSet LoadSphereSet(const std::string& path, const RobotGeometry& geometry);
/// As LoadSphereSet, from JSON text; `source` names it in messages.
SphereSet ParseSphereSet(const std::string& text, const std::string& source, const RobotGeometry& geometry);
/// Writes `spheres` as JSON (atomically).
void SaveSphereSet(const SphereSet& spheres, const std::string& path);

/// A coarse copy of `spheres` for the training loss (TrainOptions::collision_weight), where every
/// sphere pair is evaluated for every sample: each link's spheres cut into `per_link` groups of
/// neighbours (halving along the longest extent of their centres, as SphereChecker groups them),
/// each group replaced by one sphere on the centroid m of its centres with radius `shrink` x the
/// mean over the group of |c_i - m| + r_i. Not a bound: a sphere enclosing each group (shrink
/// such that it contains them) would flag almost every posture of an arm whose links pass within
/// a few mm of each other (panda's wrist: links 5 and 7); `shrink` trades missed overlaps for false
/// ones (docs/BENCHMARKS.md, "Learned collision-free starts"). Links with at most `per_link`
/// spheres keep theirs.
/// @throws std::invalid_argument when per_link < 1 or shrink is not in (0, 1].
SphereSet CoarsenSphereSet(const SphereSet& spheres, int per_link, double shrink);

/// A sphere model laid out for a batched evaluation of every checked sphere pair (the training
/// loss): each sphere on its chain frame, and the sphere pairs of the checked link pairs.
struct SelfCollisionSpheres {
  /// Per sphere (only those of links in a checked pair): its chain frame (-1 = B, i = joint i's
  /// moving frame, as LinkGeometry::frame) and its centre in that frame and radius (m).
  std::vector<int> frame;
  std::vector<Eigen::Vector4d> spheres;
  /// Every pair (i, j) of spheres on the two links of a checked link pair (indices into `spheres`).
  std::vector<std::pair<int, int>> pairs;
};

/// The spheres of `spheres` placed on their chain frames (X_FL applied), and every sphere pair of
/// the link pairs `link_pairs` (indices into geometry.links, e.g. CheckedPairs); links without
/// spheres, and pairs with such a link, are left out.
/// @throws InputError when `spheres` names a link not in `geometry`.
SelfCollisionSpheres PairwiseSpheres(const RobotGeometry& geometry, const SphereSet& spheres,
                                     const std::vector<std::pair<int, int>>& link_pairs);

/// The fast check: every link as a union of spheres; two links collide when a sphere of one
/// overlaps a sphere of the other. Conservative when the spheres contain the meshes.
class SphereChecker final : public CollisionChecker {
 public:
  /// `pairs` index geometry.links (CheckedPairs); links without spheres are skipped.
  /// @throws InputError when `spheres` names a link not in `geometry`.
  SphereChecker(const RobotGeometry& geometry, const SphereSet& spheres,
                std::vector<std::pair<int, int>> pairs);

  /// Scratch of one thread: pass the same one to many checks to avoid allocations.
  struct Workspace {
    std::vector<Eigen::Isometry3d> X_BF;   ///< the chain's frames at the last q checked
    Eigen::Matrix4Xd world;                ///< sphere centres in B and radii (of the groups placed so far)
    Eigen::Matrix4Xd nodes;                ///< per tree node: its bounding sphere in B (once placed)
    std::vector<char> placed;              ///< per tree node, then per group: placed in B
    const SphereChecker* owner = nullptr;  ///< the checker whose radii `world` holds
  };
  CollisionReport Check(const Eigen::Ref<const Eigen::VectorXd>& q, Workspace* workspace) const;
  bool InCollision(const Eigen::Ref<const Eigen::VectorXd>& q, Workspace* workspace) const;

  /// Two spheres of a checked link pair (indices into the checker's own sphere order) and their
  /// signed distance (m); their chain frames (-1 = B).
  struct SpherePair {
    double distance;
    int i, j, frame_i, frame_j;
  };
  /// The sphere pairs of the checked link pairs closer than `activation` (m), into `out` (cleared
  /// first): of each pair of sphere groups (up to 8 neighbouring spheres of one link, see
  /// docs/ARCHITECTURE.md "Geometry") the closest, so that two links running side by side give a
  /// few dozen rows, not thousands; the smallest distance of all is always among them. The spheres
  /// listed are placed: PlacedCentre gives their centres in B, and workspace->X_BF the chain's
  /// frames at q.
  /// @throws std::invalid_argument when q.size() differs from the chain's joint count.
  void ClosePairs(const Eigen::Ref<const Eigen::VectorXd>& q, double activation, Workspace* workspace,
                  std::vector<SpherePair>* out) const;
  /// Sphere i's centre in B, for a sphere the last ClosePairs or Check listed or measured.
  static Eigen::Vector3d PlacedCentre(const Workspace& workspace, int i) {
    return workspace.world.col(i).head<3>();
  }

  CollisionReport Check(const Eigen::Ref<const Eigen::VectorXd>& q) const override;
  bool InCollision(const Eigen::Ref<const Eigen::VectorXd>& q) const override;
  const std::vector<std::string>& link_names() const override { return names_; }

  const Chain& chain() const { return chain_; }
  int num_spheres() const { return static_cast<int>(local_.cols()); }
  /// The checked link pairs that have spheres on both sides.
  const std::vector<std::pair<int, int>>& pairs() const { return pairs_; }

 private:
  // FK; the tree nodes, and a group's spheres, are placed in B when a traversal reaches them.
  void Prepare(const Eigen::Ref<const Eigen::VectorXd>& q, Workspace* workspace) const;
  void PlaceNode(int node, int frame, Workspace* workspace) const;
  void PlaceGroup(int group, int frame, Workspace* workspace) const;
  // Visits, depth first through both links' trees, the sphere pairs (i of link a, j of link b)
  // that may be closer than `threshold` (m; their groups' and the other group's bounding spheres
  // are), which `leaf` may lower as it goes; stops and returns true as soon as leaf(i, j) does.
  template <typename Leaf>
  bool Traverse(Workspace* workspace, int a, int b, const double& threshold, Leaf&& leaf) const;
  // Splits the spheres of columns [begin, end) of local_ (reordering them) into groups of at most
  // kGroupSize by halving along the longest extent of their centres.
  void Group(int begin, int end);
  // A binary tree over groups [begin, end) of one link (halving the range, which Group made
  // spatially coherent); returns its root node.
  int BuildTree(int begin, int end);

  Chain chain_;
  std::vector<std::string> names_;  // geometry.links' names
  Eigen::Matrix4Xd local_;          // centres in their chain frame F, radii; grouped
  std::vector<int> begin_, end_;    // per link: its spheres' column range
  std::vector<int> first_, last_;   // per group: its spheres' column range
  std::vector<int> sphere_group_;   // per sphere: its group
  std::vector<int> link_frame_;     // per link: its chain frame (-1 = B)
  // The bounding-sphere tree of each link, over its groups: per node its sphere in the chain
  // frame, its children (-1 for a leaf) and, for a leaf, its group; per link its root (-1: none).
  Eigen::Matrix4Xd nodes_local_;
  std::vector<int> node_left_, node_right_, node_group_, link_root_;
  std::vector<std::pair<int, int>> pairs_;
};

}  // namespace deepik
