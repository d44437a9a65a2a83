// deepik.Model: a trained model file, and its ONNX export.
#include <filesystem>
#include <string>

#include "deepik/data/csv.hpp"
#include "deepik/errors.hpp"
#include "deepik/learn/model.hpp"
#include "expose.hpp"
#ifdef DEEPIK_WITH_ONNX
#include "deepik/learn/onnx_export.hpp"
#endif

namespace deepik::python {
namespace {

// The file a Model was loaded from, absolute (the working folder may change before an export): an
// attribute of the Python object, since IkModel keeps no path.
constexpr const char* kSourcePath = "_source_path";

// Model.export_onnx: refuses the model's own file (by device and inode, through links, as the
// command line's outputs do), then writes the graph.
void ExportModel(const py::object& self, const std::string& path) {
  const IkModel& model = self.cast<const IkModel&>();
  if (py::hasattr(self, kSourcePath)) {
    CheckOutputsAreNotInputs({{"the Model's file", self.attr(kSourcePath).cast<std::string>()}},
                             {{"export_onnx: path", path}});
  }
#ifdef DEEPIK_WITH_ONNX
  py::gil_scoped_release release;
  ExportOnnx(model, path);
#else
  (void)model;
  throw InputError("export: this deepik was built without ONNX support (install libonnx-dev and rebuild)");
#endif
}

}  // namespace

void ExposeModel(py::module_& m) {
  py::class_<IkModel> model_class(m, "Model", py::dynamic_attr(), R"doc(
A trained model file (safetensors: weights, arm, normalisation, options, history, metrics).

Model(path)
    path: a .safetensors file written by `deepik train` or deepik.train
Use it through Solver(model, "network" or "refined"): targets (n, 3) tip positions in m in the
arm's base frame (or (n, 7) poses for a pose model) -> q (n, dof) joint values in rad or m.
arm: the deepik.Arm it was trained for; network: its architecture (dict).
Raises deepik.InputError naming the file when it is missing, truncated or not a model.)doc");
  model_class.def(py::init(&IkModel::Load), py::arg("path"))
      .def_property_readonly("arm", &IkModel::chain, py::return_value_policy::reference_internal,
                             "the arm the model was trained for")
      .def_property_readonly(
          "network",
          [](const IkModel& model) {
            return py::module_::import("json").attr("loads")(NetworkOptionsToJson(model.network()));
          },
          "the architecture: depth, width, activation, head, periodic_sincos")
      .def(
          "metadata", [](const IkModel& model, const std::string& key) { return model.Metadata(key); },
          py::arg("key"),
          "a metadata JSON text of the file: 'training' (options), 'history', 'metrics', 'arm' ('' when "
          "absent)")
      .def("export_onnx", &ExportModel, py::arg("path"), R"doc(
Writes the network as one ONNX graph, as `deepik export --format onnx`: input 'targets' float32
(batch, 3) tip positions (m, base frame) for a position model, (batch, 9) for a pose model (the
position, then the first two columns of the tip's rotation matrix R_BT: r11, r21, r31, r12, r22,
r32) -> output 'joints' float32 (batch, dof) (rad or m); multi-head models and Newton steps
included. Raises deepik.InputError when path is the model's own file (directly or through a
link): the export would destroy the model.)doc")
      .def("__repr__", [](const IkModel& model) {
        return "deepik.Model(arm='" + model.chain().name() + "', " + NetworkOptionsToJson(model.network()) +
               ")";
      });
  // Model(path) remembers its file: the loading __init__, then the absolute path beside it.
  py::object load = model_class.attr("__init__");
  model_class.attr("__init__") = py::cpp_function(
      [load](py::object self, const std::string& path) {
        load(self, path);
        self.attr(kSourcePath) = std::filesystem::absolute(path).string();
      },
      py::name("__init__"), py::is_method(model_class), py::arg("path"),
      "Loads the model file `path` (a .safetensors file written by `deepik train` or deepik.train).");
}

}  // namespace deepik::python
