#include "geometry/convex_hull.hpp"

extern "C" {
#include <libqhull_r/qhull_ra.h>
}

#include <algorithm>
#include <array>
#include <cstdio>
#include <limits>
#include <map>
#include <utility>

namespace deepik::internal {
namespace {

// qhull's state, freed however the hull ends.
class Qhull {
 public:
  Qhull() { qh_zero(&qh_, nullptr); }
  ~Qhull() {
    int long_bytes = 0, total_bytes = 0;
    qh_freeqhull(&qh_, !qh_ALL);
    qh_memfreeshort(&qh_, &long_bytes, &total_bytes);
  }
  Qhull(const Qhull&) = delete;
  Qhull& operator=(const Qhull&) = delete;
  qhT* get() { return &qh_; }

 private:
  qhT qh_;
};

}  // namespace

std::shared_ptr<const fcl::Convexd> ConvexHull(const std::vector<Eigen::Vector3d>& points) {
  if (points.size() < 4) return nullptr;
  std::vector<coordT> coordinates;
  coordinates.reserve(3 * points.size());
  for (const Eigen::Vector3d& p : points) coordinates.insert(coordinates.end(), {p.x(), p.y(), p.z()});
  Qhull qhull;
  qhT* qh = qhull.get();
  // Qt: triangulated facets. Flat input is an error qhull would print: its messages go nowhere
  // (the return code says it).
  char options[] = "qhull Qt";
  std::FILE* quiet = std::fopen("/dev/null", "w");
  const int code = qh_new_qhull(qh, 3, static_cast<int>(points.size()), coordinates.data(), False, options,
                                nullptr, quiet);
  if (quiet != nullptr) std::fclose(quiet);
  if (code != 0) return nullptr;
  // The hull's vertices (renumbered) and triangles, wound outward.
  std::vector<int> index(points.size(), -1);
  auto vertices = std::make_shared<std::vector<Eigen::Vector3d>>();
  auto faces = std::make_shared<std::vector<int>>();
  std::vector<Eigen::Vector4d> planes;  // outward normal, offset
  std::vector<double> outers;           // per plane: how far above it a point may lie
  int num_faces = 0;
  facetT* facet;
  FORALLfacets {
    int corner[3];
    int n = 0;
    vertexT *vertex, **vertexp;
    FOREACHvertex_(facet->vertices) {
      const int id = qh_pointid(qh, vertex->point);
      if (n < 3 && id >= 0 && static_cast<size_t>(id) < points.size()) {
        if (index[static_cast<size_t>(id)] < 0) {
          index[static_cast<size_t>(id)] = static_cast<int>(vertices->size());
          vertices->push_back(points[static_cast<size_t>(id)]);
        }
        corner[n] = index[static_cast<size_t>(id)];
      }
      ++n;
    }
    if (n != 3) return nullptr;  // Qt makes every facet a triangle
    const Eigen::Vector3d normal(facet->normal[0], facet->normal[1], facet->normal[2]);
    const Eigen::Vector3d& a = (*vertices)[static_cast<size_t>(corner[0])];
    const Eigen::Vector3d& b = (*vertices)[static_cast<size_t>(corner[1])];
    const Eigen::Vector3d& c = (*vertices)[static_cast<size_t>(corner[2])];
    if ((b - a).cross(c - a).dot(normal) < 0) std::swap(corner[1], corner[2]);
    faces->insert(faces->end(), {3, corner[0], corner[1], corner[2]});
    // qhull's outer plane: every input point lies below it (facet->maxoutside, with rounding).
    realT outer = 0, inner = 0;
    qh_outerinner(qh, facet, &outer, &inner);
    planes.emplace_back(normal.x(), normal.y(), normal.z(), facet->offset);
    outers.push_back(std::max(outer, 0.0));
    ++num_faces;
  }
  if (num_faces < 4) return nullptr;
  // Grow the hull about its vertices' mean (strictly inside) past every outer plane, with 1 nm to
  // spare: scaling by 1 + s moves the plane at height h above the centre out by s h.
  Eigen::Vector3d centre = Eigen::Vector3d::Zero();
  for (const Eigen::Vector3d& v : *vertices) centre += v;
  centre /= static_cast<double>(vertices->size());
  double scale = 0;
  for (size_t f = 0; f < planes.size(); ++f) {
    const double height = -(planes[f].head<3>().dot(centre) + planes[f][3]);
    if (!(height > 0)) return nullptr;  // a flat hull: no interior
    scale = std::max(scale, (outers[f] + 1e-9) / height);
  }
  for (Eigen::Vector3d& v : *vertices) v = centre + (1 + scale) * (v - centre);
  return std::make_shared<const fcl::Convexd>(vertices, num_faces, faces);
}

Eigen::Vector4d BoundingBall(const std::vector<Eigen::Vector3d>& points) {
  if (points.empty()) return Eigen::Vector4d(0, 0, 0, -1);
  Eigen::Vector3d low = points.front(), high = low;
  for (const Eigen::Vector3d& p : points) {
    low = low.cwiseMin(p);
    high = high.cwiseMax(p);
  }
  const Eigen::Vector3d centre = 0.5 * (low + high);
  double radius = 0;
  for (const Eigen::Vector3d& p : points) radius = std::max(radius, (p - centre).norm());
  return Eigen::Vector4d(centre.x(), centre.y(), centre.z(), radius);
}

namespace {

ConvexNode Node(const std::vector<Eigen::Vector3d>& points) {
  ConvexNode node;
  node.hull = ConvexHull(points);
  if (node.hull == nullptr) return node;
  const Eigen::Vector4d ball = BoundingBall(node.hull->getVertices());
  node.centre = ball.head<3>();
  node.radius = 1.000001 * ball[3] + 1e-9;
  return node;
}

// `surface` with every triangle bisected across its longest edge until no edge exceeds
// `max_edge` (the same surface; small groups of triangles then have tight hulls).
TriangleMesh Subdivided(const TriangleMesh& surface, double max_edge) {
  TriangleMesh out;
  out.vertices = surface.vertices;
  std::vector<Eigen::Vector3i> pending = surface.triangles;
  std::map<std::pair<int, int>, int> midpoint;
  while (!pending.empty()) {
    const Eigen::Vector3i t = pending.back();
    pending.pop_back();
    int longest = 0;
    double length = 0;
    for (int e = 0; e < 3; ++e) {
      const double l =
          (out.vertices[static_cast<size_t>(t[(e + 1) % 3])] - out.vertices[static_cast<size_t>(t[e])])
              .norm();
      if (l > length) {
        length = l;
        longest = e;
      }
    }
    if (!(length > max_edge) || out.triangles.size() + pending.size() > 2000000) {
      out.triangles.push_back(t);
      continue;
    }
    const int a = t[longest], b = t[(longest + 1) % 3], c = t[(longest + 2) % 3];
    // The edge's midpoint, shared with the triangle across it.
    const auto [it, added] =
        midpoint.try_emplace({std::min(a, b), std::max(a, b)}, static_cast<int>(out.vertices.size()));
    const int m = it->second;
    if (added)
      out.vertices.push_back(0.5 *
                             (out.vertices[static_cast<size_t>(a)] + out.vertices[static_cast<size_t>(b)]));
    pending.emplace_back(a, m, c);
    pending.emplace_back(m, b, c);
  }
  return out;
}

struct TreeBuilder {
  const TriangleMesh& surface;
  std::vector<Eigen::Vector3d> centroid;  // per triangle
  std::vector<ConvexNode> nodes;
  std::vector<int> seen = std::vector<int>(surface.vertices.size(), 0);  // per vertex: last mark
  int mark = 0;

