#include "deepik/geometry/sphere_fit.hpp"

#include <fcl/geometry/bvh/BVH_model.h>
#include <fcl/geometry/shape/sphere.h>
#include <fcl/narrowphase/distance.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <optional>
#include <queue>
#include <random>
#include <set>
#include <stdexcept>

#include "deepik/data/random.hpp"
#include "deepik/kinematics/fk.hpp"
#include "geometry/fcl_bvh.hpp"

namespace deepik {
namespace {

constexpr double kPi = 3.14159265358979323846;
// The spacing of CloseSurfacePoints's surface samples (m).
constexpr double kCloseSpacing = 0.004;

struct Cover {
  std::vector<Eigen::Vector3d> points;
  std::vector<Eigen::Vector3d> normals;  // with vertex normals given: each point's, interpolated
  double gap = 0;                        // every surface point is within `gap` of a cover point
};

// Each vertex's normal: the sum of its triangles' area-weighted normals (not normalised).
std::vector<Eigen::Vector3d> VertexNormals(const TriangleMesh& mesh) {
  std::vector<Eigen::Vector3d> normals(mesh.vertices.size(), Eigen::Vector3d::Zero());
  for (const Eigen::Vector3i& t : mesh.triangles) {
    const Eigen::Vector3d& a = mesh.vertices[static_cast<size_t>(t[0])];
    const Eigen::Vector3d n =
        (mesh.vertices[static_cast<size_t>(t[1])] - a).cross(mesh.vertices[static_cast<size_t>(t[2])] - a);
    for (int k = 0; k < 3; ++k) normals[static_cast<size_t>(t[k])] += n;
  }
  return normals;
}

// The vertices and points on every triangle at most `spacing` apart; with `vertex_normals`, each
// point's normal interpolated from its triangle's vertices' (along an edge: between the two faces).
Cover SampleSurface(const TriangleMesh& mesh, double spacing,
                    const std::vector<Eigen::Vector3d>* vertex_normals = nullptr) {
  Cover cover;
  cover.points = mesh.vertices;
  if (vertex_normals != nullptr) cover.normals = *vertex_normals;
  for (const Eigen::Vector3i& t : mesh.triangles) {
    const Eigen::Vector3d a = mesh.vertices[static_cast<size_t>(t[0])],
                          b = mesh.vertices[static_cast<size_t>(t[1])],
                          c = mesh.vertices[static_cast<size_t>(t[2])];
    const double longest = std::max({(b - a).norm(), (c - b).norm(), (a - c).norm()});
    const int k = std::clamp(static_cast<int>(std::ceil(longest / spacing)), 1, 200);
    cover.gap = std::max(cover.gap, 0.6 * longest / k);
    if (k == 1) continue;  // the vertices are already in
    for (int i = 0; i <= k; ++i) {
      for (int j = 0; i + j <= k; ++j) {
        if ((i == 0 && j == 0) || i == k || j == k) continue;
        const double u = double(i) / k, v = double(j) / k;
        cover.points.push_back(a + (b - a) * u + (c - a) * v);
        if (vertex_normals != nullptr) {
          const auto& n = *vertex_normals;
          cover.normals.push_back(n[static_cast<size_t>(t[0])] * (1 - u - v) +
                                  n[static_cast<size_t>(t[1])] * u + n[static_cast<size_t>(t[2])] * v);
        }
      }
    }
  }
  return cover;
}

// The triangles of a mesh bucketed by their x-y extent, so that the parity of the crossings of a
// ray along +z only visits the triangles of the ray's bucket.
class RayIndex {
 public:
  explicit RayIndex(const TriangleMesh& mesh) : mesh_(mesh) {
    lo_ = Eigen::Vector2d::Constant(std::numeric_limits<double>::infinity());
    Eigen::Vector2d hi = -lo_;
    for (const Eigen::Vector3d& v : mesh.vertices)
      lo_ = lo_.cwiseMin(v.head<2>()), hi = hi.cwiseMax(v.head<2>());
    cells_ = std::clamp(static_cast<int>(std::sqrt(static_cast<double>(mesh.triangles.size()) / 4)), 1, 256);
    size_ = std::max(1e-9, (hi - lo_).maxCoeff() / cells_ * (1 + 1e-9));
    buckets_.resize(static_cast<size_t>(cells_ * cells_));
    for (size_t t = 0; t < mesh.triangles.size(); ++t) {
      Eigen::Vector2d a = Eigen::Vector2d::Constant(std::numeric_limits<double>::infinity()), b = -a;
      for (int k = 0; k < 3; ++k) {
        const Eigen::Vector2d v = mesh.vertices[static_cast<size_t>(mesh.triangles[t][k])].head<2>();
        a = a.cwiseMin(v), b = b.cwiseMax(v);
      }
      for (int i = Cell(a.x(), 0); i <= Cell(b.x(), 0); ++i)
        for (int j = Cell(a.y(), 1); j <= Cell(b.y(), 1); ++j)
          buckets_[static_cast<size_t>(i * cells_ + j)].push_back(t);
    }
  }
  // The heights of the crossings of the vertical line through (x, y) with the surface.
  void Crossings(double x, double y, std::vector<double>* heights) const {
    heights->clear();
    const int i = Cell(x, 0), j = Cell(y, 1);
    if (x < lo_.x() || y < lo_.y() || i >= cells_ || j >= cells_) return;
    for (size_t t : buckets_[static_cast<size_t>(i * cells_ + j)]) {
      const Eigen::Vector3i& tri = mesh_.triangles[t];
      const Eigen::Vector3d& a = mesh_.vertices[static_cast<size_t>(tri[0])];
      const Eigen::Vector3d& b = mesh_.vertices[static_cast<size_t>(tri[1])];
      const Eigen::Vector3d& c = mesh_.vertices[static_cast<size_t>(tri[2])];
      const double det = (b.x() - a.x()) * (c.y() - a.y()) - (c.x() - a.x()) * (b.y() - a.y());
      if (std::abs(det) < 1e-18) continue;
      const double u = ((x - a.x()) * (c.y() - a.y()) - (c.x() - a.x()) * (y - a.y())) / det;
      const double v = ((b.x() - a.x()) * (y - a.y()) - (x - a.x()) * (b.y() - a.y())) / det;
      if (u < 0 || v < 0 || u + v > 1) continue;
      heights->push_back(a.z() + u * (b.z() - a.z()) + v * (c.z() - a.z()));
    }
  }
  // Whether p is inside the closed surface: the parity of the crossings above it (an off-grid
  // nudge keeps the ray off edges).
  bool Inside(const Eigen::Vector3d& p) const {
    thread_local std::vector<double> heights;
    Crossings(p.x() + 1.234567e-9, p.y() + 2.345678e-9, &heights);
    int above = 0;
    for (double z : heights) above += z > p.z();
    return above % 2 == 1;
  }

