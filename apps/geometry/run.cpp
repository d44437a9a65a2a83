// What the collision commands do (run inside the geometry plugin).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <iomanip>
#include <optional>
#include <ostream>
#include <random>
#include <sstream>

#include "deepik/data/csv.hpp"
#include "deepik/data/random.hpp"
#include "deepik/errors.hpp"
#include "deepik/geometry/exact_checker.hpp"
#include "deepik/geometry/scene.hpp"
#include "deepik/geometry/sphere_fit.hpp"
#include "deepik/solve/clear_bench.hpp"
#include "geometry_commands.hpp"

namespace deepik::cli {
namespace {

struct LoadedArm {
  RobotGeometry geometry;
  std::optional<CollisionMatrix> matrix;
  std::vector<std::pair<int, int>> pairs;
};

LoadedArm LoadArmGeometry(const GeometryInputOptions& options, bool require_meshes, std::ostream& log) {
  LoadedArm arm{LoadRobotGeometry(options.arm, options.search, require_meshes), std::nullopt, {}};
  const std::string matrix_path =
      options.matrix_path.empty() ? BuiltinCollisionFile(options.arm.arm, "matrix") : options.matrix_path;
  if (!matrix_path.empty()) {
    arm.matrix = LoadCollisionMatrix(matrix_path, arm.geometry);
    log << "self-collision matrix: " << matrix_path << " (" << arm.matrix->disabled.size()
        << " pairs disabled)\n";
  } else {
    log << "no self-collision matrix (--matrix): every pair of links not joined by a joint is checked\n";
  }
  int from_visual = 0;
  for (const LinkGeometry& link : arm.geometry.links) from_visual += link.from_visual;
  if (from_visual > 0) {
    log << "note: " << from_visual << " links have no <collision> element in " << arm.geometry.source
        << ": their visual geometry is used\n";
  }
  arm.pairs = CheckedPairs(arm.geometry, arm.matrix ? &*arm.matrix : nullptr);
  return arm;
}

SphereSet LoadSpheres(const GeometryInputOptions& options, const RobotGeometry& geometry, std::ostream& log) {
  const std::string path =
      options.spheres_path.empty() ? BuiltinCollisionFile(options.arm.arm, "spheres") : options.spheres_path;
  if (path.empty()) {
    throw InputError("no sphere model for arm '" + options.arm.arm +
                     "': give --spheres FILE (made by `deepik spheres " + options.arm.arm + " -o FILE`)");
  }
  log << "sphere model: " << path << "\n";
  return LoadSphereSet(path, geometry);
}

std::string LinkName(const CollisionChecker& checker, int index) {
  return index < 0 ? "" : checker.link_names()[static_cast<size_t>(index)];
}

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::nth_element(values.begin(), values.begin() + static_cast<long>(values.size() / 2), values.end());
  return values[values.size() / 2];
}

}  // namespace

CollideChecker MakeCollideChecker(const GeometryInputOptions& options, const std::string& model,
                                  std::ostream& log) {
  if (model != "exact" && model != "spheres") {
    throw InputError("collision model: expected exact or spheres, got '" + model + "'");
  }
  const bool exact = model == "exact";
  const LoadedArm arm = LoadArmGeometry(options, exact, log);
  CollideChecker made;
  if (exact) {
    made.checker = std::make_unique<ExactChecker>(arm.geometry, arm.pairs);
  } else {
    made.checker =
        std::make_unique<SphereChecker>(arm.geometry, LoadSpheres(options, arm.geometry, log), arm.pairs);
  }
  made.num_joints = arm.geometry.chain.num_joints();
  made.pairs = arm.pairs.size();
  return made;
}

void RunCollide(const CollideCommandOptions& options, std::ostream& log) {
  CheckDistinctFiles(options.input_path, options.output_path);
  const CollideChecker made = MakeCollideChecker(options.geometry, options.model, log);
  const CollisionChecker* checker = made.checker.get();
  const int n = made.num_joints;
  CsvColumns columns;
  columns.count = n;
  NumericCsvReader input(options.input_path, columns);
  AtomicFileWriter writer(options.output_path);
  std::ostream& out = writer.stream();
  out << "in_collision,min_distance,link_a,link_b\n";
  Eigen::VectorXd q(n);
  NumericRows rows;
  int64_t count = 0, colliding = 0;
  while (input.ReadChunk(kCsvChunkRows, &rows)) {
    for (size_t r = 0; r < rows.size(); ++r) {
      for (int i = 0; i < n; ++i) q[i] = rows.row(r)[i];
      const CollisionReport report = checker->Check(q);
      colliding += report.in_collision;
      out << (report.in_collision ? 1 : 0) << ',' << FormatDouble(report.min_distance) << ','
          << LinkName(*checker, report.link_a) << ',' << LinkName(*checker, report.link_b) << '\n';
    }
    count += static_cast<int64_t>(rows.size());
  }
  writer.Commit();
  log << "collide (" << options.model << ", " << made.pairs << " link pairs): " << count << " rows, "
      << colliding << " in self-collision -> " << options.output_path << "\n";
}

