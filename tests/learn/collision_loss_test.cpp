// The self-collision penalty of training (TrainOptions::collision_weight): the coarse sphere model
// against the shipped one, the penalty against an independent double-precision sum and against the
// sphere checker's verdict, its gradient against finite differences, the refusals of bad options,
// and a short seeded training that records the weight in its model file.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "deepik/data/random.hpp"
#include "deepik/errors.hpp"
#include "deepik/geometry/collision_model.hpp"
#include "deepik/geometry/robot_geometry.hpp"
#include "deepik/kinematics/fk.hpp"
#include "deepik/learn/losses.hpp"
#include "deepik/learn/model.hpp"
#include "deepik/learn/trainer.hpp"
#include "test_util.hpp"

namespace deepik {
namespace {

using testing::TempDir;

// panda as `deepik train --collision-weight` sees it: the shipped sphere model coarsened to 4
// spheres per link with shrink 0.8 (apps/commands.hpp), and the link pairs its shipped matrix leaves
// checked.
struct Panda {
  Panda()
      : geometry(LoadRobotGeometry(ArmSpec{"panda", "", ""}, {}, false)),
        matrix(LoadCollisionMatrix(BuiltinCollisionFile("panda", "matrix"), geometry)),
        fine(LoadSphereSet(BuiltinCollisionFile("panda", "spheres"), geometry)),
        coarse(CoarsenSphereSet(fine, 4, 0.8)),
        link_pairs(CheckedPairs(geometry, &matrix)),
        spheres(PairwiseSpheres(geometry, coarse, link_pairs)),
        fk(geometry.chain) {}

