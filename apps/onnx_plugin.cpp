// `deepik export`'s work, in a plugin (deepik_onnx_commands.so) that the command loads only when
// `export` runs: ONNX export links protobuf and Debian's ONNX classes, whose loading and static
// set-up every other command would otherwise pay at start.
#include <ostream>

#include "commands.hpp"
#include "deepik/learn/model.hpp"
#include "deepik/learn/onnx_export.hpp"

extern "C" void deepik_run_onnx_export(const deepik::cli::ExportCommandOptions* options, std::ostream* log) {
  const deepik::IkModel model = deepik::IkModel::Load(options->model_path);
  deepik::ExportOnnx(model, options->output_path);
  *log << "export: " << options->model_path << " -> " << options->output_path << " (ONNX, input 'targets' "
       << deepik::OnnxInputDescription(model.target()) << ", output 'joints' [batch, "
       << model.chain().num_joints() << "])\n";
}