// `set` (the model of --spheres, or the shipped one) with the links of --link fitted anew.
SphereSet RefitLinks(SphereSet set, const RobotGeometry& geometry, const std::vector<TriangleMesh>& surfaces,
                     const SphereFitOptions& fit, const SpheresCommandOptions& options,
                     const std::vector<std::vector<Eigen::Vector3d>>* close, std::ostream& log) {
  std::vector<TriangleMesh> chosen(surfaces.size());
  std::string names;
  for (const std::string& name : options.links) {
    const int index = geometry.FindLink(name);
    if (index < 0) throw InputError("spheres: --link " + name + ": no such link in " + geometry.source);
    if (surfaces[static_cast<size_t>(index)].triangles.empty())
      throw InputError("spheres: --link " + name + ": the link has no collision or visual geometry");
    chosen[static_cast<size_t>(index)] = surfaces[static_cast<size_t>(index)];
    names += (names.empty() ? "" : ", ") + name;
  }
  log << "fitting spheres to " << names << "; the other links keep theirs\n";
  const SphereSet refit = FitSphereSet(geometry, chosen, fit, close);
  for (const LinkSpheres& link : refit.links) {
    auto same = [&](const LinkSpheres& kept) { return kept.link == link.link; };
    const auto it = std::find_if(set.links.begin(), set.links.end(), same);
    if (it != set.links.end()) {
      *it = link;
    } else {
      set.links.push_back(link);
    }
  }
  set.method += "; then " + names + " refit by " + refit.method;
  return set;
}

void RunSpheres(const SpheresCommandOptions& options, std::ostream& out, std::ostream& log) {
  SphereFitOptions fit;
  fit.target_overshoot_mm = options.target_overshoot_mm;
  fit.max_spheres = options.max_spheres;
  fit.spheres = options.spheres;
  fit.spacing = options.spacing;
  fit.close_overshoot_mm = options.close_overshoot_mm;
  if (options.close_overshoot_mm > options.target_overshoot_mm) {
    throw InputError("spheres: --close-overshoot " + FormatDouble(options.close_overshoot_mm) +
                     " is above --overshoot " + FormatDouble(options.target_overshoot_mm) +
                     ": the close target is the tighter one");
  }
  std::string error;
  if (!fit.IsValid(&error)) throw InputError("spheres: " + error);
  const bool zoned = options.close_overshoot_mm > 0;
  if (options.links.empty() && !options.geometry.spheres_path.empty() && !zoned)
    throw InputError(
        "spheres: --spheres (the model whose other links are kept) needs --link or --close-overshoot");
  const LoadedArm arm = LoadArmGeometry(options.geometry, true, log);
  const RobotGeometry& geometry = arm.geometry;
  std::vector<TriangleMesh> surfaces;
  for (const LinkGeometry& link : geometry.links) surfaces.push_back(LinkSurface(link));
  // The model whose other links --link keeps and whose spheres stand for the other links of a close
  // fit: read once.
  std::optional<SphereSet> before;
  if (zoned || !options.links.empty()) before = LoadSpheres(options.geometry, geometry, log);
  std::optional<std::vector<std::vector<Eigen::Vector3d>>> close;
  if (zoned) {
    CloseZoneOptions zone;
    zone.samples = options.close_samples;
    zone.distance = 1e-3 * options.close_distance_mm;
    zone.share = options.close_share;
    close = CloseSurfacePoints(geometry, surfaces, *before, arm.pairs, zone);
    log << "surface points within " << options.close_distance_mm << " mm of another link's spheres in "
        << 100 * zone.share << " % of " << zone.samples << " configurations (seed " << zone.seed << "):";
    for (size_t i = 0; i < close->size(); ++i)
      if (!(*close)[i].empty()) log << " " << geometry.links[i].name << " " << (*close)[i].size();
    log << "\n";
  }
  SphereSet set;
  if (options.links.empty()) {
    log << "fitting spheres to " << geometry.CountLinksWithShapes() << " links of " << geometry.source
        << "\n";
    set = FitSphereSet(geometry, surfaces, fit, close ? &*close : nullptr);
  } else {
    set = RefitLinks(std::move(*before), geometry, surfaces, fit, options, close ? &*close : nullptr, log);
  }
  out << "| link | vertices | spheres | largest overshoot (mm) | near other links (mm) | worst vertex "
         "outside (mm) "
         "|\n|---|---|---|---|---|---|\n";
  for (const LinkSpheres& link : set.links) {
    const double excess =
        WorstVertexExcess(surfaces[static_cast<size_t>(geometry.FindLink(link.link))], link.spheres);
    out << "| " << link.link << " | " << link.vertices << " | " << link.spheres.size() << " | " << std::fixed
        << std::setprecision(1) << link.overshoot_mm << " | "
        << (link.close_overshoot_mm >= 0 ? FormatDouble(std::round(link.close_overshoot_mm * 10) / 10) : "-")
        << " | " << (excess <= 0 ? "none" : std::to_string(excess * 1e3)) << " |\n"
        << std::defaultfloat;
  }
  SaveSphereSet(set, options.output_path);
  log << "spheres -> " << options.output_path << "\n";
}

