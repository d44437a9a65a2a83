// The robot's body as a URDF describes it: which links move with the chain, where they sit, and
// the shapes and mesh files of their collision geometry. Part of deepik::core (no mesh is read
// here, only found): `deepik arm info` reports it without loading assimp or FCL.
#pragma once

#include <Eigen/Geometry>
#include <string>
#include <utility>
#include <vector>

#include "deepik/kinematics/arm_spec.hpp"
#include "deepik/kinematics/chain.hpp"

namespace deepik {

/// Where mesh references (`package://`, relative paths) are looked up.
struct MeshSearchOptions {
  /// Folders holding ROS packages (`--package-path DIR`, repeatable): `package://NAME/rest` is
  /// DIR/NAME/rest, or DIR/rest when DIR itself is named NAME. Tried before ROS_PACKAGE_PATH.
  std::vector<std::string> package_paths;
  /// Also search the folders of the ROS_PACKAGE_PATH variable (colon-separated).
  bool use_ros_package_path = true;
};

/// A mesh reference resolved as ROS tools do (see ResolveMeshReference).
struct MeshLookup {
  std::string path;                ///< the file found; empty when none was
  std::vector<std::string> tried;  ///< the files searched, in order
  std::string error;               ///< why nothing was found (names the reference and the options)
};

/// Resolves a URDF mesh reference:
/// - `package://NAME/rest`: in each --package-path folder, then in each ROS_PACKAGE_PATH folder;
/// - `file:///abs/path` (or `file://rel`, relative to the working directory) and absolute paths: as is;
/// - a relative path: against the URDF's folder, then each of its parent folders (files written
///   relative to a package root, as panda's are).
/// Never throws; `error` says what was searched and which option adds a search path.
MeshLookup ResolveMeshReference(const std::string& reference, const std::string& urdf_path,
                                const MeshSearchOptions& options);

/// One collision (or visual) shape of a link, in the link's frame L.
struct LinkShape {
  enum class Kind { kBox, kCylinder, kSphere, kMesh };
  Kind kind = Kind::kMesh;
  Eigen::Isometry3d X_LS = Eigen::Isometry3d::Identity();  ///< the shape's frame in L
  /// Box: x, y, z extents (m); cylinder: radius, length (along local z), 0; sphere: radius, 0, 0;
  /// mesh: the URDF's scale per axis.
  Eigen::Vector3d size = Eigen::Vector3d::Ones();
  std::string mesh_reference;  ///< mesh: the filename as the URDF writes it
  std::string mesh_path;       ///< mesh: the file found; empty when it is missing
  std::string mesh_error;      ///< mesh: why it is missing (MeshLookup::error)
};

/// A URDF link that moves with the chain, with its geometry.
struct LinkGeometry {
  std::string name;
  /// The nearest ancestor link in this list (empty for the first): URDF tree order.
  std::string parent;
  /// The chain frame F it moves with: -1 for the base frame B, i for joint i's moving frame.
  int frame = -1;
  Eigen::Isometry3d X_FL = Eigen::Isometry3d::Identity();  ///< the link frame L in F
  std::vector<LinkShape> shapes;  ///< its <collision> shapes, or its <visual> ones (see below)
  /// True when the link has no <collision> element and its <visual> shapes stand in for it.
  bool from_visual = false;
};

/// The links of a chain and their collision geometry.
struct RobotGeometry {
  std::string source;  ///< the URDF file
  Chain chain;         ///< the URDF's chain (for a built-in arm, the same kinematics)
  /// Every link that moves with the chain: the base link, each link on the path to the tip, the
  /// links hanging from those by fixed joints, and a gripper's fingers (links behind two or more
  /// actuated joints off the last link) held at joint value 0 clamped into their limits.
  std::vector<LinkGeometry> links;

  /// Links that have at least one shape.
  int CountLinksWithShapes() const;
  /// Mesh references that were not found: "link: reference (error)".
  std::vector<std::string> MissingMeshes() const;
  /// Pairs of links with shapes (indices into `links`, a < b) that touch through joints: the tree
  /// path between them passes only through links without shapes (a parent and its child; two
  /// children of a link without shapes). Such pairs never count as a self-collision.
  std::vector<std::pair<int, int>> AdjacentPairs() const;
  /// The index of the link named `name`, or -1.
  int FindLink(const std::string& name) const;
};

/// The URDF deepik uses for a built-in arm's geometry (robots/NAME.urdf: panda, ur5, iiwa14), or
/// empty for an arm given as a file or a built-in without one (seed, planar2).
std::string BuiltinArmUrdf(const std::string& name);

/// A built-in arm's shipped collision file robots/collision/NAME.KIND.json (KIND: matrix or
/// spheres), or empty when the arm is not built in or has none.
std::string BuiltinCollisionFile(const std::string& name, const std::string& kind);

/// The URDF behind an ArmSpec: the file itself, or a built-in arm's BuiltinArmUrdf; empty for a
/// DH table or a built-in arm without a URDF.
std::string ArmUrdfPath(const ArmSpec& spec);

/// Reads the links and collision geometry of the arm `spec` names. For a built-in arm it reads
/// robots/NAME.urdf and adds robots/meshes to the package search path. Meshes are only found,
/// not read; a missing one is recorded in its LinkShape (see `require_meshes`).
/// @throws InputError when the arm has no URDF (a DH table, seed, planar2), the URDF is bad (as
///         LoadUrdfChain), or `require_meshes` is set and a mesh is missing: the message names
///         the reference, the files searched and the option that adds a search path.
RobotGeometry LoadRobotGeometry(const ArmSpec& spec, const MeshSearchOptions& search, bool require_meshes);

/// As LoadRobotGeometry, with each link's <visual> shapes (what a viewer draws) instead of its
/// <collision> ones; `from_visual` stays false. A missing mesh is recorded, never an error.
/// @throws InputError as LoadRobotGeometry for an arm without a URDF or a bad URDF.
RobotGeometry LoadRobotVisualGeometry(const ArmSpec& spec, const MeshSearchOptions& search);

}  // namespace deepik
