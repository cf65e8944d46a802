// The machine's dense float32 matmul rate, measured once, as the denominator of MFU.
#pragma once

namespace sy::trainer {

// Best of six 1024^3 products through core::matmul, in FLOP/s (~0.1 s on two cores). On a
// machine shared with other work this is what the process can get now, so MFU stays comparable.
double measure_matmul_peak_flops();

}  // namespace sy::trainer
