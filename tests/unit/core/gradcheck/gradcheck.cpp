#include "tests/unit/core/gradcheck/gradcheck.h"

#include <cmath>
#include <sstream>

#include "core/autograd/grad_mode.h"

namespace sy::core::testing {

std::vector<GradcheckCase>& gradcheck_cases() {
  static std::vector<GradcheckCase> cases;
  return cases;
}

GradcheckRegistrar::GradcheckRegistrar(const char* op, const char* name, GradcheckFactory make) {
  gradcheck_cases().push_back({op, name, make});
}

namespace {

double projected(const Tensor& out, const std::vector<float>& r) {
  const std::vector<float> v = out.to_vector();
  double s = 0.0;
  for (size_t i = 0; i < v.size(); ++i) s += static_cast<double>(v[i]) * r[i];
  return s;
}

}  // namespace

GradcheckResult run_gradcheck(GradcheckSpec spec, Rng& rng) {
  for (Tensor& x : spec.inputs) {
    x.clear_grad();
    x.set_requires_grad(true);
  }
  Tensor out = spec.fn(spec.inputs);
  const Tensor projection = rng.normal(out.shape());
  const std::vector<float> r = projection.to_vector();
  out.backward(projection);

  GradcheckResult result;
  double worst_excess = -1.0;
  NoGradGuard no_grad;
  for (size_t i = 0; i < spec.inputs.size(); ++i) {
    Tensor& x = spec.inputs[i];
    const std::vector<float> analytic =
        x.grad().defined() ? x.grad().to_vector() : std::vector<float>(x.numel(), 0.0f);
    float* data = x.f32();
    for (int64_t j = 0; j < x.numel(); ++j) {
      const float saved = data[j];
      data[j] = saved + static_cast<float>(spec.eps);
      const double plus = projected(spec.fn(spec.inputs), r);
      data[j] = saved - static_cast<float>(spec.eps);
      const double minus = projected(spec.fn(spec.inputs), r);
      data[j] = saved;
      // The step actually taken in float32, not the nominal eps.
      const double step = static_cast<double>(saved + static_cast<float>(spec.eps)) -
                          static_cast<double>(saved - static_cast<float>(spec.eps));
      const double numeric = (plus - minus) / step;
      const double ana = analytic[static_cast<size_t>(j)];
      const double err = std::abs(numeric - ana);
      const double excess = err - (spec.atol + spec.rtol * std::abs(numeric));
      result.max_abs_error = std::max(result.max_abs_error, err);
      if (excess > worst_excess) {
        worst_excess = excess;
        std::ostringstream os;
        os << "input " << i << " " << x.shape().to_string() << " element " << j << ": numeric "
           << numeric << " analytic " << ana;
        result.worst = os.str();
      }
      if (excess > 0) result.ok = false;
    }
  }
  return result;
}

}  // namespace sy::core::testing
