#include "deepik/solve/solvers.hpp"

#include <cmath>
#include <stdexcept>

#include "deepik/errors.hpp"
#include "deepik/kinematics/chain_json.hpp"
#include "deepik/kinematics/fk.hpp"
#include "deepik/solve/analytic_seed.hpp"
#include "deepik/solve/kdl_solvers.hpp"

namespace deepik {
namespace {

constexpr double kNetworkTolerance = 1e-4;  // m

IkModel CopyOf(const IkModel& model) { return IkModel(model); }

std::shared_ptr<const IkModel> NonNull(std::shared_ptr<const IkModel> model, const char* solver) {
  if (model == nullptr) throw std::invalid_argument(std::string(solver) + ": expected a model, got null");
  return model;
}

}  // namespace

NetworkSolver::NetworkSolver(IkModel model) : model_(std::make_shared<const IkModel>(std::move(model))) {}

NetworkSolver::NetworkSolver(std::shared_ptr<const IkModel> model)
    : model_(NonNull(std::move(model), "NetworkSolver")) {}

SolveResult NetworkSolver::Solve(const IkTarget& target, const Eigen::VectorXd*) const {
  thread_local IkModel::Scratch scratch;
  SolveResult result;
  const IkModel& model = *model_;
  result.q.resize(model.chain().num_joints());
  // A pose model needs the orientation and a position model cannot use one: IkModel::Predict
  // refuses either mismatch with an InputError.
  if (target.Q_BT) {
    model.Predict(target.p_BT, target.Q_BT->normalized().toRotationMatrix(), result.q, &scratch);
  } else {
    model.Predict(target.p_BT, result.q, &scratch);
  }
  // Finite weights can still overflow float32 (a damaged or absurd model): the answer keeps the
  // Solver contract (finite, within the limits: mid-range for such joints) and says it failed.
  const bool finite = result.q.allFinite();
  if (!finite) {
    const Chain& chain = model.chain();
    for (int j = 0; j < chain.num_joints(); ++j) {
      if (!std::isfinite(result.q[j])) result.q[j] = 0.5 * (chain.joint(j).lower + chain.joint(j).upper);
    }
  }
  result.p_reached = TipPosition(model.chain(), result.q);
  result.error = (result.p_reached - target.p_BT).norm();
  MeasureOrientation(model.chain(), target, &result);
  const bool reached = target.has_orientation() || target.has_bounds()
                           ? WithinTolerance(target, result.Q_reached.toRotationMatrix(), result.p_reached,
                                             kNetworkTolerance, kNetworkTolerance)
                           : result.error <= kNetworkTolerance;
  if (!finite || !model.chain().WithinLimits(result.q)) {
    result.status = SolveStatus::kFailed;  // a free head can leave the limits: no valid answer
  } else {
    result.status = reached ? SolveStatus::kConverged : SolveStatus::kApproximate;
  }
  return result;
}

RefinedSolver::RefinedSolver(IkModel model, const RefineOptions& options, const PoseRefineOptions& pose)
    : RefinedSolver(std::make_shared<const IkModel>(std::move(model)), options, pose) {}

RefinedSolver::RefinedSolver(std::shared_ptr<const IkModel> model, const RefineOptions& options,
                             const PoseRefineOptions& pose)
    : network_(NonNull(std::move(model), "RefinedSolver")), options_(options), pose_(pose) {
  std::string error;
  if (!options_.IsValid(&error)) throw std::invalid_argument("refine options: " + error);
  if (!pose_.IsValid(&error)) throw std::invalid_argument("pose refine options: " + error);
}

SolveResult RefinedSolver::Solve(const IkTarget& target, const Eigen::VectorXd* q_start) const {
  const bool pose = target.has_orientation() || target.has_bounds();
  if (q_start != nullptr) {
    if (pose) return RefinePose(chain(), target, *q_start, pose_);
    SolveResult result = RefinePosition(chain(), target.p_BT, *q_start, options_);
    MeasureOrientation(chain(), target, &result);
    return result;
  }
  thread_local IkModel::Scratch scratch;
  Eigen::VectorXd q(chain().num_joints());
  // A pose model starts from the full pose; a position model gives a start for a pose target too
  // (its answer for the position). A position-only target on a pose model is refused by Predict.
  // The start in float32 arithmetic: faster, and the refinement makes up for its rounding.
  const IkModel& model = network_.model();
  constexpr ForwardPrecision kStart = ForwardPrecision::kFloat32;
  if (model.target() == TargetKind::kPose && target.Q_BT) {
    model.Predict(target.p_BT, target.Q_BT->normalized().toRotationMatrix(), q, &scratch, kStart);
  } else {
    model.Predict(target.p_BT, q, &scratch, kStart);
  }
  if (!q.allFinite()) q = chain().mid_configuration();  // a damaged model: start mid-range
  if (pose) return RefinePose(chain(), target, q, pose_);
  SolveResult result = RefinePosition(chain(), target.p_BT, std::move(q), options_);
  MeasureOrientation(chain(), target, &result);
  return result;
}

std::vector<Eigen::VectorXd> RefinedSolver::ProposeStarts(const IkTarget& target) const {
  const IkModel& model = network_.model();
  if (model.heads() == 1) return {};
  // The same network input as Solve's start: the pose for a pose model, else the position.
  const bool with_orientation = model.target() == TargetKind::kPose && target.Q_BT;
  const Eigen::Matrix3d R_BT =
      with_orientation ? target.Q_BT->normalized().toRotationMatrix() : Eigen::Matrix3d::Identity();
  int best = 0;
  const Eigen::MatrixXd heads =
      model.PredictHeads(target.p_BT, with_orientation ? &R_BT : nullptr, &best, ForwardPrecision::kFloat32);
  std::vector<Eigen::VectorXd> starts;
  for (int h = 0; h < model.heads(); ++h) {
    if (h != best && heads.col(h).allFinite()) starts.emplace_back(heads.col(h));
  }
  return starts;
}

std::optional<SeedArmOptions> SeedArmOptionsOf(const Chain& chain) {
  if (chain.num_joints() != 4) return std::nullopt;
  constexpr double kRadToDeg = 180.0 / M_PI;
  SeedArmOptions options;
  options.link1_length = chain.joint(2).X_PJ.translation().z();
  options.link2_length = chain.X_LT().translation().z();
  options.shoulder_yaw_limit_deg = chain.joint(0).upper * kRadToDeg;
  options.shoulder_pitch_limit_deg = chain.joint(1).upper * kRadToDeg;
  options.elbow_yaw_limit_deg = chain.joint(2).upper * kRadToDeg;
  options.elbow_pitch_limit_deg = chain.joint(3).upper * kRadToDeg;
  if (!options.IsValid(nullptr)) return std::nullopt;
  // Exact up to the rounding of the degree conversion: compare the kinematics, not the bits.
  const Chain candidate = MakeSeedArm(options);
  if (candidate.name() != chain.name()) return std::nullopt;
  for (int j = 0; j < 4; ++j) {
    const Joint &a = chain.joint(j), &b = candidate.joint(j);
    if (a.name != b.name || a.type != b.type || (a.axis_J - b.axis_J).norm() > 1e-12 ||
        !a.X_PJ.isApprox(b.X_PJ, 1e-12) || std::abs(a.lower - b.lower) > 1e-12 ||
        std::abs(a.upper - b.upper) > 1e-12) {
      return std::nullopt;
    }
  }
  if (!chain.X_LT().isApprox(candidate.X_LT(), 1e-12)) return std::nullopt;
  return options;
}

std::vector<std::string> SolverNames() {
  return {"network", "refined", "lm", "analytic", "kdl-nr", "kdl-nr-restarts", "kdl-lma", "kdl-lma-restarts"};
}

bool SolverNeedsModel(const std::string& name) { return name == "network" || name == "refined"; }

std::string DefaultSolverName(bool with_model) { return with_model ? "refined" : "lm"; }

std::unique_ptr<Solver> MakeSolver(const std::string& name, const Chain& chain, const IkModel* model,
                                   const SolverSettings& settings) {
  // Only the solvers that keep the model get a copy of it.
  return MakeSolver(name, chain,
                    model != nullptr && SolverNeedsModel(name) ? std::make_shared<const IkModel>(*model)
                                                               : std::shared_ptr<const IkModel>(),
                    settings);
}

std::unique_ptr<Solver> MakeSolver(const std::string& name, const Chain& chain,
                                   const std::shared_ptr<const IkModel>& model,
                                   const SolverSettings& settings) {
  if (SolverNeedsModel(name) && model == nullptr) {
    throw InputError("--solver " + name +
                     ": needs a model (--model); without one use lm, kdl-nr, kdl-nr-restarts, "
                     "kdl-lma or kdl-lma-restarts");
  }
  if (name == "network") return std::make_unique<NetworkSolver>(model);
  if (name == "refined") return std::make_unique<RefinedSolver>(model, settings.refine, settings.pose);
  if (name == "lm") return std::make_unique<LmSolver>(chain, settings.pose, settings.refine);
  if (name == "analytic") {
    const std::optional<SeedArmOptions> seed = SeedArmOptionsOf(chain);
    if (!seed)
      throw InputError("--solver analytic: the closed form exists for the seed arm only, not for '" +
                       chain.name() + "'");
    return std::make_unique<AnalyticSeedSolver>(*seed);
  }
  if (name == "kdl-nr") return MakeKdlSolver(chain, KdlMethod::kNewtonRaphsonJl);
  if (name == "kdl-lma") return MakeKdlSolver(chain, KdlMethod::kLma);
  if (name == "kdl-nr-restarts" || name == "kdl-lma-restarts") {
    KdlOptions options = MoveItKdlOptions();
    options.timeout_seconds = settings.pose.timeout_seconds;
    return MakeKdlSolver(
        chain, name == "kdl-nr-restarts" ? KdlMethod::kNewtonRaphsonJlRestarts : KdlMethod::kLmaRestarts,
        options);
  }
  std::string known;
  for (const std::string& n : SolverNames()) known += (known.empty() ? "" : ", ") + n;
  throw InputError("--solver: expected one of " + known + ", got '" + name + "'");
}

std::unique_ptr<Solver> MakeSolver(const std::string& name, const IkModel& model,
                                   const RefineOptions& refine) {
  if (name == "network") return std::make_unique<NetworkSolver>(CopyOf(model));
  if (name == "refined") return std::make_unique<RefinedSolver>(CopyOf(model), refine);
  if (name == "analytic") {
    const std::optional<SeedArmOptions> seed = SeedArmOptionsOf(model.chain());
    if (!seed)
      throw InputError("--solver analytic: the closed form exists for the seed arm only, not for '" +
                       model.chain().name() + "'");
    return std::make_unique<AnalyticSeedSolver>(*seed);
  }
  if (name == "kdl-nr") return MakeKdlSolver(model.chain(), KdlMethod::kNewtonRaphsonJl);
  if (name == "kdl-nr-restarts") {
    return MakeKdlSolver(model.chain(), KdlMethod::kNewtonRaphsonJlRestarts, MoveItKdlOptions());
  }
  if (name == "kdl-lma") return MakeKdlSolver(model.chain(), KdlMethod::kLma);
  if (name == "lm" || name == "kdl-lma-restarts") {
    SolverSettings settings;
    settings.refine = refine;
    return MakeSolver(name, model.chain(), &model, settings);
  }
  std::string known;
  for (const std::string& n : SolverNames()) known += (known.empty() ? "" : ", ") + n;
  throw InputError("--solver: expected one of " + known + ", got '" + name + "'");
}

}  // namespace deepik
