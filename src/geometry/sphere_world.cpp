#include "deepik/geometry/sphere_world.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "deepik/errors.hpp"
#include "deepik/kinematics/fk.hpp"

namespace deepik {

const char* ToString(CollisionMode mode) {
  switch (mode) {
    case CollisionMode::kOff:
      return "off";
    case CollisionMode::kSelf:
      return "self";
    case CollisionMode::kAll:
      return "all";
  }
  return "?";
}

CollisionMode ParseCollisionMode(const std::string& text) {
  if (text == "off") return CollisionMode::kOff;
  if (text == "self") return CollisionMode::kSelf;
  if (text == "all") return CollisionMode::kAll;
  throw InputError("collisions: expected off, self or all, got '" + text.substr(0, 40) + "'");
}

SphereWorld::SphereWorld(const RobotGeometry& geometry, const SphereSet& spheres,
                         std::vector<std::pair<int, int>> pairs, Scene scene, CollisionMode mode)
    : chain_(geometry.chain),
      mode_(mode),
      scene_(std::move(scene)),
      pairs_(std::move(pairs)),
      self_(geometry, spheres, pairs_) {
  if (mode == CollisionMode::kOff) throw std::invalid_argument("SphereWorld: expected mode self or all");
  if (mode != CollisionMode::kAll) scene_.obstacles.clear();
  const size_t n = geometry.links.size();
  std::vector<const LinkSpheres*> by_link(n, nullptr);
  size_t total = 0;
  for (const LinkSpheres& link : spheres.links) {
    const int index = geometry.FindLink(link.link);
    if (index < 0) throw InputError("spheres: unknown link '" + link.link + "'");
    by_link[static_cast<size_t>(index)] = &link;
    total += link.spheres.size();
  }
  local_.resize(3, static_cast<Eigen::Index>(total));
  bound_local_.resize(3, static_cast<Eigen::Index>(n));
  Eigen::Index column = 0;
  for (size_t i = 0; i < n; ++i) {
    const LinkGeometry& link = geometry.links[i];
    link_frame_.push_back(link.frame);
    begin_.push_back(static_cast<int>(column));
    if (by_link[i]) {
      for (const Eigen::Vector4d& s : by_link[i]->spheres) {
        local_.col(column++) = link.X_FL * s.head<3>();
        radius_.push_back(s[3]);
        sphere_frame_.push_back(link.frame);
      }
    }
    end_.push_back(static_cast<int>(column));
    // The bounding sphere: the centres' mean, and a radius reaching every sphere.
    Eigen::Vector3d centre = Eigen::Vector3d::Zero();
    double reach = 0;
    if (end_[i] > begin_[i]) {
      centre = local_.middleCols(begin_[i], end_[i] - begin_[i]).rowwise().mean();
      for (int s = begin_[i]; s < end_[i]; ++s)
        reach = std::max(reach, (local_.col(s) - centre).norm() + radius_[static_cast<size_t>(s)]);
    }
    bound_local_.col(static_cast<Eigen::Index>(i)) = centre;
    bound_radius_.push_back(reach);
  }
  if (mode == CollisionMode::kOff) pairs_.clear();
  const auto empty = [this](int link) {
    return begin_[static_cast<size_t>(link)] == end_[static_cast<size_t>(link)];
  };
  pairs_.erase(
      std::remove_if(pairs_.begin(), pairs_.end(),
                     [&](const std::pair<int, int>& p) { return empty(p.first) || empty(p.second); }),
      pairs_.end());
}

void SphereWorld::Place(const Eigen::Ref<const Eigen::VectorXd>& q, Workspace* w, bool placed) const {
  if (q.size() != chain_.num_joints()) {
    throw std::invalid_argument("collision distances: expected " + std::to_string(chain_.num_joints()) +
                                " joint values, got " + std::to_string(q.size()));
  }
  if (!placed) JointFrames(chain_, q, &w->self.X_BF);
  const std::vector<Eigen::Isometry3d>& X_BF = w->self.X_BF;
  w->centres.resize(3, local_.cols());
  w->placed.assign(begin_.size(), 0);
  w->bounds.resize(3, bound_local_.cols());
  for (Eigen::Index l = 0; l < bound_local_.cols(); ++l) {
    const int frame = link_frame_[static_cast<size_t>(l)];
    w->bounds.col(l) = frame < 0 ? bound_local_.col(l).eval()
                                 : (X_BF[static_cast<size_t>(frame)] * bound_local_.col(l)).eval();
  }
  const int n = chain_.num_joints();
  w->axes.resize(3, n);
  w->origins.resize(3, n);
  for (int k = 0; k < n; ++k) {
    // Joint k's moving frame turns (or slides) about its axis through its origin.
    w->axes.col(k) = X_BF[static_cast<size_t>(k)].linear() * chain_.joint(k).axis_J;
    w->origins.col(k) = X_BF[static_cast<size_t>(k)].translation();
  }
}

void SphereWorld::PlaceLink(size_t l, Workspace* w) const {
  if (w->placed[l]) return;
  w->placed[l] = 1;
  const int frame = link_frame_[l];
  const auto local = local_.middleCols(begin_[l], end_[l] - begin_[l]);
  auto centres = w->centres.middleCols(begin_[l], end_[l] - begin_[l]);
  if (frame < 0) {
    centres = local;
  } else {
    const Eigen::Isometry3d& X = w->self.X_BF[static_cast<size_t>(frame)];
    centres.noalias() = X.linear() * local;
    centres.colwise() += X.translation();
  }
}

template <typename Visit>
void SphereWorld::ForEachCloseObstacle(Workspace* w, const double& activation, Visit&& visit) const {
  for (size_t o = 0; o < scene_.obstacles.size(); ++o) {
    const Obstacle& obstacle = scene_.obstacles[o];
    for (size_t l = 0; l < begin_.size(); ++l) {
      if (begin_[l] == end_[l] || link_frame_[l] < 0) continue;  // links fixed to B cannot move clear
      // The field is 1-Lipschitz: no sphere inside the bound is closer than this.
      const double bound =
          SignedDistance(obstacle, w->bounds.col(static_cast<Eigen::Index>(l)), nullptr) - bound_radius_[l];
      if (bound >= activation) continue;
      PlaceLink(l, w);
      for (int i = begin_[l]; i < end_[l]; ++i) {
        const double d =
            SignedDistance(obstacle, w->centres.col(i), nullptr) - radius_[static_cast<size_t>(i)];
        if (d < activation) visit(d, i, static_cast<int>(o));
      }
    }
  }
}

double SphereWorld::MinDistance(const Eigen::Ref<const Eigen::VectorXd>& q, Workspace* workspace) const {
  double best = std::numeric_limits<double>::infinity();
  const bool self = !self_.pairs().empty();
  if (self) best = self_.Check(q, &workspace->self).min_distance;
  if (scene_.obstacles.empty()) {
    if (!self) Place(q, workspace, false);  // checks q
    return best;
  }
  Place(q, workspace, self);
  // The threshold moves down with `best`: the bounds then skip every link farther than it.
  ForEachCloseObstacle(workspace, best, [&best](double d, int, int) { best = std::min(best, d); });
  return best;
}

void SphereWorld::AddPointGradient(const Workspace& w, int frame, const Eigen::Vector3d& p,
                                   const Eigen::Vector3d& direction, double sign,
                                   Eigen::Ref<Eigen::RowVectorXd, 0, Eigen::InnerStride<>> row) const {
  for (int k = 0; k <= frame; ++k) {
    const Eigen::Vector3d a = w.axes.col(k);
    const Eigen::Vector3d v =
        chain_.joint(k).type == JointType::kRevolute ? a.cross(p - w.origins.col(k)).eval() : a;
    row[k] += sign * direction.dot(v);
  }
}

int SphereWorld::Proximities(const Eigen::Ref<const Eigen::VectorXd>& q, double activation,
                             Workspace* workspace, Eigen::VectorXd* distances,
                             Eigen::MatrixXd* gradients) const {
  const bool self = !self_.pairs().empty();
  if (self) {
    self_.ClosePairs(q, activation, &workspace->self, &workspace->self_close);
  } else {
    workspace->self_close.clear();
  }
  Place(q, workspace, self);
  workspace->close.clear();
  ForEachCloseObstacle(workspace, activation, [workspace](double d, int i, int j) {
    workspace->close.push_back({d, i, j});
  });
  const Workspace& w = *workspace;
  const int self_count = static_cast<int>(w.self_close.size());
  const int count = self_count + static_cast<int>(w.close.size());
  distances->resize(count);
  gradients->setZero(count, chain_.num_joints());
  for (int row = 0; row < self_count; ++row) {
    const SphereChecker::SpherePair& pair = w.self_close[static_cast<size_t>(row)];
    (*distances)[row] = pair.distance;
    const Eigen::Vector3d ci = SphereChecker::PlacedCentre(w.self, pair.i);
    const Eigen::Vector3d cj = SphereChecker::PlacedCentre(w.self, pair.j);
    const Eigen::Vector3d between = ci - cj;
    const double norm = between.norm();
    const Eigen::Vector3d n = norm > 0 ? Eigen::Vector3d(between / norm) : Eigen::Vector3d::UnitZ();
    AddPointGradient(w, pair.frame_i, ci, n, 1.0, gradients->row(row));
    AddPointGradient(w, pair.frame_j, cj, n, -1.0, gradients->row(row));
  }
  for (int k = 0; k < static_cast<int>(w.close.size()); ++k) {
    const auto [d, i, j] = w.close[static_cast<size_t>(k)];
    const int row = self_count + k;
    (*distances)[row] = d;
    const Eigen::Vector3d ci = w.centres.col(i);
    Eigen::Vector3d g;
    (void)SignedDistance(scene_.obstacles[static_cast<size_t>(j)], ci, &g);
    AddPointGradient(w, sphere_frame_[static_cast<size_t>(i)], ci, g, 1.0, gradients->row(row));
  }
  return count;
}

}  // namespace deepik
