// LSTM, one node through a Session: reference (rnn_ref.cc) vs the oneDNN backend's recurrent
// kernel (rnn_onednn.cc: oneDNN/octet GEMMs plus octet's AVX2 gate loops), float and int8_dynamic
// (s8 weights per row, activations quantized at run time). Names: T<steps>xB<batch>xI<input>xH<hidden>.
// T1 is a single step (input projection + one recurrent product + gates), as a streaming model
// calls it; T50 a whole sequence. items_per_second counts time steps; GOPS counts 2 x 4H (I + H)
// multiply-adds per step (the gate loops are not counted).
#include <cmath>
#include <vector>

#include "micro_util.h"

namespace octet::micro {

namespace {

void lstm(int64_t T, int64_t B, int64_t I, int64_t H, bool dynamic) {
  const int64_t G = 4;
  const float k = 1.f / std::sqrt(static_cast<float>(H));   // PyTorch's default init range
  OneNode g;
  g.input("X", DataType::f32, {T, B, I}, random_f32(static_cast<size_t>(T * B * I), -1, 1, 1));
  if (dynamic) {
    // 8-bit codes per row; the scales map them back to about PyTorch's init range.
    std::vector<float> s(G * H, k / 127.f);
    g.constant("W", DataType::s8, {G * H, I}, random_s8(static_cast<size_t>(G * H * I), -127, 127, 2), per_channel(s));
    g.constant("R", DataType::s8, {G * H, H}, random_s8(static_cast<size_t>(G * H * H), -127, 127, 3), per_channel(s));
  } else {
    g.constant("W", DataType::f32, {1, G * H, I}, random_f32(static_cast<size_t>(G * H * I), -k, k, 2));
    g.constant("R", DataType::f32, {1, G * H, H}, random_f32(static_cast<size_t>(G * H * H), -k, k, 3));
  }
  g.constant("B", DataType::f32, {1, 2 * G * H}, random_f32(static_cast<size_t>(2 * G * H), -k, k, 4));
  g.output("Y", DataType::f32, {T, 1, B, H});
  g.output("Y_h", DataType::f32, {1, B, H});
  g.output("Y_c", DataType::f32, {1, B, H});
  g.node("LSTM", {"X", "W", "R", "B"}, {{"hidden_size", H}}, dynamic ? "int8_dynamic" : "float");
  const std::string shape = "T" + std::to_string(T) + "xB" + std::to_string(B) + "xI" + std::to_string(I) + "xH" + std::to_string(H);
  register_session(dynamic ? "BM_LstmDynamic" : "BM_LstmFloat", shape, g, Work{double(T * B), 0, 2.0 * T * B * G * H * (I + H)});
}

}  // namespace

void register_rnn_benchmarks() {
  for (bool dynamic : {true, false}) {
    lstm(1, 1, 256, 512, dynamic);
    lstm(50, 1, 256, 512, dynamic);
  }
}

}  // namespace octet::micro
