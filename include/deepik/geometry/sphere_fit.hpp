// Fitting spheres to a link's surface, conservatively (every vertex and surface point inside some
// sphere). Part of deepik::geometry (uses FCL for point-to-surface distances).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "deepik/geometry/collision_model.hpp"
#include "deepik/geometry/mesh.hpp"

namespace deepik {

/// How FitLinkSpheres works and when it stops adding spheres.
struct SphereFitOptions {
  /// The largest overshoot aimed at (mm); see FitLinkSpheres.
  double target_overshoot_mm = 10.0;
  int max_spheres = 32;    ///< per link, whatever the overshoot
  int spheres = 0;         ///< > 0: exactly this many per link (the target is then ignored)
  double spacing = 0.004;  ///< m: surface samples at most this far apart (and half the target) are covered
  /// > 0: the overshoot aimed at (mm, at most the target) near the link's close points
  /// (FitLinkSpheres' `close`, e.g. CloseSurfacePoints): where another link comes near, two
  /// loose fits overlap across a gap the meshes keep, a false alarm. 0: one target everywhere.
  double close_overshoot_mm = 0;
  /// @returns false with a message naming the field when a value is out of range.
  bool IsValid(std::string* error) const;
};

/// The fit of one link.
struct SphereFit {
  std::vector<Eigen::Vector4d> spheres;  ///< x, y, z, radius (m) in the surface's frame
  double overshoot_mm = 0;               ///< SphereOvershootMm of the result
  /// The largest overshoot (mm) above the close points: of the points of the spheres' union
  /// boundary whose nearest surface point lies within 2 mm (half their spacing) of a close point; 0
  /// without close points.
  double close_overshoot_mm = 0;
};

/// Fits spheres to a closed (or nearly closed) surface:
/// 1. cover points: the vertices and points sampled on every triangle at most
///    min(`spacing`, half the target overshoot) apart;
/// 2. candidates, all inside the surface (ray parity): grid points (24 cells along its longest
///    side) and points near the surface, every vertex moved inward along its normal and every
///    triangle's centroid along the triangle's by 0.5, 1, 2, 4, 8 and 16 x half the target (one per
///    voxel of that size): the centres that edges and corners need. Each is a sphere of radius (its
///    distance D to the surface) + margin; since the ball of radius D lies inside the surface, no
///    point of such a sphere is farther than the margin from the solid;
/// 3. greedy set cover: the candidate covering the most uncovered cover points (within its radius
///    less the sampling gap, 0.6 x the longest sub-triangle edge, so that the whole surface and not
///    only its samples is covered) is taken, until all are covered; picks whose points later picks
///    all cover are dropped (smallest first); past `max_spheres` the largest are kept. Left-over
///    points get a sphere of radius margin + gap on them, or, past `max_spheres`, grow the nearest
///    sphere to reach them. Every vertex is inside a sphere whatever happens;
/// 4. the margin starts at the target overshoot and shrinks by 0.7 until the measured overshoot
///    meets it (or, when the budget is too small, grows to the smallest margin that fits it); with
///    `spheres` = K, at most K spheres with a 1 mm margin.
/// With `close` points (in the surface's frame) and options.close_overshoot_mm, a candidate whose
/// sphere would reach within the target of a close point gets the close margin instead (scaled
/// with the margin in step 4, as is the sampling), so the fit is tight where links come near and
/// as loose as the target elsewhere; step 4 then also aims at the close overshoot.
/// @throws std::invalid_argument for bad options or an empty surface.
SphereFit FitLinkSpheres(const TriangleMesh& surface, const SphereFitOptions& options,
                         const std::vector<Eigen::Vector3d>& close = {});

/// Where CloseSurfacePoints looks.
struct CloseZoneOptions {
  int64_t samples = 2000;  ///< uniform configurations
  uint64_t seed = 1;       ///< of the configurations
  double distance = 0.01;  ///< m beyond the other link's spheres
  /// The least share of the configurations in which a point comes close: a point close only in
  /// rare configurations adds few false alarms, however loose its spheres.
  double share = 0.01;
};

/// Per link of `geometry` (its frame L), the points of its surface (vertices and samples 4 mm
/// apart) that come within options.distance of a sphere of a link that `pairs` check it against,
/// in at least options.share of options.samples uniform configurations: where the spheres of two links
/// overlap across a gap when the links come near. `spheres` is the model whose spheres stand for the other
/// links (a link without spheres there gets none). Like the self-collision matrix's "never in N samples", a
/// sampled, statistical set. `surfaces` as ExactChecker::surfaces (one per geometry link).
std::vector<std::vector<Eigen::Vector3d>> CloseSurfacePoints(const RobotGeometry& geometry,
                                                             const std::vector<TriangleMesh>& surfaces,
                                                             const SphereSet& spheres,
                                                             const std::vector<std::pair<int, int>>& pairs,
                                                             const CloseZoneOptions& options);

/// The largest outward overshoot of a sphere model of `surface` (mm): the largest distance from a
/// point of the spheres' union boundary (96 directions per sphere; points inside another sphere or
/// inside the closed surface, by ray parity, skipped) to the surface.
double SphereOvershootMm(const TriangleMesh& surface, const std::vector<Eigen::Vector4d>& spheres);

/// The largest distance (m) by which a vertex of `surface` lies outside every sphere (<= 0: all
/// vertices covered).
double WorstVertexExcess(const TriangleMesh& surface, const std::vector<Eigen::Vector4d>& spheres);

/// Fits every link with shapes (surfaces as ExactChecker::surfaces, one per geometry link).
/// With `close` (one list per geometry link, CloseSurfacePoints), each link fits tighter there.
SphereSet FitSphereSet(const RobotGeometry& geometry, const std::vector<TriangleMesh>& surfaces,
                       const SphereFitOptions& options,
                       const std::vector<std::vector<Eigen::Vector3d>>* close = nullptr);

}  // namespace deepik