void RunCollisionMatrix(const MatrixCommandOptions& options, std::ostream& out, std::ostream& log) {
  const RobotGeometry geometry = LoadRobotGeometry(options.geometry.arm, options.geometry.search, true);
  log << "sampling " << options.samples << " configurations (seed " << options.seed << ") of "
      << geometry.source << "\n";
  CollisionMatrixOptions matrix_options;
  matrix_options.samples = options.samples;
  matrix_options.seed = options.seed;
  const CollisionMatrix matrix = ComputeCollisionMatrix(geometry, matrix_options);
  int counts[4] = {0, 0, 0, 0};
  for (const auto& pair : matrix.disabled) ++counts[static_cast<int>(pair.reason)];
  out << "link pairs: " << matrix.enabled.size() << " checked; disabled: " << counts[0] << " adjacent, "
      << counts[1] << " always in collision, " << counts[2] << " never in collision in " << matrix.samples
      << " samples\n";
  SaveCollisionMatrix(matrix, options.output_path);
  log << "matrix -> " << options.output_path << "\n";
}

void RunCollisionBench(const CollisionBenchOptions& options, std::ostream& out, std::ostream& log) {
  const LoadedArm arm = LoadArmGeometry(options.geometry, true, log);
  const ExactChecker exact(arm.geometry, arm.pairs);
  const SphereSet spheres_set = LoadSpheres(options.geometry, arm.geometry, log);
  const SphereChecker spheres(arm.geometry, spheres_set, arm.pairs);
  SphereChecker::Workspace workspace;
  std::mt19937_64 rng(options.seed);
  Eigen::VectorXd q(arm.geometry.chain.num_joints());
  // One sphere checker per pair, to say which pairs the false alarms come from.
  std::vector<SphereChecker> by_pair;
  for (const auto& pair : arm.pairs) by_pair.emplace_back(arm.geometry, spheres_set, std::vector{pair});
  std::vector<int64_t> pair_alarms(arm.pairs.size(), 0);
  int64_t fcl_hits = 0, sphere_hits = 0, misses = 0, false_alarms = 0;
  for (int64_t i = 0; i < options.count; ++i) {
    UniformConfiguration(arm.geometry.chain, &rng, q);
    const bool e = exact.InCollision(q), s = spheres.InCollision(q, &workspace);
    fcl_hits += e;
    sphere_hits += s;
    misses += e && !s;
    false_alarms += s && !e;
    for (size_t p = 0; p < by_pair.size() && s && !e; ++p)
      pair_alarms[p] += by_pair[p].InCollision(q, &workspace);
    if ((i + 1) % std::max<int64_t>(1, options.count / 10) == 0) log << "  " << i + 1 << " configurations\n";
  }
  // Timing, one thread, this thread's CPU time: each check in a loop of its own over batches of
  // configurations (warm caches, as a solver calls it); the median over batches of the mean per
  // configuration.
  std::vector<Eigen::VectorXd> timing(static_cast<size_t>(options.timing_count), q);
  std::mt19937_64 timing_rng(options.seed + 1);
  for (Eigen::VectorXd& t : timing) UniformConfiguration(arm.geometry.chain, &timing_rng, t);
  volatile double sink = 0;  // keeps the timed calls from being optimised away
  // FCL's mesh distances take milliseconds: they are timed on the first 200 configurations only.
  const auto median_micros = [&timing](int64_t batch, auto&& check, size_t most = SIZE_MAX) {
    std::vector<double> per_configuration;
    const size_t count = std::min(timing.size(), most);
    for (size_t start = 0; start < count; start += static_cast<size_t>(batch)) {
      const size_t end = std::min(count, start + static_cast<size_t>(batch));
      const double begin = ThreadCpuMicros();
      for (size_t i = start; i < end; ++i) check(timing[i]);
      per_configuration.push_back((ThreadCpuMicros() - begin) / static_cast<double>(end - start));
    }
    return Median(per_configuration);
  };
  const double t_sphere =
      median_micros(100, [&](const Eigen::VectorXd& x) { sink = spheres.InCollision(x, &workspace); });
  const double t_sphere_distance =
      median_micros(100, [&](const Eigen::VectorXd& x) { sink = spheres.Check(x, &workspace).min_distance; });
  const double t_fcl = median_micros(10, [&](const Eigen::VectorXd& x) { sink = exact.InCollision(x); });
  const double t_fcl_distance = median_micros(
      1, [&](const Eigen::VectorXd& x) { sink = exact.Check(x).min_distance; }, 200);
  // What a solver asks at a clearance (README's example: 1 cm): bounds first, distances only near.
  const double t_fcl_clear = median_micros(
      1, [&](const Eigen::VectorXd& x) { sink = exact.Clear(x, 0.01); }, 200);
  const double n = static_cast<double>(options.count);
  out << std::fixed << std::setprecision(2);
  out << "| arm | configurations | in self-collision (FCL) | in collision (spheres) | misses | false alarms "
         "| "
         "spheres per arm | sphere check median (us) | sphere distance median (us) | FCL check median (us) | "
         "FCL distance median (us) | FCL clear by 1 cm median (us) "
         "|\n|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  out << "| " << arm.geometry.chain.name() << " | " << options.count << " | " << 100 * fcl_hits / n << " % | "
      << 100 * sphere_hits / n << " % | " << misses << " | " << 100 * false_alarms / n << " % | "
      << spheres.num_spheres() << " | " << t_sphere << " | " << t_sphere_distance << " | " << t_fcl << " | "
      << t_fcl_distance << " | " << t_fcl_clear << " |\n";
  std::vector<size_t> order(arm.pairs.size());
  for (size_t p = 0; p < order.size(); ++p) order[p] = p;
  std::sort(order.begin(), order.end(), [&](size_t x, size_t y) { return pair_alarms[x] > pair_alarms[y]; });
  log << std::fixed << std::setprecision(2) << "false alarms by pair (share of configurations):";
  for (size_t k = 0; k < std::min<size_t>(5, order.size()) && pair_alarms[order[k]] > 0; ++k) {
    const auto [a, b] = arm.pairs[order[k]];
    log << " " << LinkName(spheres, a) << "/" << LinkName(spheres, b) << " "
        << 100 * pair_alarms[order[k]] / n << " %;";
  }
  log << "\n(" << arm.pairs.size() << " link pairs checked; seed " << options.seed << "; "
      << options.timing_count << " configurations timed)\n";
}

CollisionWorld MakeCollisionWorld(const CollisionSetupOptions& options, std::ostream& log) {
  LoadedArm arm = LoadArmGeometry(options.geometry, true, log);
  const SphereSet spheres = LoadSpheres(options.geometry, arm.geometry, log);
  Scene scene;
  if (options.mode == CollisionMode::kAll && options.scene) {
    scene = *options.scene;
  } else if (options.mode == CollisionMode::kAll && !options.scene_path.empty()) {
    scene = LoadScene(options.scene_path);
    log << "scene: " << options.scene_path << " (" << scene.obstacles.size() << " obstacles)\n";
  }
  CollisionWorld world;
  const bool self = options.mode != CollisionMode::kOff;
  std::vector<std::pair<int, int>> pairs = self ? arm.pairs : std::vector<std::pair<int, int>>{};
  world.exact = std::make_unique<ExactChecker>(arm.geometry, pairs, MeshLimits{},
                                               options.mode == CollisionMode::kAll ? &scene : nullptr);
  world.spheres =
      std::make_unique<SphereWorld>(arm.geometry, spheres, std::move(pairs), std::move(scene), options.mode);
  return world;
}

}  // namespace deepik::cli
