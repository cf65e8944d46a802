// The machine's dense float32 matmul rate, measured once, as the denominator of MFU.
#pragma once

namespace sy::trainer {

// Best of a few 768^3 products through core::matmul, in FLOP/s (~0.1 s on two cores).
double measure_matmul_peak_flops();

}  // namespace sy::trainer
