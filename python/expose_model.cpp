// deepik.Model: a trained model file, and its ONNX export.
#include <string>

#include "deepik/errors.hpp"
#include "deepik/learn/model.hpp"
#include "expose.hpp"
#ifdef DEEPIK_WITH_ONNX
#include "deepik/learn/onnx_export.hpp"
#endif

namespace deepik::python {

void ExposeModel(py::module_& m) {
  py::class_<IkModel>(m, "Model", R"doc(
A trained model file (safetensors: weights, arm, normalisation, options, history, metrics).

Model(path)
    path: a .safetensors file written by `deepik train` or deepik.train
Use it through Solver(model, "network" or "refined"): targets (n, 3) tip positions in m in the
arm's base frame (or (n, 7) poses for a pose model) -> q (n, dof) joint values in rad or m.
arm: the deepik.Arm it was trained for; network: its architecture (dict).
Raises deepik.InputError naming the file when it is missing, truncated or not a model.)doc")
      .def(py::init(&IkModel::Load), py::arg("path"))
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
      .def(
          "export_onnx",
          [](const IkModel& model, const std::string& path) {
#ifdef DEEPIK_WITH_ONNX
            py::gil_scoped_release release;
            ExportOnnx(model, path);
#else
            (void)model;
            (void)path;
            throw InputError("export: this deepik was built without ONNX support (install libonnx-dev and rebuild)");
#endif
          },
          py::arg("path"), R"doc(
Writes the network as one ONNX graph, as `deepik export --format onnx`: input 'targets' float32
(batch, 3) tip positions (m, base frame) for a position model, (batch, 9) for a pose model (the
position, then the first two columns of the tip's rotation matrix R_BT: r11, r21, r31, r12, r22,
r32) -> output 'joints' float32 (batch, dof) (rad or m); multi-head models and Newton steps
included.)doc")
      .def("__repr__", [](const IkModel& model) {
        return "deepik.Model(arm='" + model.chain().name() + "', " + NetworkOptionsToJson(model.network()) +
               ")";
      });
  ;
}

}  // namespace deepik::python