  RobotGeometry geometry;
  CollisionMatrix matrix;
  SphereSet fine, coarse;
  std::vector<std::pair<int, int>> link_pairs;
  SelfCollisionSpheres spheres;
  TorchFk fk;
};

const Panda& SharedPanda() {
  static const Panda panda;
  return panda;
}

// Seeded uniform configurations, [count, n] float64.
torch::Tensor Configurations(const Chain& chain, int count, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Eigen::VectorXd q(chain.num_joints());
  torch::Tensor out = torch::empty({count, chain.num_joints()}, torch::kFloat64);
  for (int b = 0; b < count; ++b) {
    UniformConfiguration(chain, &rng, q);
    for (int i = 0; i < chain.num_joints(); ++i) out[b][i] = q[i];
  }
  return out;
}

Eigen::VectorXd Row(const torch::Tensor& q, int64_t b) {
  const torch::Tensor row = q[b].to(torch::kFloat64).contiguous();
  return Eigen::Map<const Eigen::VectorXd>(row.data_ptr<double>(), row.size(0));
}

// The penalty by the second route: the Eigen FK's frames, each coarse sphere placed by its link's
// X_FL, the overlap of every sphere pair of every checked link pair summed in long double.
double PenaltyByHand(const Panda& panda, const Eigen::VectorXd& q) {
  std::vector<Eigen::Isometry3d> X_BF;
  JointFrames(panda.geometry.chain, q, &X_BF);
  auto placed = [&](int link) {
    const LinkGeometry& l = panda.geometry.links[static_cast<size_t>(link)];
    const Eigen::Isometry3d X_BL =
        (l.frame < 0 ? Eigen::Isometry3d::Identity() : X_BF[static_cast<size_t>(l.frame)]) * l.X_FL;
    std::vector<Eigen::Vector4d> out;
    for (const LinkSpheres& s : panda.coarse.links) {
      if (s.link != l.name) continue;
      for (const Eigen::Vector4d& sphere : s.spheres) {
        Eigen::Vector4d world;
        world << X_BL * sphere.head<3>(), sphere[3];
        out.push_back(world);
      }
    }
    return out;
  };
  long double sum = 0;
  for (const auto& [a, b] : panda.link_pairs) {
    for (const Eigen::Vector4d& x : placed(a))
      for (const Eigen::Vector4d& y : placed(b))
        sum += std::max(0.0, x[3] + y[3] - (x.head<3>() - y.head<3>()).norm());
  }
  return static_cast<double>(sum);
}

TEST(CoarseSpheresTest, FourPerLinkMostlyAgreeWithTheShippedModel) {
  const Panda& panda = SharedPanda();
  ASSERT_EQ(panda.coarse.links.size(), panda.fine.links.size());
  for (size_t l = 0; l < panda.fine.links.size(); ++l) {
    EXPECT_EQ(panda.coarse.links[l].link, panda.fine.links[l].link);
    EXPECT_GT(panda.fine.links[l].spheres.size(), 4u);  // so that each link was coarsened
    EXPECT_EQ(panda.coarse.links[l].spheres.size(), 4u) << panda.fine.links[l].link;
  }
  // Links 3 and 4 are in no checked pair: only the others' spheres are kept, with 4 x 4 sphere
  // pairs per checked link pair.
  EXPECT_EQ(panda.spheres.pairs.size(), 16 * panda.link_pairs.size());
  // The verdicts of the coarse and the shipped model on 4,000 seeded uniform configurations (the
  // calibration the command's shrink 0.8 was chosen by: docs/BENCHMARKS.md): the coarse model finds
  // most of the shipped model's collisions and flags not many more.
  const SphereChecker fine(panda.geometry, panda.fine, panda.link_pairs);
  const SphereChecker coarse(panda.geometry, panda.coarse, panda.link_pairs);
  const torch::Tensor q = Configurations(panda.geometry.chain, 4000, 5);
  int in_fine = 0, in_coarse = 0, in_both = 0;
  for (int64_t b = 0; b < q.size(0); ++b) {
    const Eigen::VectorXd qb = Row(q, b);
    const bool x = fine.InCollision(qb), y = coarse.InCollision(qb);
    in_fine += x ? 1 : 0;
    in_coarse += y ? 1 : 0;
    in_both += x && y ? 1 : 0;
  }
  EXPECT_EQ(in_fine, 705);
  EXPECT_EQ(in_coarse, 767);
  EXPECT_EQ(in_both, 627);
  EXPECT_THROW(CoarsenSphereSet(panda.fine, 0, 0.8), std::invalid_argument);
  EXPECT_THROW(CoarsenSphereSet(panda.fine, 4, 0.0), std::invalid_argument);
  EXPECT_THROW(CoarsenSphereSet(panda.fine, 4, std::nan("")), std::invalid_argument);
}

// A coarse sphere by hand: a link of two spheres as one group.
TEST(CoarseSpheresTest, GroupSphereIsTheShrunkMeanAroundTheCentroid) {
  SphereSet set{"arm", "test", {{"a", {{0, 0, 0, 0.1}, {0.2, 0, 0, 0.3}}, 0, -1}}};
  const SphereSet coarse = CoarsenSphereSet(set, 1, 0.5);
  ASSERT_EQ(coarse.links[0].spheres.size(), 1u);
  // Centroid (0.1, 0, 0); mean of (0.1 + 0.1, 0.1 + 0.3) = 0.3; shrunk by 0.5.
  EXPECT_TRUE(coarse.links[0].spheres[0].isApprox(Eigen::Vector4d(0.1, 0, 0, 0.15), 1e-15));
  // A link with at most per_link spheres keeps them as they are.
  EXPECT_EQ(CoarsenSphereSet(set, 2, 0.5).links[0].spheres, set.links[0].spheres);
}

TEST(CollisionPenaltyTest, AgreesWithTheSumByHandAndWithTheSphereCheckersVerdict) {
  const Panda& panda = SharedPanda();
  const SelfCollisionPenalty penalty(panda.spheres, panda.geometry.chain.num_joints());
  const SphereChecker checker(panda.geometry, panda.coarse, panda.link_pairs);
  const torch::Tensor q = Configurations(panda.geometry.chain, 400, 2311);
  const torch::Tensor values = penalty.PerSample(panda.fk, q);
  const torch::Tensor values32 = penalty.PerSample(panda.fk, q.to(torch::kFloat32));
  int colliding = 0;
  for (int64_t b = 0; b < q.size(0); ++b) {
    const Eigen::VectorXd qb = Row(q, b);
    const double value = values[b].item<double>();
    // The epsilon under the square root adds 1e-12 / (2 d) per overlapping pair at distance d: up
    // to 1e-9 for centres 1 mm apart.
    EXPECT_NEAR(value, PenaltyByHand(panda, qb), 1e-8) << "configuration " << b;
    EXPECT_NEAR(values32[b].item<double>(), value, 1e-5) << "configuration " << b;
    const CollisionReport report = checker.Check(qb);
    // Positive exactly where the checker finds two spheres overlapping (the ties of a few ulps
    // excluded: none among these draws is within 1e-9 m of touching).
    ASSERT_GT(std::abs(report.min_distance), 1e-9);
    EXPECT_EQ(value > 0, report.in_collision)
        << "configuration " << b << ", min distance " << report.min_distance;
    colliding += report.in_collision ? 1 : 0;
  }
  // Both verdicts occur among the draws, so the agreement is not vacuous.
  EXPECT_GT(colliding, 20);
  EXPECT_LT(colliding, 380);
}

TEST(CollisionPenaltyTest, ZeroOnAClearConfigurationPositiveOnAFoldedOne) {
  const Panda& panda = SharedPanda();
  const SelfCollisionPenalty penalty(panda.spheres, panda.geometry.chain.num_joints());
  const SphereChecker checker(panda.geometry, panda.coarse, panda.link_pairs);
  // franka's "ready" posture: the hand far from the base and the shoulder.
  const Eigen::VectorXd ready = (Eigen::VectorXd(7) << 0, -0.785, 0, -2.356, 0, 1.571, 0.785).finished();
  // The elbow folded fully and the wrist turned back into the upper arm.
  const Eigen::VectorXd folded = (Eigen::VectorXd(7) << 0, 0, 0, -3.0, 0, 0.2, 0).finished();
  torch::Tensor q = torch::empty({2, 7}, torch::kFloat64);
  for (int i = 0; i < 7; ++i) {
    q[0][i] = ready[i];
    q[1][i] = folded[i];
  }
  const torch::Tensor values = penalty.PerSample(panda.fk, q);
  EXPECT_FALSE(checker.InCollision(ready));
  EXPECT_GT(checker.Check(ready).min_distance, 0.01);
  EXPECT_EQ(values[0].item<double>(), 0.0);
  EXPECT_TRUE(checker.InCollision(folded));
  EXPECT_GT(values[1].item<double>(), 0.01);
}

TEST(CollisionPenaltyTest, GradientMatchesFiniteDifferences) {
  const Panda& panda = SharedPanda();
  const SelfCollisionPenalty penalty(panda.spheres, panda.geometry.chain.num_joints());
  const torch::Tensor all = Configurations(panda.geometry.chain, 200, 977);
  const torch::Tensor values = penalty.PerSample(panda.fk, all);
  // Colliding configurations: there the penalty has a gradient to check.
  const torch::Tensor q =
      all.index_select(0, torch::nonzero(values > 1e-3).squeeze(1)).slice(0, 0, 20).clone();
  ASSERT_GE(q.size(0), 10);
  q.set_requires_grad(true);
  penalty.PerSample(panda.fk, q).sum().backward();
  const torch::Tensor grad = q.grad();
  const double h = 1e-6;
  int checked = 0;
  for (int64_t b = 0; b < q.size(0); ++b) {
    for (int i = 0; i < 7; ++i) {
      torch::Tensor plus = q.detach()[b].clone().unsqueeze(0), minus = plus.clone();
      plus[0][i] += h;
      minus[0][i] -= h;
      const double fd = (penalty.PerSample(panda.fk, plus).item<double>() -
                         penalty.PerSample(panda.fk, minus).item<double>()) /
                        (2 * h);
      // A hinge has kinks where a pair starts to overlap: none lies within h of these draws in
      // practice, and the tolerance is far below the gradients' size (~0.1 m/rad).
      EXPECT_NEAR(grad[b][i].item<double>(), fd, 1e-6) << "configuration " << b << ", joint " << i;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 7 * q.size(0));
  EXPECT_GT(grad.abs().max().item<double>(), 1e-3);
}

TEST(CollisionPenaltyTest, RefusesSpheresOffTheChain) {
  SelfCollisionSpheres spheres;
  spheres.frame = {-1, 7};
  spheres.spheres = {Eigen::Vector4d(0, 0, 0, 0.1), Eigen::Vector4d(0, 0, 0, 0.1)};
  spheres.pairs = {{0, 1}};
  EXPECT_THROW(SelfCollisionPenalty(spheres, 7), std::invalid_argument);
  spheres.frame = {-1, 6};
  spheres.pairs = {{0, 2}};
  EXPECT_THROW(SelfCollisionPenalty(spheres, 7), std::invalid_argument);
}

TEST(CollisionTrainingTest, OptionsRefusedNamingTheField) {
  TrainOptions o;
  std::string error;
  for (const double bad : {-1.0, std::nan(""), std::numeric_limits<double>::infinity(), 2e3}) {
    o.collision_weight = bad;
    EXPECT_FALSE(o.IsValid(&error)) << bad;
    EXPECT_NE(error.find("collision_weight"), std::string::npos) << error;
  }
  o.collision_weight = 0.5;
  EXPECT_TRUE(o.IsValid(&error)) << error;
  // A weight without spheres: Train refuses it before it reads or writes anything.
  const Chain chain = SharedPanda().geometry.chain;
  SamplerOptions sampler;
  sampler.kind = SamplerKind::kJoints;
  sampler.count = 200;
  const Dataset data = MakeDataset(chain, sampler);
  NetworkOptions network;
  network.target = TargetKind::kPose;
  TempDir dir;
  try {
    (void)Train(data, network, o, TrainFiles{dir.Path("m.safetensors"), "", "", false, ""});
    ADD_FAILURE() << "expected a refusal";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("collision_weight"), std::string::npos) << e.what();
  }
}

TEST(CollisionTrainingTest, ShortRunRecordsTheWeightAndTheSpheres) {
  const Panda& panda = SharedPanda();
  SamplerOptions sampler;
  sampler.kind = SamplerKind::kJoints;
  sampler.count = 3000;
  const Dataset data = MakeDataset(panda.geometry.chain, sampler);
  NetworkOptions network;
  network.target = TargetKind::kPose;
  network.depth = 2;
  network.width = 32;
  TrainOptions o;
  o.epochs = 2;
  o.threads = 1;
  o.eval_samples = 200;
  o.collision_weight = 0.25;
  o.collision_spheres = panda.spheres;
  TempDir dir;
  const std::string path = dir.Path("m.safetensors");
  const TrainResult result = Train(data, network, o, TrainFiles{path, "", "", false, ""});
  EXPECT_EQ(result.status, TrainStatus::kCompleted);
  const IkModel model = IkModel::Load(path);
  const std::string training = model.Metadata("training");
  EXPECT_NE(training.find("\"collision_weight\":0.25"), std::string::npos) << training;
  EXPECT_NE(training.find("\"collision_sphere_pairs\":" + std::to_string(panda.spheres.pairs.size())),
            std::string::npos)
      << training;
}

}  // namespace
}  // namespace deepik
