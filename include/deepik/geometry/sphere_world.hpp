// The sphere model of an arm among obstacles, as the collision-aware solvers use it: the signed
// distances of the checked sphere pairs (self-collision) and of every sphere to every obstacle
// (the scene), with their gradients in joint space through the link Jacobians. Pure Eigen, part
// of deepik::core.
#pragma once

#include <Eigen/Core>
#include <Eigen/Geometry>
#include <string>
#include <utility>
#include <vector>

#include "deepik/geometry/collision_model.hpp"
#include "deepik/geometry/robot_geometry.hpp"
#include "deepik/geometry/scene.hpp"
#include "deepik/kinematics/chain.hpp"

namespace deepik {

/// Which collisions a solve avoids (`--collisions`): none, the arm with itself, or the arm with
/// itself and with the scene's obstacles.
enum class CollisionMode { kOff, kSelf, kAll };

/// "off", "self", "all".
const char* ToString(CollisionMode mode);
/// Parses "off", "self" or "all".
/// @throws InputError naming the value and the choices.
CollisionMode ParseCollisionMode(const std::string& text);

/// The arm's spheres (a SphereSet placed on the chain's frames), the link pairs checked for
/// self-collision (e.g. CheckedPairs with the arm's matrix: pairs the matrix disables are never
/// measured) and the scene. Immutable; safe to share between threads (each with its Workspace).
class SphereWorld {
 public:
  /// `pairs` index geometry.links (CheckedPairs); used when mode is kSelf or kAll. The scene's
  /// obstacles are measured when mode is kAll, against the links that move with a joint (links
  /// fixed to the base, such as a base plate resting on a table, cannot be moved clear).
  /// @throws InputError when `spheres` names a link not in `geometry`;
  ///         std::invalid_argument when mode is kOff.
  SphereWorld(const RobotGeometry& geometry, const SphereSet& spheres, std::vector<std::pair<int, int>> pairs,
              Scene scene, CollisionMode mode);

  /// Scratch of one thread.
  struct Workspace {
    SphereChecker::Workspace self;                      ///< the self pairs' (and the chain's frames)
    std::vector<SphereChecker::SpherePair> self_close;  ///< the sphere pairs ClosePairs found
    Eigen::Matrix3Xd centres;        ///< every sphere's centre in B (of the links placed for obstacles)
    Eigen::Matrix3Xd bounds;         ///< every link's bounding-sphere centre in B
    Eigen::Matrix3Xd axes, origins;  ///< every joint's axis and origin in B
    std::vector<char> placed;        ///< per link: its spheres are placed in `centres`
    struct Close {
      double distance;
      int i, j;  ///< sphere i and obstacle j
    };
    std::vector<Close> close;  ///< the sphere-obstacle pairs Proximities found
  };
  /// The smallest signed distance (m; negative: the deepest overlap) over the checked sphere
  /// pairs and the sphere-obstacle pairs; +infinity when nothing is checked.
  /// @throws std::invalid_argument when q.size() differs from the chain's joint count.
  double MinDistance(const Eigen::Ref<const Eigen::VectorXd>& q, Workspace* workspace) const;

  /// The signed distances below `activation` (m): of the self pairs, the closest sphere pair of
  /// each pair of sphere groups (SphereChecker::ClosePairs); of the obstacles, every sphere. Their
  /// values in `distances` and their gradients d(distance)/dq as the rows of `gradients` (one
  /// column per joint); the smallest distance is always among them. Returns their count.
  /// @throws std::invalid_argument when q.size() differs from the chain's joint count.
  int Proximities(const Eigen::Ref<const Eigen::VectorXd>& q, double activation, Workspace* workspace,
                  Eigen::VectorXd* distances, Eigen::MatrixXd* gradients) const;

  const Chain& chain() const { return chain_; }
  CollisionMode mode() const { return mode_; }
  const Scene& scene() const { return scene_; }
  /// The link pairs measured (empty unless the mode checks self-collision).
  const std::vector<std::pair<int, int>>& pairs() const { return pairs_; }
  int num_spheres() const { return static_cast<int>(radius_.size()); }

 private:
  // FK (through the self checker, which placed it already when `placed` is true), the links'
  // bounds, the joints' axes and origins.
  void Place(const Eigen::Ref<const Eigen::VectorXd>& q, Workspace* workspace, bool placed) const;
  // Puts link l's spheres in B.
  void PlaceLink(size_t l, Workspace* workspace) const;
  // Adds the gradient of the point `p` (on frame `frame`) along `direction` times `sign` to `row`.
  void AddPointGradient(const Workspace& workspace, int frame, const Eigen::Vector3d& p,
                        const Eigen::Vector3d& direction, double sign,
                        Eigen::Ref<Eigen::RowVectorXd, 0, Eigen::InnerStride<>> row) const;
  // Calls visit(distance, i, j) for every sphere i closer than `activation` to obstacle j;
  // `activation` may fall while it runs (MinDistance).
  template <typename Visit>
  void ForEachCloseObstacle(Workspace* workspace, const double& activation, Visit&& visit) const;

  Chain chain_;
  CollisionMode mode_;
  Scene scene_;
  std::vector<std::pair<int, int>> pairs_;
  SphereChecker self_;             // the self pairs, on the checker's trees of spheres
  Eigen::Matrix3Xd local_;         // centres in their chain frame F
  std::vector<double> radius_;     // per sphere
  std::vector<int> sphere_frame_;  // per sphere: its chain frame (-1 = B)
  std::vector<int> begin_, end_;   // per link: its spheres' range
  Eigen::Matrix3Xd bound_local_;   // per link: bounding sphere centre in F
  std::vector<double> bound_radius_;
  std::vector<int> link_frame_;
};

}  // namespace deepik
