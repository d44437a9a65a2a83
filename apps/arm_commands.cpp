// `deepik arm info` and `deepik fk`: an arm's joints, and forward kinematics of a CSV of joint values.
#include <cmath>
#include <iomanip>
#include <map>
#include <memory>
#include <ostream>
#include <sstream>

#include "cli.hpp"
#include "deepik/data/csv.hpp"
#include "deepik/kinematics/fk.hpp"
#include "geometry/geometry_commands.hpp"

namespace deepik::cli {
namespace {

constexpr double kRadToDeg = 180.0 / 3.14159265358979323846;

std::string FormatLimit(const Joint& joint, double value) {
  return FormatFixed(joint.type == JointType::kRevolute ? value * kRadToDeg : value,
                     joint.type == JointType::kRevolute ? 2 : 4);
}

const std::map<std::string, UrdfLimits> kLimitNames = {{"hard", UrdfLimits::kHard},
                                                       {"soft", UrdfLimits::kSoft}};

void AddLimitsOption(CLI::App* command, ArmSpec* arm) {
  command
      ->add_option("--limits", arm->limits,
                   "URDF joint limits: hard (<limit>, the default) or soft (<safety_controller> soft limits "
                   "within them, as TRAC-IK)")
      ->transform(CLI::CheckedTransformer(kLimitNames));
}

// Which links a URDF chain runs between and which limits it took.
void PrintUrdfChoices(const ArmSpec& spec, std::ostream& out) {
  const UrdfChainEnds ends =
      LoadUrdfChainEnds(spec.arm, UrdfOptions{spec.base_link, spec.tip_link, spec.limits});
  out << "base link: " << PrintableName(ends.base_link)
      << (spec.base_link.empty() ? " (the root link; --base to choose another)" : " (--base)") << "\n";
  out << "tip link: " << PrintableName(ends.tip_link)
      << (spec.tip_link.empty() ? " (the end of the longest actuated chain; --tip to choose another)"
                                : " (--tip)")
      << "\n";
  out << "limits: " << (spec.limits == UrdfLimits::kSoft ? "soft" : "hard") << " (";
  if (ends.joints_with_soft_limits == 0) {
    out << "no joint on the chain has soft limits)\n";
  } else {
    out << Plural(ends.joints_with_soft_limits, "joint") << " with <safety_controller> soft limits"
        << (spec.limits == UrdfLimits::kSoft ? ", used" : "; --limits soft uses them") << ")\n";
  }
}

}  // namespace

CLI::Validator NumberIn(double min, double max) {
  const std::string range = "[" + FormatDouble(min) + ", " + FormatDouble(max) + "]";
  return CLI::Validator(
      [min, max, range](std::string& text) -> std::string {
        double value = 0;
        if (CLI::detail::lexical_cast(text, value) && std::isfinite(value) && value >= min && value <= max) {
          return "";
        }
        return "expected a number in " + range + ", got '" + text + "'";
      },
      "in " + range);
}

CLI::Validator WholeNumberIn(int64_t min, int64_t max) {
  const std::string range = "[" + std::to_string(min) + ", " + std::to_string(max) + "]";
  return CLI::Validator(
      [min, max, range](std::string& text) -> std::string {
        int64_t value = 0;
        if (CLI::detail::lexical_cast(text, value) && value >= min && value <= max) return "";
        return "expected a whole number in " + range + ", got '" + text + "'";
      },
      "in " + range);
}

void AddArmOptions(CLI::App* command, ArmSpec* arm, bool required) {
  auto* option = command->add_option(
      "ARM", arm->arm, "built-in arm (seed, planar2, panda, ur5, iiwa14), DH table (.json) or URDF (.urdf)");
  if (required) option->required();
  command->add_option("--base", arm->base_link, "URDF base link (default: the root link)");
  command->add_option("--tip", arm->tip_link, "URDF tip link (default: end of the longest actuated chain)");
  AddLimitsOption(command, arm);
}

void AddArmOption(CLI::App* command, ArmSpec* arm) {
  command->add_option(
      "--arm", arm->arm,
      "instead of a model: built-in arm (seed, planar2, panda, ur5, iiwa14), DH table (.json) or "
      "URDF (.urdf), for the solvers that need no model (lm, kdl-*)");
  command->add_option("--base", arm->base_link, "URDF base link (with --arm)");
  command->add_option("--tip", arm->tip_link, "URDF tip link (with --arm)");
  AddLimitsOption(command, arm);
}

void RunArmInfo(const ArmSpec& spec, std::ostream& out) {
  const Chain chain = LoadArm(spec);
  out << "arm: " << PrintableName(chain.name()) << "\n";
  if (NamesUrdf(spec)) PrintUrdfChoices(spec, out);
  out << "dof: " << chain.num_joints() << "\n";
  out << "reach: " << std::setprecision(6) << chain.reach() << " m\n";
  out << "joints (limits in deg for revolute joints, m for prismatic ones; axis in the joint frame):\n";
  out << "  #  name                      type       axis                      lower      upper\n";
  for (int i = 0; i < chain.num_joints(); ++i) {
    const Joint& joint = chain.joint(i);
    std::ostringstream axis;
    axis << "(" << FormatFixed(joint.axis_J.x(), 3) << ", " << FormatFixed(joint.axis_J.y(), 3) << ", "
         << FormatFixed(joint.axis_J.z(), 3) << ")";
    out << "  " << std::left << std::setw(3) << i << std::setw(26) << PrintableName(joint.name)
        << std::setw(11) << ToString(joint.type) << std::setw(24) << axis.str() << std::right << std::setw(9)
        << FormatLimit(joint, joint.lower) << "  " << std::setw(9) << FormatLimit(joint, joint.upper)
        << (joint.continuous ? "  (continuous)" : "") << "\n";
  }
  const Eigen::Isometry3d X_BT = TipPose(chain, Eigen::VectorXd::Zero(chain.num_joints()));
  // + 0.0: no "-0" for a coordinate that is zero
  out << "tip at zero: (" << X_BT.translation().x() + 0.0 << ", " << X_BT.translation().y() + 0.0 << ", "
      << X_BT.translation().z() + 0.0 << ") m\n";
  ReportCollisionGeometry(spec, out);
}

void RunFk(const FkCommandOptions& options, std::ostream& log) {
  CheckDistinctFiles(options.input_path, options.output_path);
  const Chain chain = LoadArm(options.arm);
  CsvColumns columns;
  columns.count = chain.num_joints();
  NumericCsvReader input(options.input_path, columns);
  AtomicFileWriter writer(options.output_path);
  std::ostream& out = writer.stream();
  out << "x,y,z,qw,qx,qy,qz\n";
  Eigen::VectorXd q(chain.num_joints());
  NumericRows rows;
  int64_t count = 0;
  // Block by block, so that memory stays bounded whatever the file's length; a bad row anywhere
  // throws before Commit(), and the writer then discards what was written.
  while (input.ReadChunk(kCsvChunkRows, &rows)) {
    for (size_t r = 0; r < rows.size(); ++r) {
      for (int i = 0; i < chain.num_joints(); ++i) q[i] = rows.row(r)[i];
      const Eigen::Isometry3d X_BT = TipPose(chain, q);
      Eigen::Quaterniond quat(X_BT.linear());
      if (quat.w() < 0) quat.coeffs() = -quat.coeffs();  // one sign for one rotation
      const Eigen::Vector3d& p = X_BT.translation();
      out << FormatDouble(p.x()) << ',' << FormatDouble(p.y()) << ',' << FormatDouble(p.z()) << ','
          << FormatDouble(quat.w()) << ',' << FormatDouble(quat.x()) << ',' << FormatDouble(quat.y()) << ','
          << FormatDouble(quat.z()) << '\n';
    }
    count += static_cast<int64_t>(rows.size());
  }
  writer.Commit();
  log << "fk: " << Plural(count, "row") << " -> "
      << (options.output_path == kStandardStream ? "stdout" : options.output_path) << "\n";
}

void AddArmCommands(CLI::App& app, CommandSet* set) {
  CLI::App* arm = app.add_subcommand("arm", "inspect an arm");
  arm->require_subcommand(1);
  auto info = std::make_shared<ArmSpec>();
  CLI::App* info_command = arm->add_subcommand("info", "joints (name, type, axis, limits), DOF and reach");
  AddArmOptions(info_command, info.get());
  set->commands.push_back({info_command, [info] {
                             RunArmInfo(*info, std::cout);
                             return 0;
                           }});

  auto fk = std::make_shared<FkCommandOptions>();
  CLI::App* fk_command =
      app.add_subcommand("fk", "forward kinematics: joint values (CSV) -> tip poses (CSV)");
  AddArmOptions(fk_command, &fk->arm);
  fk_command
      ->add_option("--input,-i", fk->input_path,
                   "CSV: a header, then one row of joint values per line (rad, m); - for stdin")
      ->required();
  fk_command
      ->add_option("--output,-o", fk->output_path,
                   "CSV: x,y,z,qw,qx,qy,qz per input row (m, unit quaternion); - or none: stdout")
      ->capture_default_str();
  set->commands.push_back({fk_command, [fk] {
                             RunFk(*fk, std::cerr);
                             return 0;
                           }});
}

}  // namespace deepik::cli
