// The FCL bounding-volume tree of a triangle mesh: the exact checker's collision geometry and the
// sphere fit's distance oracle are built the same way (internal to deepik::geometry).
#pragma once

#include <fcl/geometry/bvh/BVH_model.h>

#include <memory>
#include <vector>

#include "deepik/geometry/mesh.hpp"

namespace deepik::internal {

inline std::shared_ptr<fcl::BVHModel<fcl::OBBRSSd>> MeshBvh(const TriangleMesh& mesh) {
  auto model = std::make_shared<fcl::BVHModel<fcl::OBBRSSd>>();
  std::vector<fcl::Triangle> triangles;
  triangles.reserve(mesh.triangles.size());
  for (const Eigen::Vector3i& t : mesh.triangles)
    triangles.emplace_back(static_cast<size_t>(t[0]), static_cast<size_t>(t[1]), static_cast<size_t>(t[2]));
  model->beginModel();
  model->addSubModel(mesh.vertices, triangles);
  model->endModel();
  return model;
}

}  // namespace deepik::internal