  // The vertices of `triangles`, each once.
  std::vector<Eigen::Vector3d> Corners(const std::vector<size_t>& triangles) {
    std::vector<Eigen::Vector3d> points;
    ++mark;
    for (size_t t : triangles) {
      for (int corner = 0; corner < 3; ++corner) {
        const size_t v = static_cast<size_t>(surface.triangles[t][corner]);
        if (seen[v] == mark) continue;
        seen[v] = mark;
        points.push_back(surface.vertices[v]);
      }
    }
    return points;
  }
  // 2-means on the centroids of `triangles`, from the one farthest from the first and the one
  // farthest from that.
  std::array<std::vector<size_t>, 2> Split(const std::vector<size_t>& triangles) const {
    const auto farthest = [&](const Eigen::Vector3d& from) {
      size_t far = triangles.front();
      for (size_t t : triangles)
        if ((centroid[t] - from).squaredNorm() > (centroid[far] - from).squaredNorm()) far = t;
      return centroid[far];
    };
    std::array<Eigen::Vector3d, 2> centre;
    centre[0] = farthest(centroid[triangles.front()]);
    centre[1] = farthest(centre[0]);
    std::array<std::vector<size_t>, 2> side;
    for (int iteration = 0; iteration < 20; ++iteration) {
      side[0].clear();
      side[1].clear();
      std::array<Eigen::Vector3d, 2> sum = {Eigen::Vector3d::Zero(), Eigen::Vector3d::Zero()};
      for (size_t t : triangles) {
        const int s = (centroid[t] - centre[1]).squaredNorm() < (centroid[t] - centre[0]).squaredNorm();
        side[s].push_back(t);
        sum[s] += centroid[t];
      }
      if (side[0].empty() || side[1].empty()) break;
      for (int s = 0; s < 2; ++s) centre[s] = sum[s] / static_cast<double>(side[s].size());
    }
    return side;
  }
  // Adds the node of `triangles` and its subtree; returns its index. Bottom-up: a node's hull is
  // that of its children's hull vertices (which contain its triangles), so qhull sees every point
  // once, in the leaves.
  int Add(const std::vector<size_t>& triangles, int depth) {
    const size_t index = nodes.size();
    nodes.emplace_back();
    std::vector<Eigen::Vector3d> points;
    if (depth > 0 && triangles.size() >= 32) {
      const std::array<std::vector<size_t>, 2> side = Split(triangles);
      if (!side[0].empty() && !side[1].empty()) {
        const int first = Add(side[0], depth - 1);
        const int second = Add(side[1], depth - 1);
        const ConvexNode& a = nodes[static_cast<size_t>(first)];
        const ConvexNode& b = nodes[static_cast<size_t>(second)];
        if (a.hull != nullptr && b.hull != nullptr) {
          points = a.hull->getVertices();
          points.insert(points.end(), b.hull->getVertices().begin(), b.hull->getVertices().end());
          nodes[index].child[0] = first;
          nodes[index].child[1] = second;
        } else {
          nodes.resize(index + 1);  // a flat group: this node is a leaf
        }
      }
    }
    if (points.empty()) points = Corners(triangles);
    ConvexNode node = Node(points);
    node.child[0] = nodes[index].child[0];
    node.child[1] = nodes[index].child[1];
    nodes[index] = std::move(node);
    return static_cast<int>(index);
  }
};

}  // namespace

std::vector<ConvexNode> ConvexTree(const TriangleMesh& original, int depth) {
  if (original.triangles.empty()) return {};
  const TriangleMesh surface = Subdivided(original, 0.1 * BoundingBall(original.vertices)[3]);
  TreeBuilder builder{surface, {}, {}};
  std::vector<size_t> all(surface.triangles.size());
  for (size_t t = 0; t < all.size(); ++t) {
    all[t] = t;
    const Eigen::Vector3i& tri = surface.triangles[t];
    builder.centroid.push_back((surface.vertices[static_cast<size_t>(tri[0])] +
                                surface.vertices[static_cast<size_t>(tri[1])] +
                                surface.vertices[static_cast<size_t>(tri[2])]) /
                               3);
  }
  builder.Add(all, depth);
  if (builder.nodes.front().hull == nullptr) return {};
  return std::move(builder.nodes);
}

}  // namespace deepik::internal
