#include "deepik/geometry/collision_model.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>

#include "deepik/data/csv.hpp"
#include "deepik/errors.hpp"
#include "deepik/kinematics/fk.hpp"

namespace deepik {
namespace {

using nlohmann::json;

constexpr int64_t kMaxJsonBytes = 256LL << 20;  // no geometry file is near this

json ReadJsonFile(const std::string& path, const char* what) {
  std::ifstream file(path, std::ios::binary | std::ios::ate);
  if (!file) throw InputError(path + ": cannot open the " + what + " file");
  const std::streamoff size = file.tellg();
  if (size < 0 || size > kMaxJsonBytes) {
    throw InputError(path + ": the " + what + " file is larger than " + std::to_string(kMaxJsonBytes >> 20) +
                     " MB or unreadable");
  }
  file.seekg(0);
  std::ostringstream text;
  text << file.rdbuf();
  try {
    return json::parse(text.str());
  } catch (const json::exception& e) {
    throw InputError(path + ": not a valid JSON " + std::string(what) + " file (" + e.what() + ")");
  }
}

void CheckLink(const RobotGeometry& geometry, const std::string& name, const std::string& where) {
  if (geometry.FindLink(name) >= 0) return;
  std::string known;
  for (const LinkGeometry& link : geometry.links) known += (known.empty() ? "" : ", ") + link.name;
  throw InputError(where + ": unknown link '" + name + "'; the arm's links are: " + known);
}

std::string StringField(const json& object, const char* key, const std::string& where) {
  if (!object.is_object() || !object.contains(key) || !object[key].is_string())
    throw InputError(where + ": expected a string field \"" + key + "\"");
  return object[key].get<std::string>();
}

void WriteJson(const json& document, const std::string& path) {
  AtomicFileWriter writer(path);
  writer.stream() << document.dump(1) << "\n";
  writer.Commit();
}

}  // namespace

const char* ToString(CollisionMatrix::Reason reason) {
  switch (reason) {
    case CollisionMatrix::Reason::kAdjacent:
      return "adjacent";
    case CollisionMatrix::Reason::kAlways:
      return "always";
    case CollisionMatrix::Reason::kNever:
      return "never";
    case CollisionMatrix::Reason::kUser:
      return "user";
  }
  return "?";
}

CollisionMatrix LoadCollisionMatrix(const std::string& path, const RobotGeometry& geometry) {
  const json document = ReadJsonFile(path, "collision matrix");
  CollisionMatrix matrix;
  if (!document.is_object() || !document.contains("disabled") || !document["disabled"].is_array())
    throw InputError(path + ": expected an object with a \"disabled\" array of link pairs");
  matrix.arm = document.value("arm", "");
  if (document.contains("samples") && document["samples"].is_number_integer())
    matrix.samples = document["samples"];
  if (document.contains("seed") && document["seed"].is_number_unsigned()) matrix.seed = document["seed"];
  const json& disabled = document["disabled"];
  for (size_t i = 0; i < disabled.size(); ++i) {
    const std::string where = path + ": disabled[" + std::to_string(i) + "]";
    CollisionMatrix::Pair pair{StringField(disabled[i], "a", where), StringField(disabled[i], "b", where)};
    CheckLink(geometry, pair.a, where);
    CheckLink(geometry, pair.b, where);
    const std::string reason = disabled[i].value("reason", "user");
    bool known = false;
    for (auto r : {CollisionMatrix::Reason::kAdjacent, CollisionMatrix::Reason::kAlways,
                   CollisionMatrix::Reason::kNever, CollisionMatrix::Reason::kUser}) {
      if (reason == ToString(r)) pair.reason = r, known = true;
    }
    if (!known)
      throw InputError(where + ": expected reason adjacent, always, never or user, got '" + reason + "'");
    matrix.disabled.push_back(pair);
  }
  return matrix;
}

void SaveCollisionMatrix(const CollisionMatrix& matrix, const std::string& path) {
  json document = {
      {"format", "deepik-collision-matrix"},
      {"version", 1},
      {"arm", matrix.arm},
      {"samples", matrix.samples},
      {"seed", matrix.seed},
      {"note",
       "Link pairs never checked for self-collision. adjacent: joined by a joint; always: in "
       "collision in every sample; never: in no sample (a statistical claim: never in `samples` "
       "uniform configurations); user: added by hand. Edit freely; `enabled` is information only."}};
  json disabled = json::array(), enabled = json::array();
  for (const auto& pair : matrix.disabled)
    disabled.push_back({{"a", pair.a}, {"b", pair.b}, {"reason", ToString(pair.reason)}});
  for (const auto& [pair, share] : matrix.enabled)
    enabled.push_back({{"a", pair.first}, {"b", pair.second}, {"colliding_share", share}});
  document["disabled"] = disabled;
  document["enabled"] = enabled;
  WriteJson(document, path);
}

std::vector<std::pair<int, int>> CheckedPairs(const RobotGeometry& geometry, const CollisionMatrix* matrix) {
  std::set<std::pair<int, int>> skip;
  for (const auto& pair : geometry.AdjacentPairs()) skip.insert(pair);
  if (matrix) {
    for (const auto& pair : matrix->disabled) {
      const int a = geometry.FindLink(pair.a), b = geometry.FindLink(pair.b);
      skip.insert({std::min(a, b), std::max(a, b)});
    }
  }
  std::vector<std::pair<int, int>> pairs;
  const int n = static_cast<int>(geometry.links.size());
  for (int a = 0; a < n; ++a)
    for (int b = a + 1; b < n; ++b)
      if (!geometry.links[static_cast<size_t>(a)].shapes.empty() &&
          !geometry.links[static_cast<size_t>(b)].shapes.empty() && skip.count({a, b}) == 0)
        pairs.emplace_back(a, b);
  return pairs;
}

SphereSet LoadSphereSet(const std::string& path, const RobotGeometry& geometry) {
  std::ifstream file(path, std::ios::binary | std::ios::ate);
  if (!file) throw InputError(path + ": cannot open the spheres file");
  const std::streamoff size = file.tellg();
  if (size < 0 || size > kMaxJsonBytes)
    throw InputError(path + ": the spheres file is too large or unreadable");
  file.seekg(0);
  std::ostringstream text;
  text << file.rdbuf();
  return ParseSphereSet(text.str(), path, geometry);
}

SphereSet ParseSphereSet(const std::string& text, const std::string& source, const RobotGeometry& geometry) {
  json document;
  try {
    document = json::parse(text);
  } catch (const json::exception& e) {
    throw InputError(source + ": not a valid JSON spheres file (" + e.what() + ")");
  }
  if (!document.is_object() || !document.contains("links") || !document["links"].is_array())
    throw InputError(source + ": expected an object with a \"links\" array");
  SphereSet set;
  set.arm = document.value("arm", "");
  set.method = document.value("method", "");
  std::set<std::string> seen;
  int64_t total = 0;
  const json& links = document["links"];
  for (size_t i = 0; i < links.size(); ++i) {
    const std::string where = source + ": links[" + std::to_string(i) + "]";
    LinkSpheres link;
    link.link = StringField(links[i], "link", where);
    CheckLink(geometry, link.link, where);
    if (!seen.insert(link.link).second) throw InputError(where + ": link '" + link.link + "' listed twice");
    if (!links[i].contains("spheres") || !links[i]["spheres"].is_array())
      throw InputError(where + ": expected a \"spheres\" array of [x, y, z, radius]");
    for (size_t s = 0; s < links[i]["spheres"].size(); ++s) {
      const json& sphere = links[i]["spheres"][s];
      const std::string at = where + ".spheres[" + std::to_string(s) + "]";
      if (!sphere.is_array() || sphere.size() != 4 ||
          !std::all_of(sphere.begin(), sphere.end(), [](const json& v) { return v.is_number(); }))
        throw InputError(at + ": expected [x, y, z, radius] (4 numbers, m)");
      const Eigen::Vector4d v(sphere[0].get<double>(), sphere[1].get<double>(), sphere[2].get<double>(),
                              sphere[3].get<double>());
      if (!v.allFinite()) throw InputError(at + ": expected finite numbers");
      if (!(v[3] > 0)) throw InputError(at + ": expected a radius > 0, got " + FormatDouble(v[3]));
      // No link is a kilometre long; beyond that, sums of centres and radii would lose all meaning.
      if (v.cwiseAbs().maxCoeff() > kMaxSphereValue) {
        throw InputError(at + ": expected values within +-" + FormatDouble(kMaxSphereValue) + " m, got " +
                         FormatDouble(v.cwiseAbs().maxCoeff()));
      }
      if (++total > kMaxSpheres)
        throw InputError(source + ": more than " + std::to_string(kMaxSpheres) + " spheres");
      link.spheres.push_back(v);
    }
    if (links[i].contains("vertices") && links[i]["vertices"].is_number_integer())
      link.vertices = links[i]["vertices"];
    if (links[i].contains("overshoot_mm") && links[i]["overshoot_mm"].is_number())
      link.overshoot_mm = links[i]["overshoot_mm"];
    if (links[i].contains("close_overshoot_mm") && links[i]["close_overshoot_mm"].is_number())
      link.close_overshoot_mm = links[i]["close_overshoot_mm"];
    set.links.push_back(std::move(link));
  }
  return set;
}

void SaveSphereSet(const SphereSet& set, const std::string& path) {
  json links = json::array();
  for (const LinkSpheres& link : set.links) {
    json spheres = json::array();
    for (const Eigen::Vector4d& s : link.spheres) {
      // Millimetre-rounded text would break coverage: keep 1e-6 m (fits grow radii by that), radii
      // rounded up. A radius read from such a file (a micrometre multiple, give or take the last
      // bit of a double) is written back unchanged, so that a load and save round trip is exact.
      auto round6 = [](double v) { return std::round(v * 1e6) / 1e6; };
      spheres.push_back({round6(s[0]), round6(s[1]), round6(s[2]), std::ceil(s[3] * 1e6 - 1e-6) / 1e6});
    }
    json entry = {{"link", link.link},
                  {"vertices", link.vertices},
                  {"overshoot_mm", std::round(link.overshoot_mm * 100) / 100},
                  {"spheres", spheres}};
    if (link.close_overshoot_mm >= 0)
      entry["close_overshoot_mm"] = std::round(link.close_overshoot_mm * 100) / 100;
    links.push_back(std::move(entry));
  }
  WriteJson({{"format", "deepik-spheres"},
             {"version", 1},
             {"arm", set.arm},
             {"method", set.method},
             {"units", "m; each sphere is [x, y, z, radius] in its link's URDF frame"},
             {"links", links}},
            path);
}

namespace {

constexpr int kGroupSize = 8;  // spheres per group: the leaves of the checker's trees
static_assert(kGroupSize <= 32, "a group's spheres are marked in the bits of an unsigned");

// Reorders columns [begin, end) of `spheres` so that the first half has the smaller centre
// coordinates along the longest extent of the centres; returns where the second half begins.
int SplitAtMedian(Eigen::Matrix4Xd& spheres, int begin, int end) {
  const auto centres = spheres.block(0, begin, 3, end - begin);
  Eigen::Index axis = 0;
  (centres.rowwise().maxCoeff() - centres.rowwise().minCoeff()).maxCoeff(&axis);
  std::vector<Eigen::Vector4d> columns;
  for (int s = begin; s < end; ++s) columns.push_back(spheres.col(s));
  const int middle = begin + (end - begin) / 2;
  std::nth_element(columns.begin(), columns.begin() + (middle - begin), columns.end(),
                   [axis](const Eigen::Vector4d& x, const Eigen::Vector4d& y) { return x[axis] < y[axis]; });
  for (int s = begin; s < end; ++s) spheres.col(s) = columns[static_cast<size_t>(s - begin)];
  return middle;
}

// A sphere around every sphere of columns [begin, end) of `spheres`: centred on the centroid of
// their centres or on the middle of their bounding box, whichever needs the smaller radius.
Eigen::Vector4d Enclose(const Eigen::Matrix4Xd& spheres, int begin, int end) {
  const auto centres = spheres.block(0, begin, 3, end - begin);
  const auto radii = spheres.block(3, begin, 1, end - begin);
  const Eigen::Vector3d low = (centres - radii.replicate<3, 1>()).rowwise().minCoeff();
  const Eigen::Vector3d high = (centres + radii.replicate<3, 1>()).rowwise().maxCoeff();
  Eigen::Vector4d best(0, 0, 0, std::numeric_limits<double>::infinity());
  for (const Eigen::Vector3d& centre :
       {Eigen::Vector3d(centres.rowwise().mean()), Eigen::Vector3d(0.5 * (low + high))}) {
    double reach = 0;
    for (int s = begin; s < end; ++s)
      reach = std::max(reach, (spheres.col(s).head<3>() - centre).norm() + spheres(3, s));
    if (reach < best[3]) best << centre, reach;
  }
  return best;
}

}  // namespace

SphereChecker::SphereChecker(const RobotGeometry& geometry, const SphereSet& spheres,
                             std::vector<std::pair<int, int>> pairs)
    : chain_(geometry.chain), pairs_(std::move(pairs)) {
  for (const LinkGeometry& link : geometry.links) names_.push_back(link.name);
  const size_t n = geometry.links.size();
  std::vector<const LinkSpheres*> by_link(n, nullptr);
  int total = 0;
  for (const LinkSpheres& link : spheres.links) {
    const int index = geometry.FindLink(link.link);
    if (index < 0) throw InputError("spheres: unknown link '" + link.link + "'");
    by_link[static_cast<size_t>(index)] = &link;
    total += static_cast<int>(link.spheres.size());
  }
  local_.resize(4, total);
  begin_.assign(n, 0);
  end_.assign(n, 0);
  // A tree over G groups has 2 G - 1 nodes, and there are at most as many groups as spheres: one
  // allocation up front, cut to size after (growing column by column would copy quadratically).
  nodes_local_.resize(4, 2 * static_cast<Eigen::Index>(total));
  int column = 0;
  for (size_t i = 0; i < n; ++i) {
    link_frame_.push_back(geometry.links[i].frame);
    begin_[i] = column;
    if (by_link[i]) {
      const LinkGeometry& link = geometry.links[i];
      for (const Eigen::Vector4d& s : by_link[i]->spheres) {
        local_.col(column).head<3>() = link.X_FL * s.head<3>();
        local_(3, column) = s[3];
        ++column;
      }
    }
    end_[i] = column;
    const int group_begin = static_cast<int>(first_.size());
    if (end_[i] > begin_[i]) Group(begin_[i], end_[i]);
    const int group_end = static_cast<int>(first_.size());
    link_root_.push_back(group_end > group_begin ? BuildTree(group_begin, group_end) : -1);
  }
  nodes_local_.conservativeResize(4, static_cast<Eigen::Index>(node_left_.size()));
  sphere_group_.resize(static_cast<size_t>(total));
  for (size_t g = 0; g < first_.size(); ++g)
    for (int i = first_[g]; i < last_[g]; ++i) sphere_group_[static_cast<size_t>(i)] = static_cast<int>(g);
  // Pairs with a link without spheres cannot collide in this model.
  pairs_.erase(std::remove_if(pairs_.begin(), pairs_.end(),
                              [this](const std::pair<int, int>& p) {
                                return link_root_[static_cast<size_t>(p.first)] < 0 ||
                                       link_root_[static_cast<size_t>(p.second)] < 0;
                              }),
               pairs_.end());
}

void SphereChecker::Group(int begin, int end) {
  if (end - begin <= kGroupSize) {
    first_.push_back(begin);
    last_.push_back(end);
    return;
  }
  const int middle = SplitAtMedian(local_, begin, end);
  Group(begin, middle);
  Group(middle, end);
}

int SphereChecker::BuildTree(int begin, int end) {
  const int node = static_cast<int>(node_left_.size());
  node_left_.push_back(-1);
  node_right_.push_back(-1);
  node_group_.push_back(end - begin == 1 ? begin : -1);
  nodes_local_.col(node) =
      Enclose(local_, first_[static_cast<size_t>(begin)], last_[static_cast<size_t>(end - 1)]);
  if (end - begin > 1) {
    const int middle = begin + (end - begin) / 2;
    const int left = BuildTree(begin, middle);
    const int right = BuildTree(middle, end);
    node_left_[static_cast<size_t>(node)] = left;
    node_right_[static_cast<size_t>(node)] = right;
  }
  return node;
}

void SphereChecker::Prepare(const Eigen::Ref<const Eigen::VectorXd>& q, Workspace* workspace) const {
  if (q.size() != chain_.num_joints()) {
    throw std::invalid_argument("collision check: expected " + std::to_string(chain_.num_joints()) +
                                " joint values, got " + std::to_string(q.size()));
  }
  JointFrames(chain_, q, &workspace->X_BF);
  if (workspace->world.cols() != local_.cols() || workspace->owner != this) {
    workspace->world = local_;  // the radii, once; the centres as groups are placed
    workspace->nodes = nodes_local_;
    workspace->owner = this;
  }
  workspace->placed.assign(static_cast<size_t>(nodes_local_.cols()) + first_.size(), 0);
}

void SphereChecker::PlaceNode(int node, int frame, Workspace* workspace) const {
  char& placed = workspace->placed[static_cast<size_t>(node)];
  if (placed) return;
  placed = 1;
  workspace->nodes.col(node).head<3>() =
      frame < 0 ? nodes_local_.col(node).head<3>().eval()
                : (workspace->X_BF[static_cast<size_t>(frame)] * nodes_local_.col(node).head<3>()).eval();
}

void SphereChecker::PlaceGroup(int group, int frame, Workspace* workspace) const {
  char& placed = workspace->placed[static_cast<size_t>(nodes_local_.cols() + group)];
  if (placed) return;
  placed = 1;
  const int first = first_[static_cast<size_t>(group)], count = last_[static_cast<size_t>(group)] - first;
  auto world = workspace->world.block(0, first, 3, count);
  const auto local = local_.block(0, first, 3, count);
  if (frame < 0) {
    world = local;
  } else {
    const Eigen::Isometry3d& X = workspace->X_BF[static_cast<size_t>(frame)];
    world.noalias() = X.linear() * local;
    world.colwise() += X.translation();
  }
}

namespace {

// Spheres as x, y, z, radius: whether their gap (distance less both radii) is below `threshold`.
inline bool Closer(const double* x, const double* y, double threshold) {
  const double dx = x[0] - y[0], dy = x[1] - y[1], dz = x[2] - y[2], reach = x[3] + y[3] + threshold;
  return reach > 0 && dx * dx + dy * dy + dz * dz < reach * reach;
}

// The squared distance of the centres of two spheres stored as x, y, z, radius.
inline double CentreDistanceSq(const double* x, const double* y) {
  const double dx = x[0] - y[0], dy = x[1] - y[1], dz = x[2] - y[2];
  return dx * dx + dy * dy + dz * dz;
}

inline Eigen::Map<const Eigen::Vector3d> WorldCentre(const double* world, int i) {
  return Eigen::Map<const Eigen::Vector3d>(world + 4 * i);
}

}  // namespace

template <typename Leaf>
bool SphereChecker::Traverse(Workspace* workspace, int a, int b, const double& threshold, Leaf&& leaf) const {
  const int frame_a = link_frame_[static_cast<size_t>(a)], frame_b = link_frame_[static_cast<size_t>(b)];
  const double* nodes = workspace->nodes.data();
  const double* world = workspace->world.data();
  const auto close = [&](int na, int nb) {
    PlaceNode(na, frame_a, workspace);
    PlaceNode(nb, frame_b, workspace);
    return Closer(nodes + 4 * na, nodes + 4 * nb, threshold);
  };
  // From node pairs found close, the larger node is split and its children close to the other
  // node follow. Depth first, each pop adds at most two pairs one level further down one tree;
  // the trees (halved ranges of at most kMaxSpheres spheres) are at most 20 levels deep, so the
  // stack never holds more than 2 x 20 + 1 pairs.
  struct NodePair {
    int a, b;
  };
  NodePair stack[64];  // not value-initialised: only the entries pushed are read
  int top = 0;
  const int root_a = link_root_[static_cast<size_t>(a)], root_b = link_root_[static_cast<size_t>(b)];
  if (close(root_a, root_b)) stack[top++] = {root_a, root_b};
  while (top > 0) {
    const auto [na, nb] = stack[--top];
    // `threshold` may have fallen since the pair was stacked.
    if (!Closer(nodes + 4 * na, nodes + 4 * nb, threshold)) continue;
    const int ga = node_group_[static_cast<size_t>(na)], gb = node_group_[static_cast<size_t>(nb)];
    if (ga >= 0 && gb >= 0) {
      PlaceGroup(ga, frame_a, workspace);
      PlaceGroup(gb, frame_b, workspace);
      // Only the spheres of one group close to the other group's bound can be close to its spheres.
      const int first_a = first_[static_cast<size_t>(ga)], first_b = first_[static_cast<size_t>(gb)];
      unsigned near_a = 0, near_b = 0;  // bit k: sphere first + k
      for (int i = first_a; i < last_[static_cast<size_t>(ga)]; ++i)
        if (Closer(world + 4 * i, nodes + 4 * nb, threshold)) near_a |= 1u << (i - first_a);
      if (near_a == 0) continue;
      for (int j = first_b; j < last_[static_cast<size_t>(gb)]; ++j)
        if (Closer(world + 4 * j, nodes + 4 * na, threshold)) near_b |= 1u << (j - first_b);
      for (unsigned bits_a = near_a; bits_a != 0; bits_a &= bits_a - 1) {
        const int i = first_a + __builtin_ctz(bits_a);
        for (unsigned bits_b = near_b; bits_b != 0; bits_b &= bits_b - 1)
          if (leaf(i, first_b + __builtin_ctz(bits_b))) return true;
      }
    } else {
      // Split the larger node; the nearer child goes on top, so that it is visited first and a
      // falling threshold prunes more of the farther one.
      const bool split_a = gb >= 0 || (ga < 0 && nodes_local_(3, na) >= nodes_local_(3, nb));
      const int split = split_a ? na : nb;
      NodePair first{na, nb}, second{na, nb};
      (split_a ? first.a : first.b) = node_left_[static_cast<size_t>(split)];
      (split_a ? second.a : second.b) = node_right_[static_cast<size_t>(split)];
      const bool first_close = close(first.a, first.b), second_close = close(second.a, second.b);
      if (first_close && second_close &&
          CentreDistanceSq(nodes + 4 * first.a, nodes + 4 * first.b) <
              CentreDistanceSq(nodes + 4 * second.a, nodes + 4 * second.b)) {
        std::swap(first, second);
      }
      if (first_close) stack[top++] = first;
      if (second_close) stack[top++] = second;
    }
  }
  return false;
}

CollisionReport SphereChecker::Check(const Eigen::Ref<const Eigen::VectorXd>& q, Workspace* workspace) const {
  Prepare(q, workspace);
  CollisionReport report;
  report.min_distance = std::numeric_limits<double>::infinity();
  const double* world = workspace->world.data();
  for (const auto& [a, b] : pairs_) {
    // The threshold is the smallest distance so far: farther node pairs are skipped.
    double best = report.min_distance;
    (void)Traverse(workspace, a, b, best, [&](int i, int j) {
      if (Closer(world + 4 * i, world + 4 * j, best))
        best = (WorldCentre(world, i) - WorldCentre(world, j)).norm() - world[4 * i + 3] - world[4 * j + 3];
      return false;
    });
    if (best < report.min_distance) {
      report.min_distance = best;
      report.link_a = a;
      report.link_b = b;
    }
  }
  report.in_collision = report.min_distance < 0;
  return report;
}

bool SphereChecker::InCollision(const Eigen::Ref<const Eigen::VectorXd>& q, Workspace* workspace) const {
  Prepare(q, workspace);
  const double* world = workspace->world.data();
  constexpr double kTouch = 0;
  for (const auto& [a, b] : pairs_) {
    const bool overlap = Traverse(workspace, a, b, kTouch,
                                  [&](int i, int j) { return Closer(world + 4 * i, world + 4 * j, kTouch); });
    if (overlap) return true;
  }
  return false;
}

void SphereChecker::ClosePairs(const Eigen::Ref<const Eigen::VectorXd>& q, double activation,
                               Workspace* workspace, std::vector<SpherePair>* out) const {
  Prepare(q, workspace);
  out->clear();
  const double* world = workspace->world.data();
  for (const auto& [a, b] : pairs_) {
    const int frame_a = link_frame_[static_cast<size_t>(a)], frame_b = link_frame_[static_cast<size_t>(b)];
    // A traversal visits the sphere pairs of one pair of groups one after the other: of those, the
    // closest is kept.
    int group_i = -1, group_j = -1;
    (void)Traverse(workspace, a, b, activation, [&](int i, int j) {
      if (!Closer(world + 4 * i, world + 4 * j, activation)) return false;
      const double d =
          (WorldCentre(world, i) - WorldCentre(world, j)).norm() - world[4 * i + 3] - world[4 * j + 3];
      const int gi = sphere_group_[static_cast<size_t>(i)], gj = sphere_group_[static_cast<size_t>(j)];
      if (gi == group_i && gj == group_j) {
        if (d < out->back().distance) out->back() = {d, i, j, frame_a, frame_b};
      } else {
        out->push_back({d, i, j, frame_a, frame_b});
        group_i = gi;
        group_j = gj;
      }
      return false;
    });
  }
}

CollisionReport SphereChecker::Check(const Eigen::Ref<const Eigen::VectorXd>& q) const {
  Workspace workspace;
  return Check(q, &workspace);
}

bool SphereChecker::InCollision(const Eigen::Ref<const Eigen::VectorXd>& q) const {
  Workspace workspace;
  return InCollision(q, &workspace);
}

namespace {

// Replaces columns [begin, end) of `spheres` by `groups` spheres (appended to `out`), halving the
// range along the longest extent of its centres; each group's sphere sits on the centroid m of its
// centres with radius shrink x the mean of |c_i - m| + r_i.
void CoarsenRange(Eigen::Matrix4Xd& spheres, int begin, int end, int groups, double shrink,
                  std::vector<Eigen::Vector4d>* out) {
  const auto centres = spheres.block(0, begin, 3, end - begin);
  if (groups <= 1 || end - begin <= 1) {
    const Eigen::Vector3d m = centres.rowwise().mean();
    double sum = 0;
    for (int s = begin; s < end; ++s) sum += (spheres.col(s).head<3>() - m).norm() + spheres(3, s);
    Eigen::Vector4d sphere;
    sphere << m, shrink * sum / static_cast<double>(end - begin);
    out->push_back(sphere);
    return;
  }
  const int middle = SplitAtMedian(spheres, begin, end);
  CoarsenRange(spheres, begin, middle, groups / 2, shrink, out);
  CoarsenRange(spheres, middle, end, groups - groups / 2, shrink, out);
}

}  // namespace

SphereSet CoarsenSphereSet(const SphereSet& spheres, int per_link, double shrink) {
  if (per_link < 1) {
    throw std::invalid_argument("CoarsenSphereSet: per_link: expected at least 1 sphere per link, got " +
                                std::to_string(per_link));
  }
  if (!(shrink > 0 && shrink <= 1)) {
    throw std::invalid_argument("CoarsenSphereSet: shrink: expected a number in (0, 1], got " +
                                std::to_string(shrink));
  }
  SphereSet coarse{spheres.arm,
                   spheres.method + "; coarsened to " + std::to_string(per_link) +
                       " spheres per link (shrink " + FormatDouble(shrink) + ")",
                   {}};
  for (const LinkSpheres& link : spheres.links) {
    LinkSpheres out{link.link, {}, link.vertices, -1.0};
    if (static_cast<int>(link.spheres.size()) <= per_link) {
      out.spheres = link.spheres;
      out.overshoot_mm = link.overshoot_mm;
    } else {
      Eigen::Matrix4Xd columns(4, static_cast<Eigen::Index>(link.spheres.size()));
      for (size_t s = 0; s < link.spheres.size(); ++s)
        columns.col(static_cast<Eigen::Index>(s)) = link.spheres[s];
      CoarsenRange(columns, 0, static_cast<int>(columns.cols()), per_link, shrink, &out.spheres);
    }
    coarse.links.push_back(std::move(out));
  }
  return coarse;
}

SelfCollisionSpheres PairwiseSpheres(const RobotGeometry& geometry, const SphereSet& spheres,
                                     const std::vector<std::pair<int, int>>& link_pairs) {
  std::vector<const LinkSpheres*> by_link(geometry.links.size(), nullptr);
  for (const LinkSpheres& link : spheres.links) {
    const int index = geometry.FindLink(link.link);
    if (index < 0) throw InputError("spheres: unknown link '" + link.link + "'");
    by_link[static_cast<size_t>(index)] = &link;
  }
  SelfCollisionSpheres out;
  std::vector<int> first(geometry.links.size(), -1);  // per link: its first sphere in `out`, once placed
  auto place = [&](int l) {
    const size_t index = static_cast<size_t>(l);
    if (first[index] >= 0) return;
    first[index] = static_cast<int>(out.spheres.size());
    const LinkGeometry& link = geometry.links[index];
    for (const Eigen::Vector4d& s : by_link[index]->spheres) {
      Eigen::Vector4d placed;
      placed << link.X_FL * s.head<3>(), s[3];
      out.spheres.push_back(placed);
      out.frame.push_back(link.frame);
    }
  };
  for (const auto& [a, b] : link_pairs) {
    const LinkSpheres* sa = by_link[static_cast<size_t>(a)];
    const LinkSpheres* sb = by_link[static_cast<size_t>(b)];
    if (sa == nullptr || sb == nullptr || sa->spheres.empty() || sb->spheres.empty()) continue;
    place(a);
    place(b);
    const int fa = first[static_cast<size_t>(a)], fb = first[static_cast<size_t>(b)];
    for (int i = 0; i < static_cast<int>(sa->spheres.size()); ++i)
      for (int j = 0; j < static_cast<int>(sb->spheres.size()); ++j) out.pairs.emplace_back(fa + i, fb + j);
  }
  return out;
}

}  // namespace deepik