 private:
  int Cell(double value, int axis) const {
    return std::clamp(static_cast<int>((value - lo_[axis]) / size_), 0, cells_ - 1);
  }
  const TriangleMesh& mesh_;
  Eigen::Vector2d lo_;
  double size_ = 1;
  int cells_ = 1;
  std::vector<std::vector<size_t>> buckets_;
};

// The generalised winding number of the surface around p (Van Oosterom and Strackee's solid
// angles): about +-1 inside a closed surface, 0 outside, and robust where the parity of crossings
// is not (inner faces, small holes).
double WindingNumber(const TriangleMesh& mesh, const Eigen::Vector3d& p) {
  double total = 0;
  for (const Eigen::Vector3i& t : mesh.triangles) {
    const Eigen::Vector3d a = mesh.vertices[static_cast<size_t>(t[0])] - p,
                          b = mesh.vertices[static_cast<size_t>(t[1])] - p,
                          c = mesh.vertices[static_cast<size_t>(t[2])] - p;
    const double la = a.norm(), lb = b.norm(), lc = c.norm();
    total += 2 * std::atan2(a.dot(b.cross(c)), la * lb * lc + a.dot(b) * lc + b.dot(c) * la + c.dot(a) * lb);
  }
  return total / (4 * kPi);
}

// Grid points inside the surface (`cells` along its longest side), by the parity of crossings of
// a ray along +z; columns with an odd number of crossings (an open surface) are left out.
std::vector<Eigen::Vector3d> InteriorPoints(const TriangleMesh& mesh, const RayIndex& index, int cells) {
  Eigen::Vector3d lo = Eigen::Vector3d::Constant(std::numeric_limits<double>::infinity()), hi = -lo;
  for (const Eigen::Vector3d& v : mesh.vertices) lo = lo.cwiseMin(v), hi = hi.cwiseMax(v);
  const double h = (hi - lo).maxCoeff() / cells;
  std::vector<Eigen::Vector3d> inside;
  if (!(h > 0)) return inside;
  std::vector<double> crossings;
  for (double x = lo.x() + 0.5 * h + 1.234567e-7; x < hi.x(); x += h) {
    for (double y = lo.y() + 0.5 * h + 2.345678e-7; y < hi.y(); y += h) {
      index.Crossings(x, y, &crossings);
      if (crossings.size() % 2 != 0) continue;  // an open column: trust none of it
      std::sort(crossings.begin(), crossings.end());
      for (double z = lo.z() + 0.5 * h; z < hi.z(); z += h) {
        const auto above = crossings.end() - std::upper_bound(crossings.begin(), crossings.end(), z);
        if (above % 2 == 1) inside.emplace_back(x, y, z);
      }
    }
  }
  return inside;
}

// Points inside the surface near it: every vertex moved inward along its (area-weighted) normal,
// every triangle's centroid along the triangle's, and each of `more` (point, normal) along its
// normal, by depths 0.5, 1, 2, 4, 8 and 16 x `depth`; one per voxel of the depth's size. Near
// edges and corners they are where spheres that stick out little must be centred. The normals'
// orientation is not trusted: both sides are tried and the parity test keeps the inner one.
// `normals`: VertexNormals(mesh).
std::vector<Eigen::Vector3d> InwardPoints(
    const TriangleMesh& mesh, const std::vector<Eigen::Vector3d>& normals, const RayIndex& index,
    double depth, const std::vector<std::pair<Eigen::Vector3d, Eigen::Vector3d>>& more) {
  std::vector<std::pair<Eigen::Vector3d, Eigen::Vector3d>> sources;  // point, unit normal
  for (const Eigen::Vector3i& t : mesh.triangles) {
    const Eigen::Vector3d& a = mesh.vertices[static_cast<size_t>(t[0])];
    const Eigen::Vector3d n =
        (mesh.vertices[static_cast<size_t>(t[1])] - a).cross(mesh.vertices[static_cast<size_t>(t[2])] - a);
    if (n.norm() > 1e-12) {
      const Eigen::Vector3d centroid =
          (a + mesh.vertices[static_cast<size_t>(t[1])] + mesh.vertices[static_cast<size_t>(t[2])]) / 3;
      sources.emplace_back(centroid, n.normalized());
    }
  }
  for (size_t v = 0; v < mesh.vertices.size(); ++v)
    if (normals[v].norm() > 1e-12) sources.emplace_back(mesh.vertices[v], normals[v].normalized());
  sources.insert(sources.end(), more.begin(), more.end());
  std::vector<Eigen::Vector3d> points;
  for (double scale = 0.5; scale <= 16; scale *= 2) {
    const double t = scale * depth, voxel = std::max(t, 1e-3);
    std::set<std::array<int64_t, 3>> taken;
    for (const auto& [p, n] : sources) {
      for (const double side : {-1.0, 1.0}) {
        const Eigen::Vector3d c = p + side * t * n;
        const std::array<int64_t, 3> key{std::llround(c.x() / voxel), std::llround(c.y() / voxel),
                                         std::llround(c.z() / voxel)};
        if (taken.count(key) == 0 && index.Inside(c)) {
          taken.insert(key);
          points.push_back(c);
          break;
        }
      }
    }
  }
  return points;
}

double PointDistance(const fcl::BVHModel<fcl::OBBRSSd>& bvh, const Eigen::Vector3d& p) {
  static const fcl::Sphered point(1e-9);
  fcl::DistanceRequestd request;
  request.gjk_solver_type = fcl::GST_INDEP;
  fcl::DistanceResultd result;
  Eigen::Isometry3d X = Eigen::Isometry3d::Identity();
  X.translation() = p;
  return fcl::distance(&point, X, &bvh, Eigen::Isometry3d::Identity(), request, result);
}

// The cover points in a dense grid of cubes, for the points within a ball.
class PointGrid {
 public:
  explicit PointGrid(const std::vector<Eigen::Vector3d>& points) : points_(points) {
    lo_ = Eigen::Vector3d::Constant(std::numeric_limits<double>::infinity());
    Eigen::Vector3d hi = -lo_;
    for (const Eigen::Vector3d& p : points) lo_ = lo_.cwiseMin(p), hi = hi.cwiseMax(p);
    size_ = std::max(1e-6, (hi - lo_).maxCoeff() / 48);
    for (int k = 0; k < 3; ++k) cells_[k] = std::max(1, static_cast<int>((hi[k] - lo_[k]) / size_) + 1);
    buckets_.resize(static_cast<size_t>(cells_[0]) * cells_[1] * cells_[2]);
    for (size_t p = 0; p < points.size(); ++p)
      buckets_[Bucket(Cell(points[p], 0), Cell(points[p], 1), Cell(points[p], 2))].push_back(
          static_cast<int>(p));
  }
  // The distance from `centre` to the nearest point within `radius` of it (infinity: none).
  double Nearest(const Eigen::Vector3d& centre, double radius) const {
    double best = radius * radius;
    bool found = false;
    Visit(centre, radius, [&](int, double d) {
      if (d <= best) best = d, found = true;
      return false;
    });
    return found ? std::sqrt(best) : std::numeric_limits<double>::infinity();
  }
  // Whether some point lies within `radius` of `centre`.
  bool Any(const Eigen::Vector3d& centre, double radius) const {
    return Visit(centre, radius, [&](int, double d) { return d <= radius * radius; });
  }
  // Appends to `found` the points within `radius` of `centre`.
  void Within(const Eigen::Vector3d& centre, double radius, std::vector<int>* found) const {
    Visit(centre, radius, [&](int p, double d) {
      if (d <= radius * radius) found->push_back(p);
      return false;
    });
  }

