// deepik.make_dataset: `deepik dataset` from Python.
#include <string>

#include "deepik/data/dataset.hpp"
#include "expose.hpp"

namespace deepik::python {
namespace {

py::dict MakeDatasetFile(const Chain& chain, const std::string& output, const std::string& sampler,
                         int64_t count, double step, double step_m, double margin, uint64_t seed,
                         double train_fraction, double validation_fraction) {
  SamplerOptions options;
  options.kind = SamplerKindFromString(sampler);
  options.count = count;
  options.grid_step_deg = step;
  options.grid_step_m = step_m;
  options.margin = margin;
  options.seed = seed;
  options.train_fraction = train_fraction;
  options.validation_fraction = validation_fraction;
  py::dict sizes;
  int64_t train = 0, validation = 0, test = 0;
  double beyond = 0;
  {
    py::gil_scoped_release release;
    const Dataset data = MakeDataset(chain, options);
    SaveDataset(output, data);
    train = data.train.size();
    validation = data.validation.size();
    test = data.test.size();
    beyond = data.share_beyond_reach;
  }
  sizes["train"] = train;
  sizes["validation"] = validation;
  sizes["test"] = test;
  sizes["share_beyond_reach"] = beyond;
  return sizes;
}

}  // namespace

void ExposeDataset(py::module_& m) {
  m.def("make_dataset", &MakeDatasetFile, py::arg("arm"), py::arg("output"), py::arg("sampler") = "workspace",
        py::arg("count") = SamplerOptions{}.count, py::arg("step") = SamplerOptions{}.grid_step_deg,
        py::arg("step_m") = SamplerOptions{}.grid_step_m, py::arg("margin") = SamplerOptions{}.margin,
        py::arg("data_seed") = SamplerOptions{}.seed,
        py::arg("train_fraction") = SamplerOptions{}.train_fraction,
        py::arg("validation_fraction") = SamplerOptions{}.validation_fraction, R"doc(
Samples a dataset for `arm` (a deepik.Arm) and saves it to `output` (safetensors), as
`deepik dataset ARM -o OUTPUT`: pairs of joint values q (rad or m) and tip positions (m, base frame).
sampler: grid, joints or workspace; count: samples; step (deg) and step_m (m): the grid's steps;
margin: of the workspace ball (a fraction of the reach); data_seed: the RNG seed; train_fraction
and validation_fraction (the rest is the test split).
Returns a dict: train, validation, test (sample counts), share_beyond_reach (fraction).
Raises deepik.InputError / ValueError with the CLI's messages for bad options.)doc");
}

}  // namespace deepik::python
