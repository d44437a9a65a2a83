#include "deepik/geometry/sphere_fit.hpp"

#include <fcl/geometry/bvh/BVH_model.h>
#include <fcl/geometry/shape/sphere.h>
#include <fcl/narrowphase/distance.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <queue>
#include <stdexcept>

#include "geometry/fcl_bvh.hpp"

namespace deepik {
namespace {

constexpr double kPi = 3.14159265358979323846;

struct Cover {
  std::vector<Eigen::Vector3d> points;
  double gap = 0;  // every surface point is within `gap` of a cover point
};

Cover SampleSurface(const TriangleMesh& mesh, double spacing) {
  Cover cover;
  cover.points = mesh.vertices;
  for (const Eigen::Vector3i& t : mesh.triangles) {
    const Eigen::Vector3d a = mesh.vertices[static_cast<size_t>(t[0])],
                          b = mesh.vertices[static_cast<size_t>(t[1])],
                          c = mesh.vertices[static_cast<size_t>(t[2])];
    const double longest = std::max({(b - a).norm(), (c - b).norm(), (a - c).norm()});
    const int k = std::clamp(static_cast<int>(std::ceil(longest / spacing)), 1, 200);
    cover.gap = std::max(cover.gap, 0.6 * longest / k);
    if (k == 1) continue;  // the vertices are already in
    for (int i = 0; i <= k; ++i)
      for (int j = 0; i + j <= k; ++j)
        if (!((i == 0 && j == 0) || i == k || j == k))
          cover.points.push_back(a + (b - a) * (double(i) / k) + (c - a) * (double(j) / k));
  }
  return cover;
}

// Grid points inside the surface, by the parity of crossings of a ray along +z.
std::vector<Eigen::Vector3d> InteriorPoints(const TriangleMesh& mesh, int cells) {
  Eigen::Vector3d lo = Eigen::Vector3d::Constant(std::numeric_limits<double>::infinity()), hi = -lo;
  for (const Eigen::Vector3d& v : mesh.vertices) lo = lo.cwiseMin(v), hi = hi.cwiseMax(v);
  const double h = (hi - lo).maxCoeff() / cells;
  std::vector<Eigen::Vector3d> inside;
  if (!(h > 0)) return inside;
  for (double x = lo.x() + 0.5 * h + 1.234567e-7; x < hi.x(); x += h) {
    for (double y = lo.y() + 0.5 * h + 2.345678e-7; y < hi.y(); y += h) {
      std::vector<double> crossings;
      for (const Eigen::Vector3i& t : mesh.triangles) {
        const Eigen::Vector3d& a = mesh.vertices[static_cast<size_t>(t[0])];
        const Eigen::Vector3d& b = mesh.vertices[static_cast<size_t>(t[1])];
        const Eigen::Vector3d& c = mesh.vertices[static_cast<size_t>(t[2])];
        const double det = (b.x() - a.x()) * (c.y() - a.y()) - (c.x() - a.x()) * (b.y() - a.y());
        if (std::abs(det) < 1e-18) continue;
        const double u = ((x - a.x()) * (c.y() - a.y()) - (c.x() - a.x()) * (y - a.y())) / det;
        const double v = ((b.x() - a.x()) * (y - a.y()) - (x - a.x()) * (b.y() - a.y())) / det;
        if (u < 0 || v < 0 || u + v > 1) continue;
        crossings.push_back(a.z() + u * (b.z() - a.z()) + v * (c.z() - a.z()));
      }
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

// Whether p is inside the closed surface: the parity of the crossings of a ray along +z.
bool Inside(const TriangleMesh& mesh, const Eigen::Vector3d& p) {
  int crossings = 0;
  const double x = p.x() + 1.234567e-9, y = p.y() + 2.345678e-9;
  for (const Eigen::Vector3i& t : mesh.triangles) {
    const Eigen::Vector3d& a = mesh.vertices[static_cast<size_t>(t[0])];
    const Eigen::Vector3d& b = mesh.vertices[static_cast<size_t>(t[1])];
    const Eigen::Vector3d& c = mesh.vertices[static_cast<size_t>(t[2])];
    if (std::max({a.z(), b.z(), c.z()}) < p.z()) continue;
    const double det = (b.x() - a.x()) * (c.y() - a.y()) - (c.x() - a.x()) * (b.y() - a.y());
    if (std::abs(det) < 1e-18) continue;
    const double u = ((x - a.x()) * (c.y() - a.y()) - (c.x() - a.x()) * (y - a.y())) / det;
    const double v = ((b.x() - a.x()) * (y - a.y()) - (x - a.x()) * (b.y() - a.y())) / det;
    if (u < 0 || v < 0 || u + v > 1) continue;
    crossings += a.z() + u * (b.z() - a.z()) + v * (c.z() - a.z()) > p.z();
  }
  return crossings % 2 == 1;
}

double OvershootMm(const TriangleMesh& mesh, const fcl::BVHModel<fcl::OBBRSSd>& bvh,
                   const std::vector<Eigen::Vector4d>& spheres) {
  const int directions = 96;
  const fcl::Sphered point(1e-9);
  fcl::DistanceRequestd request;
  request.gjk_solver_type = fcl::GST_INDEP;
  double worst = 0;
  for (size_t s = 0; s < spheres.size(); ++s) {
    for (int d = 0; d < directions; ++d) {  // a Fibonacci sphere of directions
      const double z = 1 - (2.0 * d + 1) / directions, r = std::sqrt(1 - z * z);
      const double phi = d * kPi * (3 - std::sqrt(5.0));
      const Eigen::Vector3d y =
          spheres[s].head<3>() + spheres[s][3] * Eigen::Vector3d(r * std::cos(phi), r * std::sin(phi), z);
      bool covered = false;
      for (size_t o = 0; o < spheres.size() && !covered; ++o)
        covered = o != s && (y - spheres[o].head<3>()).norm() < spheres[o][3] - 1e-9;
      if (covered || Inside(mesh, y)) continue;
      fcl::DistanceResultd result;
      Eigen::Isometry3d X = Eigen::Isometry3d::Identity();
      X.translation() = y;
      worst = std::max(worst, fcl::distance(&point, X, &bvh, Eigen::Isometry3d::Identity(), request, result));
    }
  }
  return 1e3 * worst;
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

// Greedy set cover: each interior grid point c is a candidate sphere of radius D(c) + margin
// (D = its distance to the surface), covering the cover points within that radius less the
// sampling gap; the candidate covering the most uncovered points is taken until all are covered
// or `max_spheres` are taken. Left-over points (thin parts without interior grid points) get a
// sphere of radius margin + gap centred on them while spheres are left, else join the nearest
// taken sphere, which grows to reach them.
std::vector<Eigen::Vector4d> GreedyCover(const Cover& cover, const std::vector<Eigen::Vector3d>& candidates,
                                         const fcl::BVHModel<fcl::OBBRSSd>& bvh, double margin,
                                         int max_spheres, bool* complete) {
  std::vector<std::vector<int>> covers(candidates.size());
  std::vector<double> radius(candidates.size());
  for (size_t c = 0; c < candidates.size(); ++c) {
    radius[c] = PointDistance(bvh, candidates[c]) + margin;
    const double reach_sq = std::pow(std::max(0.0, radius[c] - cover.gap), 2);
    for (size_t p = 0; p < cover.points.size(); ++p)
      if ((cover.points[p] - candidates[c]).squaredNorm() <= reach_sq)
        covers[c].push_back(static_cast<int>(p));
  }
  std::vector<char> done(cover.points.size(), 0);
  size_t left = cover.points.size();
  std::vector<Eigen::Vector4d> spheres;
  // Lazy greedy: gains only shrink, so a stale gain is an upper bound; recompute the top one and
  // take it when it still beats the next bound.
  std::priority_queue<std::pair<size_t, size_t>> queue;  // (gain bound, candidate)
  for (size_t c = 0; c < candidates.size(); ++c) queue.emplace(covers[c].size(), c);
  while (left > 0 && static_cast<int>(spheres.size()) < max_spheres && !queue.empty()) {
    const size_t best = queue.top().second;
    queue.pop();
    size_t gain = 0;
    for (int p : covers[best]) gain += !done[static_cast<size_t>(p)];
    if (gain == 0) continue;
    if (!queue.empty() && gain < queue.top().first) {
      queue.emplace(gain, best);
      continue;
    }
    for (int p : covers[best]) left -= !done[static_cast<size_t>(p)], done[static_cast<size_t>(p)] = 1;
    spheres.emplace_back(candidates[best].x(), candidates[best].y(), candidates[best].z(), radius[best]);
  }
  *complete = true;
  for (size_t p = 0; p < cover.points.size(); ++p) {
    if (done[p]) continue;
    const Eigen::Vector3d& x = cover.points[p];
    *complete = *complete && static_cast<int>(spheres.size()) < max_spheres;
    if (static_cast<int>(spheres.size()) < max_spheres) {
      spheres.emplace_back(x.x(), x.y(), x.z(), margin + cover.gap);
      for (size_t q = p; q < cover.points.size(); ++q)
        if ((cover.points[q] - x).norm() <= margin) done[q] = 1;
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
  } else if (max_spheres < 1 || max_spheres > 1000) {
    *error = "max_spheres: expected a whole number in [1, 1000], got " + std::to_string(max_spheres);
  } else if (spheres < 0 || spheres > 1000) {
    *error = "spheres: expected a whole number in [0, 1000], got " + std::to_string(spheres);
  } else if (!(spacing >= 1e-4 && spacing <= 0.1)) {
    *error = "spacing: expected a number in [1e-4, 0.1] m";
  } else {
    return true;
  }
  return false;
}

double SphereOvershootMm(const TriangleMesh& surface, const std::vector<Eigen::Vector4d>& spheres) {
  return OvershootMm(surface, *internal::MeshBvh(surface), spheres);
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

SphereFit FitLinkSpheres(const TriangleMesh& surface, const SphereFitOptions& options) {
  std::string error;
  if (!options.IsValid(&error)) throw std::invalid_argument("sphere fit: " + error);
  if (surface.triangles.empty()) throw std::invalid_argument("sphere fit: the surface has no triangle");
  const Cover cover = SampleSurface(surface, options.spacing);
  std::vector<Eigen::Vector3d> candidates = InteriorPoints(surface, 24);
  if (candidates.size() < 8) candidates = surface.vertices;  // not closed: spheres on the skin
  const auto bvh = internal::MeshBvh(surface);
  struct Attempt {
    SphereFit fit;
    bool complete = false;  // covered within the budget, no sphere grown
  };
  const auto fit = [&](double margin_mm, int budget) {
    Attempt attempt;
    attempt.fit.spheres = GreedyCover(cover, candidates, *bvh, 1e-3 * margin_mm, budget, &attempt.complete);
    attempt.fit.overshoot_mm = OvershootMm(surface, *bvh, attempt.fit.spheres);
    return attempt;
  };
  const int budget = options.spheres > 0 ? options.spheres : options.max_spheres;
  Attempt best = fit(options.spheres > 0 ? 1.0 : options.target_overshoot_mm, budget);
  if (!best.complete) {
    // The budget is too small for this margin: the smallest margin that completes within it
    // (bisection; larger spheres cover more each).
    double low = options.spheres > 0 ? 1.0 : options.target_overshoot_mm, high = 2 * low;
    Attempt at_high = fit(high, budget);
    for (int i = 0; i < 8 && !at_high.complete; ++i) at_high = fit(high *= 2, budget);
    for (int i = 0; i < 6 && at_high.complete; ++i) {
      const double middle = 0.5 * (low + high);
      Attempt attempt = fit(middle, budget);
      if (attempt.complete) {
        high = middle, at_high = std::move(attempt);
      } else {
        low = middle;
      }
    }
    if (at_high.fit.overshoot_mm < best.fit.overshoot_mm) best = std::move(at_high);
    return best.fit;
  }
  // Edges and corners stick out more than the margin: shrink it while that helps the target.
  for (double margin = 0.7 * options.target_overshoot_mm;
       options.spheres == 0 && best.fit.overshoot_mm > options.target_overshoot_mm && margin > 0.5;
       margin *= 0.7) {
    Attempt next = fit(margin, budget);
    if (!next.complete) break;
    if (next.fit.overshoot_mm < best.fit.overshoot_mm) best = std::move(next);
  }
  return best.fit;
}

SphereSet FitSphereSet(const RobotGeometry& geometry, const std::vector<TriangleMesh>& surfaces,
                       const SphereFitOptions& options) {
  SphereSet set;
  set.arm = geometry.chain.name();
  set.method =
      "deepik spheres: greedy cover of the surface (vertices and samples " + std::to_string(options.spacing) +
      " m apart) by nearly inscribed spheres around interior grid points; target overshoot " +
      std::to_string(options.target_overshoot_mm) + " mm, at most " + std::to_string(options.max_spheres) +
      " spheres per link" + (options.spheres > 0 ? ", " + std::to_string(options.spheres) + " asked" : "");
  for (size_t i = 0; i < geometry.links.size(); ++i) {
    if (surfaces[i].triangles.empty()) continue;
    const SphereFit fit = FitLinkSpheres(surfaces[i], options);
    set.links.push_back({geometry.links[i].name, fit.spheres, static_cast<int>(surfaces[i].vertices.size()),
                         fit.overshoot_mm});
  }
  return set;
}

}  // namespace deepik