 private:
  // Calls visit(point, squared distance) for the points in the cells a ball of `radius` around
  // `centre` touches, until it returns true; returns whether one did.
  template <typename Visitor>
  bool Visit(const Eigen::Vector3d& centre, double radius, Visitor&& visit) const {
    const Eigen::Vector3d r = Eigen::Vector3d::Constant(radius);
    const Eigen::Vector3d a = centre - r, b = centre + r;
    for (int i = Cell(a, 0); i <= Cell(b, 0); ++i)
      for (int j = Cell(a, 1); j <= Cell(b, 1); ++j)
        for (int k = Cell(a, 2); k <= Cell(b, 2); ++k)
          for (int p : buckets_[Bucket(i, j, k)])
            if (visit(p, (points_[static_cast<size_t>(p)] - centre).squaredNorm())) return true;
    return false;
  }
  int Cell(const Eigen::Vector3d& p, int axis) const {
    return std::clamp(static_cast<int>((p[axis] - lo_[axis]) / size_), 0, cells_[axis] - 1);
  }
  size_t Bucket(int i, int j, int k) const {
    return (static_cast<size_t>(i) * cells_[1] + j) * cells_[2] + k;
  }
  const std::vector<Eigen::Vector3d>& points_;
  Eigen::Vector3d lo_;
  double size_ = 1;
  int cells_[3] = {1, 1, 1};
  std::vector<std::vector<int>> buckets_;
};

// The largest distance (mm) from a point of the spheres' union boundary to the surface, over all
// such points and over those whose nearest surface point lies within `close_radius` of a `close`
// point (0 without): how far the spheres stick out above the close points.
struct Overshoot {
  double all = 0, close = 0;
};
Overshoot OvershootMm(const RayIndex& index, const fcl::BVHModel<fcl::OBBRSSd>& bvh,
                      const std::vector<Eigen::Vector4d>& spheres, const PointGrid* close = nullptr,
                      double close_radius = 0) {
  const int directions = 96;
  const fcl::Sphered point(1e-9);
  fcl::DistanceRequestd request(close != nullptr);  // nearest points only when asked
  request.gjk_solver_type = fcl::GST_INDEP;
  Overshoot worst;
  for (size_t s = 0; s < spheres.size(); ++s) {
    for (int d = 0; d < directions; ++d) {  // a Fibonacci sphere of directions
      const double z = 1 - (2.0 * d + 1) / directions, r = std::sqrt(1 - z * z);
      const double phi = d * kPi * (3 - std::sqrt(5.0));
      const Eigen::Vector3d y =
          spheres[s].head<3>() + spheres[s][3] * Eigen::Vector3d(r * std::cos(phi), r * std::sin(phi), z);
      bool covered = false;
      for (size_t o = 0; o < spheres.size() && !covered; ++o)
        covered = o != s && (y - spheres[o].head<3>()).norm() < spheres[o][3] - 1e-9;
      if (covered || index.Inside(y)) continue;
      fcl::DistanceResultd result;
      Eigen::Isometry3d X = Eigen::Isometry3d::Identity();
      X.translation() = y;
      const double distance =
          1e3 * fcl::distance(&point, X, &bvh, Eigen::Isometry3d::Identity(), request, result);
      worst.all = std::max(worst.all, distance);
      // The surface's nearest point: the one of FCL's two as far from y as the distance (FCL 0.7
      // gives a shape-mesh pair's in either order, and the shape's in its own frame).
      const auto off = [&](const Eigen::Vector3d& p) { return std::abs((p - y).norm() - 1e-3 * distance); };
      const Eigen::Vector3d& on_surface = off(result.nearest_points[0]) <= off(result.nearest_points[1])
                                              ? result.nearest_points[0]
                                              : result.nearest_points[1];
      if (close != nullptr && close->Any(on_surface, close_radius))
        worst.close = std::max(worst.close, distance);
    }
  }
  return worst;
}

// Greedy set cover: each candidate c (a point inside the surface, at distance D(c) from it) is a
// sphere of radius D(c) + margin(c), which sticks out of the surface by at most its margin; it covers
// the cover points within that radius less the sampling gap. The candidate covering the most
// uncovered points is taken until all are covered or `max_spheres` are taken. Left-over points
// (thin parts without candidates) get a sphere of radius `leftover` + gap centred on them while
// spheres are left, else join the nearest taken sphere, which grows to reach them.
std::vector<Eigen::Vector4d> GreedyCover(const Cover& cover, const PointGrid& grid,
                                         const std::vector<Eigen::Vector3d>& candidates,
                                         const std::vector<double>& depth, const std::vector<double>& margin,
                                         double leftover, int max_spheres, bool* complete) {
  // The cover points of a candidate are found again when needed (storing them all would take
  // gigabytes on a finely meshed link).
  const auto covered_by = [&](size_t c, std::vector<int>* found) {
    found->clear();
    grid.Within(candidates[c], depth[c] + margin[c] - cover.gap, found);
  };
  std::vector<int> found;
  std::vector<char> done(cover.points.size(), 0);
  size_t left = cover.points.size();
  std::vector<size_t> taken;
  // Lazy greedy: gains only shrink, so a stale gain is an upper bound; recompute the top one and
  // take it when it still beats the next bound.
  std::priority_queue<std::pair<size_t, size_t>> queue;  // (gain bound, candidate)
  for (size_t c = 0; c < candidates.size(); ++c) {
    covered_by(c, &found);
    queue.emplace(found.size(), c);
  }
  while (left > 0 && static_cast<int>(taken.size()) < 2 * max_spheres && !queue.empty()) {
    const size_t best = queue.top().second;
    queue.pop();
    covered_by(best, &found);
    size_t gain = 0;
    for (int p : found) gain += !done[static_cast<size_t>(p)];
    if (gain == 0) continue;
    if (!queue.empty() && gain < queue.top().first) {
      queue.emplace(gain, best);
      continue;
    }
    for (int p : found) left -= !done[static_cast<size_t>(p)], done[static_cast<size_t>(p)] = 1;
    taken.push_back(best);
  }
  // Greedy picks leave spheres whose points later picks also cover: drop them, smallest first.
  std::vector<int> count(cover.points.size(), 0);
  for (size_t c : taken) {
    covered_by(c, &found);
    for (int p : found) ++count[static_cast<size_t>(p)];
  }
  std::sort(taken.begin(), taken.end(), [&depth](size_t x, size_t y) { return depth[x] < depth[y]; });
  std::vector<size_t> kept;
  for (size_t c : taken) {
    covered_by(c, &found);
    if (std::all_of(found.begin(), found.end(),
                    [&count](int p) { return count[static_cast<size_t>(p)] > 1; })) {
      for (int p : found) --count[static_cast<size_t>(p)];
      continue;
    }
    kept.push_back(c);
  }
  // Over the budget: the largest are kept; what only the others covered is left over.
  if (static_cast<int>(kept.size()) > max_spheres) kept.erase(kept.begin(), kept.end() - max_spheres);
  std::fill(done.begin(), done.end(), 0);
  std::vector<Eigen::Vector4d> spheres;
  for (size_t c : kept) {
    covered_by(c, &found);
    for (int p : found) done[static_cast<size_t>(p)] = 1;
    spheres.emplace_back(candidates[c].x(), candidates[c].y(), candidates[c].z(), depth[c] + margin[c]);
  }
  *complete = true;
  for (size_t p = 0; p < cover.points.size(); ++p) {
    if (done[p]) continue;
    const Eigen::Vector3d& x = cover.points[p];
    *complete = *complete && static_cast<int>(spheres.size()) < max_spheres;
    if (static_cast<int>(spheres.size()) < max_spheres) {
      spheres.emplace_back(x.x(), x.y(), x.z(), leftover + cover.gap);
      found.clear();
      grid.Within(x, leftover, &found);
      for (int q : found) done[static_cast<size_t>(q)] = 1;
      continue;
    }
    Eigen::Vector4d* nearest = &spheres.front();
    for (Eigen::Vector4d& s : spheres)
      if ((x - s.head<3>()).norm() - s[3] < (x - nearest->head<3>()).norm() - (*nearest)[3]) nearest = &s;
    (*nearest)[3] = std::max((*nearest)[3], (x - nearest->head<3>()).norm() + cover.gap);
  }
  for (Eigen::Vector4d& s : spheres) s[3] += 1e-6;
  return spheres;
}

}  // namespace

bool SphereFitOptions::IsValid(std::string* error) const {
  if (!(target_overshoot_mm > 0) || !std::isfinite(target_overshoot_mm)) {
    *error = "target_overshoot_mm: expected a finite number > 0";
  } else if (max_spheres < 1 || max_spheres > 5000) {
    *error = "max_spheres: expected a whole number in [1, 5000], got " + std::to_string(max_spheres);
  } else if (spheres < 0 || spheres > 1000) {
    *error = "spheres: expected a whole number in [0, 1000], got " + std::to_string(spheres);
  } else if (!(spacing >= 1e-4 && spacing <= 0.1)) {
    *error = "spacing: expected a number in [1e-4, 0.1] m";
  } else if (!(close_overshoot_mm >= 0 && close_overshoot_mm <= target_overshoot_mm)) {
    *error = "close_overshoot_mm: expected a number in [0, target_overshoot_mm] (0: off)";
  } else {
    return true;
  }
  return false;
}

double SphereOvershootMm(const TriangleMesh& surface, const std::vector<Eigen::Vector4d>& spheres) {
  return OvershootMm(RayIndex(surface), *internal::MeshBvh(surface), spheres).all;
}

double WorstVertexExcess(const TriangleMesh& surface, const std::vector<Eigen::Vector4d>& spheres) {
  double worst = -std::numeric_limits<double>::infinity();
  for (const Eigen::Vector3d& v : surface.vertices) {
    double best = std::numeric_limits<double>::infinity();
    for (const Eigen::Vector4d& s : spheres) best = std::min(best, (v - s.head<3>()).norm() - s[3]);
    worst = std::max(worst, best);
  }
  return worst;
}

// The sphere centres tried (see FitLinkSpheres, step 2): inside the surface, grid points and points
// inward of the vertices and centroids; with a close zone, also inward of every cover point near
// it, all of them kept only where the winding number agrees.
std::vector<Eigen::Vector3d> Candidates(const TriangleMesh& surface,
                                        const std::vector<Eigen::Vector3d>& normals, const RayIndex& index,
                                        const Cover& cover, const PointGrid* zone, double target,
                                        double loose) {
  // A close fit's margins are small: the spheres along an edge need centres inward of every
  // surface sample near the close points (interpolated normals: between the faces at an edge),
  // not only of the vertices and centroids.
  std::vector<std::pair<Eigen::Vector3d, Eigen::Vector3d>> more;
  for (size_t p = 0; zone != nullptr && p < cover.points.size(); ++p)
    if (cover.normals[p].norm() > 1e-12 && zone->Any(cover.points[p], loose))
      more.emplace_back(cover.points[p], cover.normals[p].normalized());
  std::vector<Eigen::Vector3d> candidates = InteriorPoints(surface, index, 24);
  const std::vector<Eigen::Vector3d> inward = InwardPoints(surface, normals, index, 0.5 * target, more);
  candidates.insert(candidates.end(), inward.begin(), inward.end());
  // A close fit's many candidates near edges meet the parity test's blind spots (inner faces of a
  // mesh that is not watertight): a centre outside would stick out by twice its depth. Keep those
  // the winding number also finds inside.
  if (zone != nullptr) {
    candidates.erase(
        std::remove_if(candidates.begin(), candidates.end(),
                       [&](const Eigen::Vector3d& c) { return std::abs(WindingNumber(surface, c)) < 0.5; }),
        candidates.end());
  }
  return candidates;
}

SphereFit FitLinkSpheres(const TriangleMesh& surface, const SphereFitOptions& options,
                         const std::vector<Eigen::Vector3d>& close) {
  std::string error;
  if (!options.IsValid(&error)) throw std::invalid_argument("sphere fit: " + error);
  if (surface.triangles.empty()) throw std::invalid_argument("sphere fit: the surface has no triangle");
  const bool zoned = options.close_overshoot_mm > 0 && !close.empty() && options.spheres == 0;
  // The close margin as a share of the margin; the tightest target sets the sampling.
  const double ratio = zoned ? options.close_overshoot_mm / options.target_overshoot_mm : 1.0;
  const double target = 1e-3 * options.target_overshoot_mm * ratio;
  // Samples closer than the margin, so that the gap they leave stays below it.
  const std::vector<Eigen::Vector3d> vertex_normals = VertexNormals(surface);
  const Cover cover =
      SampleSurface(surface, std::min(options.spacing, 0.5 * target), zoned ? &vertex_normals : nullptr);
  const PointGrid grid(cover.points);
  const RayIndex index(surface);
  const std::optional<PointGrid> zone = zoned ? std::optional<PointGrid>(std::in_place, close) : std::nullopt;
  const double loose = 1e-3 * options.target_overshoot_mm;
  std::vector<Eigen::Vector3d> candidates =
      Candidates(surface, vertex_normals, index, cover, zone ? &*zone : nullptr, target, loose);
  if (candidates.size() < 8) candidates = surface.vertices;  // not closed: spheres on the skin
  const auto bvh = internal::MeshBvh(surface);
  std::vector<double> depth;
  for (const Eigen::Vector3d& c : candidates) depth.push_back(PointDistance(*bvh, c));
  // How far each candidate's sphere may reach: up to the nearest close point (infinite without
  // one within reach at the target margin); its margin lies between the close and target ones.
  std::vector<double> reach(candidates.size(), std::numeric_limits<double>::infinity());
  for (size_t c = 0; zone && c < candidates.size(); ++c)
    reach[c] = zone->Nearest(candidates[c], depth[c] + loose);
  struct Attempt {
    SphereFit fit;
    bool complete = false;  // covered within the budget, no sphere grown
    double score = 0;       // the overshoots as shares of their targets (the larger)
  };
  // A fit with margins `scale` x (target, close target) (mm).
  // The margin at scale 1 (mm): the target, or 1 mm for a fixed count of spheres.
  const double base_mm = options.spheres > 0 ? 1.0 : options.target_overshoot_mm;
  const auto fit = [&](double scale_loose, double scale_close, int budget) {
    const double margin_mm = base_mm * scale_loose;
    const double close_mm = base_mm * ratio * scale_close;
    Attempt attempt;
    std::vector<double> margin(candidates.size());
    for (size_t c = 0; c < candidates.size(); ++c)
      margin[c] = std::clamp(reach[c] - depth[c], 1e-3 * close_mm, 1e-3 * std::max(close_mm, margin_mm));
    attempt.fit.spheres =
        GreedyCover(cover, grid, candidates, depth, margin, 1e-3 * close_mm, budget, &attempt.complete);
    const Overshoot overshoot =
        OvershootMm(index, *bvh, attempt.fit.spheres, zone ? &*zone : nullptr, 0.5 * kCloseSpacing);
    attempt.fit.overshoot_mm = overshoot.all;
    attempt.fit.close_overshoot_mm = overshoot.close;
    attempt.score = std::max(attempt.fit.overshoot_mm / options.target_overshoot_mm,
                             zoned ? attempt.fit.close_overshoot_mm / options.close_overshoot_mm : 0.0);
    return attempt;
  };
  const int budget = options.spheres > 0 ? options.spheres : options.max_spheres;
  Attempt best = fit(1, 1, budget);
  if (!best.complete) {
    // The budget is too small for these margins: the smallest scale of both that completes within
    // it (bisection; larger spheres cover more each).
    double low = 1, high = 2;
    Attempt at_high = fit(high, high, budget);
    for (int i = 0; i < 8 && !at_high.complete; ++i) high *= 2, at_high = fit(high, high, budget);
    for (int i = 0; i < 6 && at_high.complete; ++i) {
      const double middle = 0.5 * (low + high);
      Attempt attempt = fit(middle, middle, budget);
      if (attempt.complete) {
        high = middle, at_high = std::move(attempt);
      } else {
        low = middle;
      }
    }
    if (at_high.score < best.score) best = std::move(at_high);
    return best.fit;
  }
  // Edges and corners stick out more than the margin: shrink the margin of each target missed
  // while that helps.
  double loose_scale = 1, close_scale = 1;
  for (int step = 0; options.spheres == 0 && best.score > 1.001 && step < 12; ++step) {
    const bool loose_missed = best.fit.overshoot_mm > options.target_overshoot_mm;
    const bool close_missed = zoned && best.fit.close_overshoot_mm > options.close_overshoot_mm;
    if (loose_missed) loose_scale *= 0.7;
    if (close_missed || (loose_missed && !zoned)) close_scale *= 0.7;
    if (options.target_overshoot_mm * loose_scale < 0.5 ||
        options.target_overshoot_mm * ratio * close_scale < 0.3)
      break;
    Attempt next = fit(loose_scale, close_scale, budget);
    if (!next.complete) break;
    if (next.score < best.score) best = std::move(next);
  }
  return best.fit;
}

std::vector<std::vector<Eigen::Vector3d>> CloseSurfacePoints(const RobotGeometry& geometry,
                                                             const std::vector<TriangleMesh>& surfaces,
                                                             const SphereSet& spheres,
                                                             const std::vector<std::pair<int, int>>& pairs,
                                                             const CloseZoneOptions& options) {
  if (options.samples < 1 || !(options.distance >= 0 && options.distance <= 1) ||
      !(options.share > 0 && options.share <= 1))
    throw std::invalid_argument(
        "close zone: expected samples >= 1, a distance in [0, 1] m and a share in (0, 1]");
  const size_t n = geometry.links.size();
  if (surfaces.size() != n) throw std::invalid_argument("close zone: one surface per link expected");
  std::vector<std::vector<Eigen::Vector3d>> points(n);
  std::vector<std::optional<PointGrid>> grids(n);
  std::vector<std::vector<Eigen::Vector4d>> balls(n);                   // each link's spheres, in L
  std::vector<Eigen::Vector4d> bound(n, Eigen::Vector4d(0, 0, 0, -1));  // the points' bounding ball
  for (const LinkSpheres& link : spheres.links) {
    const int i = geometry.FindLink(link.link);
    if (i >= 0) balls[static_cast<size_t>(i)] = link.spheres;
  }
  for (size_t i = 0; i < n; ++i) {
    if (surfaces[i].triangles.empty()) continue;
    points[i] = SampleSurface(surfaces[i], kCloseSpacing).points;
    grids[i].emplace(points[i]);
    Eigen::Vector3d lo = points[i].front(), hi = lo;
    for (const Eigen::Vector3d& p : points[i]) lo = lo.cwiseMin(p), hi = hi.cwiseMax(p);
    bound[i] << 0.5 * (lo + hi), 0.5 * (hi - lo).norm();
  }
  // Per point: in how many configurations it came close, and the last one (to count each once).
  std::vector<std::vector<int64_t>> count(n), last(n);
  for (size_t i = 0; i < n; ++i) count[i].assign(points[i].size(), 0), last[i].assign(points[i].size(), -1);
  int64_t k = 0;
  std::mt19937_64 rng(options.seed);
  Eigen::VectorXd q(geometry.chain.num_joints());
  std::vector<Eigen::Isometry3d> X_BF, X_BL(n);
  std::vector<int> found;
  // Marks the points of link a within `distance` of a sphere of link b (X_ab: b's frame in a's).
  const auto mark = [&](size_t a, size_t b, const Eigen::Isometry3d& X_ab) {
    if (!grids[a]) return;
    for (const Eigen::Vector4d& s : balls[b]) {
      const Eigen::Vector3d c = X_ab * s.head<3>();
      const double reach = s[3] + options.distance;
      if ((c - bound[a].head<3>()).norm() > bound[a][3] + reach) continue;
      found.clear();
      grids[a]->Within(c, reach, &found);
      for (int p : found) {
        int64_t& seen = last[a][static_cast<size_t>(p)];
        if (seen != k) seen = k, ++count[a][static_cast<size_t>(p)];
      }
    }
  };
  for (k = 0; k < options.samples; ++k) {
    UniformConfiguration(geometry.chain, &rng, q);
    JointFrames(geometry.chain, q, &X_BF);
    for (size_t i = 0; i < n; ++i) {
      const int f = geometry.links[i].frame;
      X_BL[i] = f < 0 ? geometry.links[i].X_FL : X_BF[static_cast<size_t>(f)] * geometry.links[i].X_FL;
    }
    for (const auto& [a, b] : pairs) {
      const auto i = static_cast<size_t>(a), j = static_cast<size_t>(b);
      const Eigen::Isometry3d X_ij = X_BL[i].inverse() * X_BL[j];
      mark(i, j, X_ij);
      mark(j, i, X_ij.inverse());
    }
  }
  std::vector<std::vector<Eigen::Vector3d>> close(n);
  for (size_t i = 0; i < n; ++i)
    for (size_t p = 0; p < points[i].size(); ++p)
      if (static_cast<double>(count[i][p]) >= options.share * static_cast<double>(options.samples))
        close[i].push_back(points[i][p]);
  return close;
}

SphereSet FitSphereSet(const RobotGeometry& geometry, const std::vector<TriangleMesh>& surfaces,
                       const SphereFitOptions& options,
                       const std::vector<std::vector<Eigen::Vector3d>>* close) {
  SphereSet set;
  set.arm = geometry.chain.name();
  set.method =
      "deepik spheres: greedy cover of the surface (vertices and samples " + std::to_string(options.spacing) +
      " m apart) by nearly inscribed spheres around interior grid points; target overshoot " +
      std::to_string(options.target_overshoot_mm) + " mm, at most " + std::to_string(options.max_spheres) +
      " spheres per link" + (options.spheres > 0 ? ", " + std::to_string(options.spheres) + " asked" : "") +
      (options.close_overshoot_mm > 0 && close != nullptr
           ? "; " + std::to_string(options.close_overshoot_mm) + " mm where other links come close"
           : "");
  for (size_t i = 0; i < geometry.links.size(); ++i) {
    if (surfaces[i].triangles.empty()) continue;
    const std::vector<Eigen::Vector3d> none;
    const std::vector<Eigen::Vector3d>& near = close ? (*close)[i] : none;
    const SphereFit fit = FitLinkSpheres(surfaces[i], options, near);
    const bool zoned = options.close_overshoot_mm > 0 && !near.empty();
    set.links.push_back({geometry.links[i].name, fit.spheres, static_cast<int>(surfaces[i].vertices.size()),
                         fit.overshoot_mm, zoned ? fit.close_overshoot_mm : -1.0});
  }
  return set;
}

}  // namespace deepik
