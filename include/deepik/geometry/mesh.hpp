// Triangle meshes: reading mesh files with assimp and the surface of a link's shapes.
// Part of deepik::geometry (links assimp), not of the core.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <vector>

#include "deepik/geometry/robot_geometry.hpp"

namespace deepik {

/// A triangle soup with shared vertices (m).
struct TriangleMesh {
  std::vector<Eigen::Vector3d> vertices;
  std::vector<Eigen::Vector3i> triangles;  ///< indices into vertices
  /// Appends `other` moved by X (vertices X * v).
  void Append(const TriangleMesh& other, const Eigen::Isometry3d& X);
};

/// Bounds on what LoadMesh reads, so that a huge file costs bounded memory and time.
struct MeshLimits {
  int64_t max_file_bytes = 64LL << 20;  ///< the mesh file itself: 64 MiB (the largest shipped: 3.3 MB)
  int64_t max_triangles = 1000000;      ///< after loading, over all of the file's meshes
};

/// Reads every triangle of a mesh file (STL, OBJ, COLLADA, glTF, anything assimp reads), with the
/// file's node transforms applied and scaled per axis by `scale`. COLLADA files are read as
/// written, whatever their up_axis (as ROS tools read them: the file's z is the link's z); their
/// unit declaration is applied. Points and lines are dropped.
/// @throws InputError naming the file when it is missing or unreadable, larger than the limits,
///         not a mesh assimp can read, or holds no triangle.
TriangleMesh LoadMesh(const std::string& path, const Eigen::Vector3d& scale = Eigen::Vector3d::Ones(),
                      const MeshLimits& limits = {});

/// A closed triangle surface of a URDF primitive in its own frame that contains the true shape:
/// a box (8 vertices), a cylinder (a 32-sided prism whose faces touch the true surface) or a
/// sphere (an icosphere of 162 vertices whose faces lie outside the true sphere).
TriangleMesh PrimitiveSurface(const LinkShape& shape);

/// The surface of all of a link's shapes in the link frame L: meshes read with LoadMesh, primitives
/// with PrimitiveSurface.
/// @throws InputError as LoadMesh, or for a mesh whose file was not found (naming its reference).
TriangleMesh LinkSurface(const LinkGeometry& link, const MeshLimits& limits = {});

}  // namespace deepik
