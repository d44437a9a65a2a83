#include "deepik/geometry/mesh.hpp"

#include <assimp/config.h>
#include <assimp/postprocess.h>
#include <assimp/scene.h>

#include <assimp/Importer.hpp>
#include <cmath>
#include <filesystem>
#include <map>
#include <utility>

#include "deepik/errors.hpp"

namespace deepik {
namespace {

constexpr double kPi = 3.14159265358979323846;

TriangleMesh Box(const Eigen::Vector3d& size) {
  TriangleMesh mesh;
  for (int i = 0; i < 8; ++i)
    mesh.vertices.emplace_back((i & 1 ? 0.5 : -0.5) * size.x(), (i & 2 ? 0.5 : -0.5) * size.y(),
                               (i & 4 ? 0.5 : -0.5) * size.z());
  // Two triangles per face, outward winding.
  const int faces[6][4] = {{0, 2, 3, 1}, {4, 5, 7, 6}, {0, 1, 5, 4},
                           {2, 6, 7, 3}, {0, 4, 6, 2}, {1, 3, 7, 5}};
  for (const auto& f : faces) {
    mesh.triangles.emplace_back(f[0], f[1], f[2]);
    mesh.triangles.emplace_back(f[0], f[2], f[3]);
  }
  return mesh;
}

TriangleMesh Cylinder(double radius, double length, int sides = 32) {
  TriangleMesh mesh;
  const double corner = radius / std::cos(kPi / sides);  // the faces touch the true surface
  for (int k = 0; k < sides; ++k) {
    const double angle = 2 * kPi * k / sides;
    mesh.vertices.emplace_back(corner * std::cos(angle), corner * std::sin(angle), -0.5 * length);
    mesh.vertices.emplace_back(corner * std::cos(angle), corner * std::sin(angle), 0.5 * length);
  }
  const int bottom = static_cast<int>(mesh.vertices.size());
  mesh.vertices.emplace_back(0, 0, -0.5 * length);
  mesh.vertices.emplace_back(0, 0, 0.5 * length);
  for (int k = 0; k < sides; ++k) {
    const int a = 2 * k, b = 2 * ((k + 1) % sides);
    mesh.triangles.emplace_back(a, b, b + 1);
    mesh.triangles.emplace_back(a, b + 1, a + 1);
    mesh.triangles.emplace_back(bottom, b, a);
    mesh.triangles.emplace_back(bottom + 1, a + 1, b + 1);
  }
  return mesh;
}

TriangleMesh Icosphere(double radius) {
  const double t = (1 + std::sqrt(5.0)) / 2;
  TriangleMesh mesh;
  for (const auto& v : {Eigen::Vector3d(-1, t, 0), Eigen::Vector3d(1, t, 0), Eigen::Vector3d(-1, -t, 0),
                        Eigen::Vector3d(1, -t, 0), Eigen::Vector3d(0, -1, t), Eigen::Vector3d(0, 1, t),
                        Eigen::Vector3d(0, -1, -t), Eigen::Vector3d(0, 1, -t), Eigen::Vector3d(t, 0, -1),
                        Eigen::Vector3d(t, 0, 1), Eigen::Vector3d(-t, 0, -1), Eigen::Vector3d(-t, 0, 1)})
    mesh.vertices.push_back(v.normalized());
  mesh.triangles = {{0, 11, 5},  {0, 5, 1},  {0, 1, 7},  {0, 7, 10}, {0, 10, 11}, {1, 5, 9}, {5, 11, 4},
                    {11, 10, 2}, {10, 7, 6}, {7, 1, 8},  {3, 9, 4},  {3, 4, 2},   {3, 2, 6}, {3, 6, 8},
                    {3, 8, 9},   {4, 9, 5},  {2, 4, 11}, {6, 2, 10}, {8, 6, 7},   {9, 8, 1}};
  for (int level = 0; level < 2; ++level) {  // 12 -> 42 -> 162 vertices
    std::map<std::pair<int, int>, int> middle;
    auto mid = [&](int a, int b) {
      const auto key = std::minmax(a, b);
      const auto found = middle.find(key);
      if (found != middle.end()) return found->second;
      mesh.vertices.push_back(
          (mesh.vertices[static_cast<size_t>(a)] + mesh.vertices[static_cast<size_t>(b)]).normalized());
      return middle[key] = static_cast<int>(mesh.vertices.size()) - 1;
    };
    std::vector<Eigen::Vector3i> finer;
    for (const Eigen::Vector3i& f : mesh.triangles) {
      const int ab = mid(f[0], f[1]), bc = mid(f[1], f[2]), ca = mid(f[2], f[0]);
      finer.insert(finer.end(), {{f[0], ab, ca}, {f[1], bc, ab}, {f[2], ca, bc}, {ab, bc, ca}});
    }
    mesh.triangles = std::move(finer);
  }
  // Scale so that every face plane is at least `radius` from the centre: the polyhedron contains
  // the sphere.
  double nearest_plane = 1.0;
  for (const Eigen::Vector3i& f : mesh.triangles) {
    const Eigen::Vector3d& a = mesh.vertices[static_cast<size_t>(f[0])];
    const Eigen::Vector3d normal = (mesh.vertices[static_cast<size_t>(f[1])] - a)
                                       .cross(mesh.vertices[static_cast<size_t>(f[2])] - a)
                                       .normalized();
    nearest_plane = std::min(nearest_plane, std::abs(normal.dot(a)));
  }
  for (Eigen::Vector3d& v : mesh.vertices) v *= radius / nearest_plane;
  return mesh;
}

}  // namespace

void TriangleMesh::Append(const TriangleMesh& other, const Eigen::Isometry3d& X) {
  const int offset = static_cast<int>(vertices.size());
  for (const Eigen::Vector3d& v : other.vertices) vertices.push_back(X * v);
  for (const Eigen::Vector3i& t : other.triangles) triangles.push_back(t.array() + offset);
}

TriangleMesh LoadMesh(const std::string& path, const Eigen::Vector3d& scale, const MeshLimits& limits) {
  std::error_code error;
  const auto status = std::filesystem::status(path, error);
  if (error || !std::filesystem::is_regular_file(status)) throw InputError(path + ": mesh file not found");
  const auto bytes = std::filesystem::file_size(path, error);
  if (error) throw InputError(path + ": cannot read the mesh file (" + error.message() + ")");
  if (static_cast<int64_t>(bytes) > limits.max_file_bytes) {
    throw InputError(path + ": mesh file of " + std::to_string(bytes) +
                     " bytes is larger than the limit of " + std::to_string(limits.max_file_bytes) +
                     " bytes; simplify it (e.g. in Blender or MeshLab)");
  }
  Assimp::Importer importer;
  importer.SetPropertyBool(AI_CONFIG_IMPORT_COLLADA_IGNORE_UP_DIRECTION, true);
  importer.SetPropertyInteger(AI_CONFIG_PP_SBP_REMOVE, aiPrimitiveType_POINT | aiPrimitiveType_LINE);
  const aiScene* scene = importer.ReadFile(path, aiProcess_Triangulate | aiProcess_JoinIdenticalVertices |
                                                     aiProcess_PreTransformVertices | aiProcess_SortByPType);
  if (!scene) {
    throw InputError(path + ": not a mesh file deepik can read (assimp: " + importer.GetErrorString() + ")");
  }
  TriangleMesh mesh;
  int64_t triangles = 0;
  for (unsigned m = 0; m < scene->mNumMeshes; ++m) triangles += scene->mMeshes[m]->mNumFaces;
  if (triangles > limits.max_triangles) {
    throw InputError(path + ": mesh of " + std::to_string(triangles) +
                     " triangles is larger than the limit of " + std::to_string(limits.max_triangles));
  }
  for (unsigned m = 0; m < scene->mNumMeshes; ++m) {
    const aiMesh& source = *scene->mMeshes[m];
    const int offset = static_cast<int>(mesh.vertices.size());
    for (unsigned v = 0; v < source.mNumVertices; ++v) {
      const aiVector3D& p = source.mVertices[v];
      mesh.vertices.push_back(Eigen::Vector3d(p.x, p.y, p.z).cwiseProduct(scale));
    }
    for (unsigned f = 0; f < source.mNumFaces; ++f) {
      const aiFace& face = source.mFaces[f];
      if (face.mNumIndices != 3) continue;
      mesh.triangles.emplace_back(offset + static_cast<int>(face.mIndices[0]),
                                  offset + static_cast<int>(face.mIndices[1]),
                                  offset + static_cast<int>(face.mIndices[2]));
    }
  }
  for (const Eigen::Vector3d& v : mesh.vertices)
    if (!v.allFinite()) throw InputError(path + ": mesh has a non-finite vertex");
  if (mesh.triangles.empty()) throw InputError(path + ": the file holds no triangle");
  return mesh;
}

TriangleMesh PrimitiveSurface(const LinkShape& shape) {
  switch (shape.kind) {
    case LinkShape::Kind::kBox:
      return Box(shape.size);
    case LinkShape::Kind::kCylinder:
      return Cylinder(shape.size[0], shape.size[1]);
    case LinkShape::Kind::kSphere:
      return Icosphere(shape.size[0]);
    case LinkShape::Kind::kMesh:
      break;
  }
  throw std::logic_error("PrimitiveSurface: a mesh is not a primitive");
}

TriangleMesh LinkSurface(const LinkGeometry& link, const MeshLimits& limits) {
  TriangleMesh surface;
  for (const LinkShape& shape : link.shapes) {
    if (shape.kind != LinkShape::Kind::kMesh) {
      surface.Append(PrimitiveSurface(shape), shape.X_LS);
    } else if (shape.mesh_path.empty()) {
      throw InputError("link '" + link.name + "': " + shape.mesh_error);
    } else {
      surface.Append(LoadMesh(shape.mesh_path, shape.size, limits), shape.X_LS);
    }
  }
  return surface;
}

}  // namespace deepik
